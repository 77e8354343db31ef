"""Pseudonymisation of user ids on their way into ``growth`` (``GROWTH_PSEUDONYMISE_KEY``).

``raw`` keeps the sources' payloads as they came (so reconciliation, re-normalisation and a
rebuild under a new key work from the warehouse alone); the steps that copy user ids out of
``raw`` replace them here, in their own transaction, before anything is written to ``growth``:

* the normalisers, on their staged candidate events: ``user_id`` and the properties that hold
  user identifiers (``Normaliser.identity_paths``: Stripe's customer id, Mixpanel's identity
  properties), before validation, so the rejects and checks see what will be stored;
* ``growth.subscriptions``: its ``customer_id`` and ``user_id``.

Every other table of ``growth`` and every ``analytics`` view derives its user ids from these.
The pairs are computed in Python (``resources/pseudonyms.py``) and COPYed into a temporary
table, so the key never reaches the server. :func:`check_space` runs first in each such
transaction and refuses to mix pseudonym spaces.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Connection

from resources.pseudonyms import KEY_VARIABLE, PseudonymisationError, Pseudonymiser
from resources.warehouse import Warehouse

REBUILD_HINT = (
    "rebuild growth from raw under the new setting: `growth-assets pseudonyms forget --yes`, "
    "then re-materialise the canonical and downstream assets (docs/security.md, "
    "'Pseudonymisation')"
)


def _short(fingerprint: str) -> str:
    return fingerprint.rsplit(":", 1)[-1][:12]


def space_mismatch(conn: Connection, pseudonyms: Pseudonymiser | None) -> str | None:
    """Why ``growth`` cannot take user ids under this setting (what it holds, what the setting
    asks for, the fix: a rebuild), or None when it can. Never shows a key (fingerprints are
    shortened to 12 hex digits)."""
    current = None if pseudonyms is None else pseudonyms.fingerprint
    rows = Warehouse.fetch_file(conn, "models/pseudonym_space")
    if not rows:  # nothing recorded: whatever growth holds was stored without a key
        holds = bool(Warehouse.fetch_file(conn, "models/holds_user_ids")[0].holds)
        recorded = None if holds else current
    else:
        recorded = rows[0].key_fingerprint
    if recorded == current:
        return None
    if recorded is None:
        return (
            f"{KEY_VARIABLE} is set, but this warehouse holds user ids stored without "
            f"pseudonymisation: pseudonyms would mix with raw ids; {REBUILD_HINT}"
        )
    if current is None:
        return (
            f"{KEY_VARIABLE} is not set, but this warehouse holds user ids pseudonymised under "
            f"the key with fingerprint {_short(recorded)}…: raw ids would mix with pseudonyms; "
            f"set the same key again, or {REBUILD_HINT}"
        )
    return (
        f"{KEY_VARIABLE} has changed: this warehouse holds user ids pseudonymised under the key "
        f"with fingerprint {_short(recorded)}…, the key set now has fingerprint "
        f"{_short(current)}…; two pseudonym spaces would break every join and distinct count: "
        f"set the previous key again, or {REBUILD_HINT}"
    )


def check_space(conn: Connection, pseudonyms: Pseudonymiser | None) -> None:
    """Record this warehouse's pseudonym space on first use; refuse a different one with a
    :class:`PseudonymisationError` (:func:`space_mismatch`)."""
    current = None if pseudonyms is None else pseudonyms.fingerprint
    Warehouse.run_file(conn, "models/record_pseudonym_space", {"fingerprint": current})
    problem = space_mismatch(conn, pseudonyms)
    if problem is not None:
        raise PseudonymisationError(problem)


def _load_pairs(conn: Connection, pseudonyms: Pseudonymiser, identifiers: Sequence[str]) -> int:
    Warehouse.run_file(conn, "models/pseudonyms_table")
    return Warehouse.copy_rows(
        conn, "pseudonyms", ("identifier", "pseudonym"), pseudonyms.pairs(identifiers)
    )


def pseudonymise_staged(
    conn: Connection, pseudonyms: Pseudonymiser, paths: Sequence[Sequence[str]]
) -> int:
    """Replace the user ids of ``staged_events`` (``user_id`` and the properties at ``paths``)
    by their pseudonyms; return how many distinct identifiers were replaced."""
    found = Warehouse.fetch_file(
        conn, "models/staged_identifiers", {"paths": orjson.dumps(list(paths)).decode()}
    )
    n = _load_pairs(conn, pseudonyms, [row.identifier for row in found])
    Warehouse.run_file(conn, "models/pseudonymise_staged")
    for path in paths:
        Warehouse.run_file(conn, "models/pseudonymise_staged_property", {"path": list(path)})
    return n


def subscription_pseudonyms(
    conn: Connection, pseudonyms: Pseudonymiser | None, params: dict[str, object]
) -> int:
    """Fill ``pg_temp.pseudonyms`` for the raw subscriptions of the window in ``params`` (left
    empty when pseudonymisation is off: ``upsert_subscriptions`` then keeps the ids)."""
    if pseudonyms is None:
        Warehouse.run_file(conn, "models/pseudonyms_table")
        return 0
    found = Warehouse.fetch_file(conn, "models/subscription_identifiers", params)
    return _load_pairs(conn, pseudonyms, [row.identifier for row in found])


def forget_user_ids(warehouse: Warehouse) -> None:
    """Empty what ``growth`` holds of user ids and the recorded pseudonym space, keeping
    ``raw`` (``sql/ops/forget_user_ids.sql``): the first step of a rebuild under a new key."""
    with warehouse.transaction() as conn:
        Warehouse.run_file(conn, "ops/forget_user_ids")
