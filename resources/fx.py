"""Where daily FX rates come from: a CSV file (production) or the demo simulator.

Rates are "units of ``base`` per one unit of ``currency``" per day. The warehouse stores them
converted to the reporting currency (cross rates through the base), so a conversion is one
lookup of the latest rate on or before the event's day. A missing rate is never assumed 1.0.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from dagster import ConfigurableResource
from pydantic import Field

from resources.clients import DemoSettings


@dataclass(frozen=True)
class FxRate:
    day: date
    currency: str
    rate: float  # units of `base` per unit of `currency`
    base: str


class FxRatesSource(ConfigurableResource, ABC):
    @abstractmethod
    def rates(self) -> list[FxRate]:
        """All known daily rates."""


class CsvFxRates(FxRatesSource):
    """Rates from a CSV with columns ``day,currency,rate[,base]`` (base defaults to USD)."""

    path: str = Field(description="Path of the CSV file (GROWTH_FX_RATES_CSV).")

    def rates(self) -> list[FxRate]:
        file = Path(self.path)
        if not file.is_file():
            raise FileNotFoundError(f"FX rates file {file} (GROWTH_FX_RATES_CSV) does not exist")
        frame = pl.read_csv(file, try_parse_dates=True)
        missing = {"day", "currency", "rate"} - set(frame.columns)
        if missing:
            raise ValueError(f"FX rates file {file} lacks column(s) {sorted(missing)}")
        if "base" not in frame.columns:
            frame = frame.with_columns(pl.lit("USD").alias("base"))
        frame = frame.with_columns(pl.col("day").cast(pl.Date), pl.col("rate").cast(pl.Float64))
        bad = frame.filter(pl.col("rate").is_null() | (pl.col("rate") <= 0))
        if bad.height:
            raise ValueError(
                f"FX rates file {file}: {bad.height} row(s) with a missing or non-positive rate"
            )
        return [
            FxRate(r["day"], str(r["currency"]).upper(), float(r["rate"]), str(r["base"]).upper())
            for r in frame.iter_rows(named=True)
        ]


class DemoFxRates(FxRatesSource):
    """The demo simulator's daily USD rates."""

    demo: DemoSettings

    def rates(self) -> list[FxRate]:
        return [
            FxRate(r["day"], str(r["currency"]).upper(), float(r["rate"]), "USD")
            for r in self.demo.world().fx_rates()
        ]


def to_reporting(rates: list[FxRate], reporting: str) -> list[tuple[date, str, float]]:
    """Cross rates: units of ``reporting`` per unit of each currency, per day.

    A day's rate for currency C is ``rate(C→base) / rate(reporting→base)``; days on which the
    reporting currency itself has no rate against the base produce no cross rates.
    """
    by_day: dict[date, dict[str, float]] = {}
    for r in rates:
        known = by_day.setdefault(r.day, {r.base: 1.0})
        if r.base not in known:
            raise ValueError(f"FX rates for {r.day} mix base currencies")
        known[r.currency] = r.rate
    out: list[tuple[date, str, float]] = []
    for day, per_base in sorted(by_day.items()):
        if reporting not in per_base:
            continue
        divisor = per_base[reporting]
        out.extend(
            (day, cur, rate / divisor) for cur, rate in sorted(per_base.items()) if cur != reporting
        )
    return out
