"""Load SQL from the repository's ``sql/`` folder by name.

Python composes, SQL computes: every statement the pipeline runs lives in a ``.sql`` file.
Values are always bound parameters (``:name``, SQLAlchemy style). The few statements that
must vary an identifier (a raw table's name) mark it ``{{name}}``; those are filled only with
identifiers quoted by the dialect, never with free text.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

_IDENT_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_SAFE_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def sql_dir() -> Path:
    """The folder holding the project's SQL (``GROWTH_SQL_DIR`` overrides the repo's ``sql/``)."""
    override = os.environ.get("GROWTH_SQL_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[1] / "sql"


def read_sql(name: str) -> str:
    """Return the text of ``sql/<name>.sql``; ``name`` may contain sub-folders (``models/x``)."""
    return _read(sql_dir() / f"{name}.sql")


@functools.cache
def _read(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {path} does not exist")
    return path.read_text(encoding="utf-8")


def quote_ident(name: str) -> str:
    """Quote a (possibly schema-qualified) identifier made of lower-case letters, digits, ``_``.

    Anything else is refused: identifiers come from the project's own settings, and refusing
    odd names is safer than escaping them.
    """
    parts = name.split(".")
    if not parts or len(parts) > 2 or not all(_SAFE_IDENT.match(p) for p in parts):
        raise ValueError(f"refusing unsafe SQL identifier {name!r}")
    return ".".join(f'"{p}"' for p in parts)


def render(name: str, **identifiers: str) -> str:
    """Load ``sql/<name>.sql`` and fill its ``{{placeholders}}`` with quoted identifiers."""
    text = read_sql(name)

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in identifiers:
            raise KeyError(f"sql/{name}.sql needs identifier {key!r}")
        return quote_ident(identifiers[key])

    return _IDENT_PLACEHOLDER.sub(fill, text)


def strip_comments(text: str) -> str:
    """Remove ``--`` comments outside string literals (bind-parameter parsing must not see
    ``:names`` written in comments)."""
    out = []
    for line in text.splitlines():
        in_quote = False
        cut = len(line)
        for i, ch in enumerate(line):
            if ch == "'":
                in_quote = not in_quote
            elif not in_quote and line.startswith("--", i):
                cut = i
                break
        kept = line[:cut].rstrip()
        if kept:
            out.append(kept)
    return "\n".join(out)


def statements(text: str) -> list[str]:
    """Split a parameterised SQL file into statements at lines ending with ``;``.

    Parameterised statements go to the server one at a time (the extended protocol allows
    only one), so files used with parameters keep one statement per ``;``-terminated line
    block and contain no dollar-quoted bodies. Comments are removed.
    """
    parts = re.split(r";[ \t]*$", strip_comments(text), flags=re.MULTILINE)
    return [part.strip() for part in parts if part.strip()]
