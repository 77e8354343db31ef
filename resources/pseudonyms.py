"""Keyed pseudonyms for user identifiers (``GROWTH_PSEUDONYMISE_KEY``; docs/security.md).

With the key set, every user identifier that enters ``growth`` is replaced by
``HMAC-SHA256(key, identifier)``, hex-encoded and truncated to its first 128 bits (32 hex
characters). The same key gives the same pseudonym for the same identifier whatever the source,
so Stripe's ``metadata.user_id``, Mixpanel's ``distinct_id`` and the Zendesk user field still
join, and every distinct count is unchanged (a collision among 2^128 values is not a practical
concern at any warehouse's scale).

The hashing happens here, in the pipeline's process, never in SQL: the key is never sent to
the database server (not even as a bind parameter a server log could record), so it can only
leak from the environment it is set in. It is kept off reprs, descriptions and error messages.

A warehouse must never mix two pseudonym spaces (two keys, or pseudonyms and raw ids): the key's
*fingerprint* (an HMAC of a fixed text, which does not reveal the key) is recorded in
``ops.pseudonymisation`` and compared by every step that writes user ids.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from dagster import EnvVar

KEY_VARIABLE = "GROWTH_PSEUDONYMISE_KEY"
MIN_KEY_BYTES = 16
PSEUDONYM_HEX_CHARS = 32  # 128 bits of the 256-bit HMAC-SHA256
ALGORITHM = f"hmac-sha256/hex{PSEUDONYM_HEX_CHARS}"
_FINGERPRINT_MESSAGE = b"growth-assets pseudonymisation key fingerprint v1"


class PseudonymisationError(ValueError):
    """The key is unusable, or the warehouse holds another pseudonym space. Messages name the
    variable and the fix, never the key."""


@dataclass(frozen=True)
class Pseudonymiser:
    """HMAC-SHA256 pseudonyms under one key. The key is not part of the repr."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise PseudonymisationError(
                f"{KEY_VARIABLE} is too short ({len(self.key)} bytes): pseudonymisation needs "
                f"a secret of at least {MIN_KEY_BYTES} bytes (e.g. 32 random bytes as 64 hex "
                "characters: `openssl rand -hex 32`)"
            )

    def pseudonym(self, identifier: str) -> str:
        """The pseudonym of one identifier (its UTF-8 bytes)."""
        digest = hmac.new(self.key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()
        return digest[:PSEUDONYM_HEX_CHARS]

    def pairs(self, identifiers: Iterable[str]) -> Iterator[tuple[str, str]]:
        """``(identifier, pseudonym)`` for each identifier."""
        for identifier in identifiers:
            yield identifier, self.pseudonym(identifier)

    @property
    def fingerprint(self) -> str:
        """Which key this is, without revealing it: the full HMAC of a fixed text, with the
        algorithm, as recorded in ``ops.pseudonymisation``."""
        mac = hmac.new(self.key, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()
        return f"{ALGORITHM}:{mac}"


def key_text(value: str | EnvVar | None) -> str | None:
    """The key's text from a setting that may be an ``EnvVar`` (resolved here, at run time);
    ``None`` or empty: pseudonymisation is off."""
    if isinstance(value, EnvVar):
        value = value.get_value()
    return value or None


def pseudonymiser(value: str | EnvVar | None) -> Pseudonymiser | None:
    """The pseudonymiser for a configured key, or ``None`` when pseudonymisation is off.
    A key shorter than :data:`MIN_KEY_BYTES` bytes is refused."""
    text = key_text(value)
    return None if text is None else Pseudonymiser(text.encode("utf-8"))
