"""The source objects the warehouse ingests, and how each is keyed and windowed.

Each stream lands in its own ``raw.<source>_<stream>`` table. ``id_path`` is the field that
identifies a record at the source (the upsert key); ``time_path`` is the field the source
windows on, which decides the hourly partition a record belongs to.

API quirks that shape these choices:

* Mixpanel sends the same event more than once; ``$insert_id`` is its own dedupe key.
* Stripe lists are windowed on ``created``; lifecycle changes arrive as Event objects.
* Zendesk's incremental export returns a ticket once, in its latest state, at ``updated_at``.

Grain. Mixpanel events and Zendesk tickets are hourly partitions: product usage and support
load move within the day, and their APIs are read per hour (Mixpanel's export per day, kept to
its hour). Every Stripe stream is a daily partition: billing objects arrive at human pace, a
day of charges is a few pages, and re-running today's partition every hour keeps today current
for the hourly rollups and alerts. It is also what makes long backfills affordable: Dagster
records every partition of a single-run backfill, about 16 s per asset (plus about 8 s per
check) for two years of hours, against under a second for the same two years of days. For
customers, subscriptions and invoices, re-running a day re-snapshots the objects created that
day in their current state (the re-snapshot schedule in ``stripe_schedules`` does this for the
trailing 35 days, because Stripe keeps the change events for 30 days only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dagster import AssetKey


@dataclass(frozen=True)
class StreamSpec:
    source: str
    stream: str
    id_path: tuple[str, ...]
    time_path: tuple[str, ...]
    time_format: Literal["epoch", "iso"]
    description: str
    grain: Literal["hourly", "daily"] = "hourly"
    # A raw table shared by several sources and keyed by (source, id), such as
    # raw.tabular_records for the configured file and SQL sources; None: raw.<source>_<stream>.
    shared_table: str | None = None

    @property
    def name(self) -> str:
        return f"{self.source}_{self.stream}"

    @property
    def raw_table(self) -> str:
        return self.shared_table or f"raw.{self.name}"

    @property
    def asset_key(self) -> AssetKey:
        return AssetKey(["raw", self.name])


STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        "mixpanel",
        "events",
        ("properties", "$insert_id"),
        ("properties", "time"),
        "epoch",
        "Mixpanel raw-export events, deduplicated on $insert_id.",
    ),
    StreamSpec(
        "stripe",
        "customers",
        ("id",),
        ("created",),
        "epoch",
        "Stripe customers created in the window.",
        grain="daily",
    ),
    StreamSpec(
        "stripe",
        "subscriptions",
        ("id",),
        ("created",),
        "epoch",
        "Stripe subscriptions (status=all) created in the window, latest state.",
        grain="daily",
    ),
    StreamSpec(
        "stripe",
        "invoices",
        ("id",),
        ("created",),
        "epoch",
        "Stripe invoices created in the window, latest state (amounts in minor units).",
        grain="daily",
    ),
    StreamSpec(
        "stripe",
        "events",
        ("id",),
        ("created",),
        "epoch",
        "Stripe Event objects: subscription created, updated and deleted.",
        grain="daily",
    ),
    StreamSpec(
        "stripe",
        "charges",
        ("id",),
        ("created",),
        "epoch",
        "Stripe charges created in the window (amounts in minor units).",
        grain="daily",
    ),
    StreamSpec(
        "stripe",
        "refunds",
        ("id",),
        ("created",),
        "epoch",
        "Stripe refunds created in the window (amounts in minor units).",
        grain="daily",
    ),
    StreamSpec(
        "zendesk",
        "tickets",
        ("id",),
        ("updated_at",),
        "iso",
        "Zendesk tickets from the incremental export, latest state at updated_at.",
    ),
)

SOURCES: tuple[str, ...] = tuple(dict.fromkeys(s.source for s in STREAMS))


def streams_of(source: str) -> tuple[StreamSpec, ...]:
    return tuple(s for s in STREAMS if s.source == source)
