"""Metadata helpers shared by assets: the window a run covered, previews as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dagster import MetadataValue


def window_metadata(start: datetime, end: datetime, partitions: str) -> dict[str, Any]:
    return {
        "window_start": MetadataValue.timestamp(start),
        "window_end": MetadataValue.timestamp(end),
        "partitions": partitions,
    }


def markdown_table(rows: Sequence[Any], columns: Sequence[str], limit: int = 20) -> MetadataValue:
    """A Markdown preview of query rows for the Dagster UI."""
    head = "| " + " | ".join(columns) + " |\n| " + " | ".join("---" for _ in columns) + " |\n"
    body = "".join(
        "| " + " | ".join(str(getattr(r, c)) for c in columns) + " |\n" for r in rows[:limit]
    )
    return MetadataValue.md(head + body)
