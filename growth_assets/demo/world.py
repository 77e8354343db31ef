"""Deterministic simulator of a multi-product SaaS business: the demo world.

What
----
`DemoWorld` simulates, once and up front, a company selling several
subscription products over a date range: users sign up and use the products
(Mixpanel), some of them pay (Stripe), and some ask for help (Zendesk).
`DemoWorld.fetch` then serves the records of any time window in the shapes the
real source APIs return:

* ``mixpanel/events``: Raw Export API JSONL objects, windowed by
  ``properties.time``.
* ``stripe/customers``, ``stripe/subscriptions``, ``stripe/invoices``,
  ``stripe/events``, ``stripe/charges``, ``stripe/refunds``: API objects
  (version 2024-06-20: integer minor-unit amounts, lower-case currencies,
  epoch-second times), windowed by ``created``.  Each billed period is one
  invoice whose charges are its payment attempts; trials start with a zero
  invoice.
* ``zendesk/tickets``: incremental-export tickets, each in its final state and
  windowed by ``updated_at``.

Why
---
The warehouse has to be demonstrable and testable without credentials or a
network.  The ingestion code reads these records through the same client
interface as the real connectors, so the records use the real field names and
types.  They also contain the patterns the analyses look for: growth with
weekly and daily seasonality, activation, engagement that decays, dormancy and
resurrection, trials, upgrades and downgrades, payment failures, churn and
reactivation, multi-currency revenue, refunds, a planted churn spike
(`DemoWorld.planted_spike`), and a small, exactly counted set of bad Mixpanel
records (`DemoWorld.planted_bad_records`).

How
---
Every random draw comes from ``numpy.random.default_rng(seed)``, with one child
generator per concern.  The user, engagement and ticket simulations are
vectorised.  The billing state machine is a short Python loop over the
subscriptions (about 8k at default scale), and its random parameters are
drawn in a fixed order.  Each stream is stored as columns sorted by (window
timestamp, id).  `fetch` finds a window with ``numpy.searchsorted`` and builds
dicts only for the rows in it, so the output does not depend on which windows
were fetched or in what order.

Mixpanel's real export buckets events by event time.  That would make events
with a clock in 2099 unreachable, so the planted far-future events are filed
under the time they arrived instead.  For every event the window timestamp is
``min(properties.time, properties.mp_processing_time_ms // 1000)``, which is
``properties.time`` for every other event.
"""

from __future__ import annotations

import calendar
import contextlib
import functools
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["DemoConfig", "DemoWorld", "get_world", "product_ids"]

Record = dict[str, Any]
Columns = dict[str, NDArray[Any]]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Mask = NDArray[np.bool_]
Rng = np.random.Generator

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE: Final = 60
HOUR: Final = 3_600
DAY: Final = 86_400
STRIPE_API_VERSION: Final = "2024-06-20"
# Bumped whenever the same DemoConfig starts producing different records, so a demo
# warehouse built by an older generator is rebuilt instead of mixed (ops.demo_world).
GENERATOR_VERSION: Final = 2
ZENDESK_TICKET_URL: Final = "https://growthco.zendesk.com/api/v2/tickets/{}.json"
FAR_FUTURE: Final = 4_070_908_800  # 2099-01-01T00:00:00Z

STREAMS: Final = (
    ("mixpanel", "events"),
    ("stripe", "customers"),
    ("stripe", "subscriptions"),
    ("stripe", "invoices"),
    ("stripe", "events"),
    ("stripe", "charges"),
    ("stripe", "refunds"),
    ("zendesk", "tickets"),
)

# --------------------------------------------------------------------- catalog

PRODUCT_IDS: Final = (
    "atlas",
    "beacon",
    "cinder",
    "delta",
    "ember",
    "fable",
    "garnet",
    "harbor",
    "iris",
    "juniper",
)
_NON_USD: Final = {"garnet": "eur", "harbor": "gbp", "iris": "eur", "juniper": "jpy"}
_STARTER_PRICE: Final = (19, 29, 39, 49, 25, 15, 35, 45, 29, 39)  # whole USD/EUR
_CONVERSION: Final = (0.22, 0.18, 0.25, 0.42, 0.20, 0.30, 0.24, 0.20, 0.28, 0.26)
_MONTHLY_CHURN: Final = (0.035, 0.045, 0.05, 0.04, 0.055, 0.04, 0.045, 0.05, 0.06, 0.04)
_GROWTH: Final = (0.4, 1.2, 0.8, 1.0, 1.6, 0.6, 1.0, 0.9, 1.4, 2.0)  # log(end/start)
FEATURE_POOL: Final = (
    "dashboards",
    "exports",
    "api",
    "alerts",
    "sso",
    "integrations",
    "reports",
    "webhooks",
    "audit_log",
    "workflows",
)
_FEATURE_ADOPTION: Final = np.array([0.85, 0.6, 0.45, 0.32, 0.2, 0.12])
MAX_FEATURES: Final = len(_FEATURE_ADOPTION)
TIERS: Final = ("starter", "pro", "business")
YEARLY_TIER: Final = 1
_TIER_WEIGHTS: Final = (0.55, 0.35, 0.10)

# ----------------------------------------------------------------------- users

CHANNELS: Final = ("organic", "paid_search", "referral", "social", "partner")
_CHANNEL_P: Final = np.array([0.36, 0.25, 0.14, 0.15, 0.10])
_ACTIVATION_P: Final = np.array([0.62, 0.52, 0.72, 0.55, 0.66])
UTM_SOURCES: Final = ("google", "bing", "referral", "linkedin", "twitter", "facebook", "partner")
_UTM_BY_CHANNEL: Final = (
    (),
    ((0, 0.85), (1, 0.15)),
    ((2, 1.0),),
    ((3, 0.5), (4, 0.3), (5, 0.2)),
    ((6, 1.0),),
)
COUNTRIES: Final = ("US", "GB", "DE", "FR", "JP", "IN", "BR", "CA", "AU", "ES", "NL")
_COUNTRY_P: Final = np.array([0.33, 0.09, 0.08, 0.06, 0.05, 0.12, 0.08, 0.06, 0.04, 0.05, 0.04])
_HOME_COUNTRIES: Final = {"eur": ("DE", "FR", "ES", "NL"), "gbp": ("GB",), "jpy": ("JP",)}
PLATFORMS: Final = ("web", "ios", "android")
_PLATFORM_P: Final = np.array([0.58, 0.24, 0.18])
_MP_LIB: Final = ("web", "swift", "android")
OPERATING_SYSTEMS: Final = ("Windows", "Mac OS X", "Linux", "iOS", "Android")
_WEB_OS_P: Final = np.array([0.52, 0.41, 0.07])
_HOUR_WEIGHTS: Final = np.array(
    [3, 2.5, 2, 1.5, 1.5, 2, 3, 4.5, 6, 6.5, 6.5, 6, 6, 7, 8, 8.5, 8, 7, 6, 5.5, 5, 4.5, 4, 3.5]
)  # UTC hours: Americas and Europe overlap in the afternoon
_HOUR_P: Final = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()
_WEEKEND_SIGNUPS: Final = 0.6
_WEEKEND_SESSIONS: Final = 0.55

# ------------------------------------------------------------------ engagement

SIGN_UP, ACTIVATED, SESSION_STARTED, FEATURE_USED, UPGRADE_CLICKED, LEGACY_PING = range(6)
EVENT_NAMES: Final = (
    "Sign Up",
    "Activated",
    "Session Started",
    "Feature Used",
    "Upgrade Clicked",
    "Legacy Ping",
)
_SESSION_RATE: Final = 0.26  # sessions per day of an average user right after activation
_FEATURES_PER_SESSION: Final = 0.9
_DORMANCY_MEAN_DAYS: Final = 60.0
_RESURRECTION_P: Final = 0.35
_BROWSING_CLICK_P: Final = 0.12  # non-paying activated users who click "Upgrade"
_BAD_SHARE: Final = 0.001
_BAD_SPLIT: Final = (
    ("missing_distinct_id", 0.35),
    ("unknown_event", 0.30),
    ("duplicate", 0.20),
    ("future_time", 0.15),
)

# --------------------------------------------------------------------- billing

TRIALING, ACTIVE, PAST_DUE, CANCELED = range(4)
STATUS_NAMES: Final = ("trialing", "active", "past_due", "canceled")
CREATED, UPDATED, DELETED = range(3)
EVENT_TYPES: Final = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
PREV_NONE, PREV_STATUS, PREV_ITEMS, PREV_CANCEL = range(4)
COUPONS: Final = (
    ("WELCOME20", 20.0, "once", None),
    ("PARTNER15", 15.0, "forever", None),
    ("SPRING25", 25.0, "repeating", 3),
)
_COUPON_P: Final = np.array([0.5, 0.2, 0.3])
_COUPON_SHARE: Final = 0.12
_TRIAL_SHARE: Final = 0.4
_TRIAL_DAYS: Final = 14
_TRIAL_CONVERSION: Final = 0.75
_YEARLY_SHARE: Final = 0.15
_YEARLY_CHURN: Final = 0.3
_IMMEDIATE_CANCEL: Final = 0.4
_CHANGE_RATE: Final = 0.05  # plan/quantity changes per monthly renewal
_FAILURE_RATE: Final = 0.035
_RETRY_SUCCESS: Final = 0.55
_SECOND_SUB_SHARE: Final = 0.06
_REACTIVATION_SHARE: Final = 0.2
_REFUND_SHARE: Final = 0.025
_FULL_REFUND_SHARE: Final = 0.6
_HEX: Final = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_ALNUM: Final = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)

# --------------------------------------------------------------------- support

TICKET_CATEGORIES: Final = ("billing", "bug", "how_to", "feature_request", "account")
_CATEGORY_P_PAYING: Final = np.array([0.30, 0.25, 0.25, 0.10, 0.10])
_CATEGORY_P_FREE: Final = np.array([0.10, 0.20, 0.40, 0.05, 0.25])
_SUBJECTS: Final = (
    (
        "Question about my invoice",
        "Charged twice this month",
        "How do I update my card?",
        "Refund request",
        "Need a VAT receipt",
    ),
    ("{} not loading", "Error when using {}", "{} shows wrong numbers"),
    ("How do I set up {}?", "Help with {}", "Best practices for {}"),
    ("Feature request: more options in {}", "Can {} support CSV?"),
    ("Can't log in", "Reset two-factor authentication", "Add a teammate to my account"),
)
PRIORITIES: Final = ("low", "normal", "high", "urgent")
_PRIORITY_P: Final = np.array([0.25, 0.55, 0.15, 0.05])
TICKET_STATUSES: Final = ("new", "open", "pending", "solved", "closed")
_TICKETS_PER_PAYING_YEAR: Final = 0.8
_TICKETS_PER_FREE_USER: Final = 0.045
_TICKET_SOLVED_SHARE: Final = 0.85
_REQUESTER_BASE: Final = 20_000_000_000
FIELD_PRODUCT: Final = 360001
FIELD_USER: Final = 360002

# ------------------------------------------------------------------------- fx

_FX_LEVELS: Final = {"eur": 1.08, "gbp": 1.27, "jpy": 0.0067}
_FX_DAILY_VOL: Final = 0.004
_FX_REVERSION: Final = 0.01

_RNG_STREAMS: Final = ("users", "sessions", "billing", "spike", "mixpanel", "tickets", "fx", "ids")


@dataclass(frozen=True)
class DemoConfig:
    """Size and shape of the simulated business; equal configs give equal worlds."""

    seed: int = 7
    start: date = date(2024, 11, 1)
    days: int = 730
    users: int = 50_000
    products: int = 10
    spike: bool = True
    spike_product: str = "delta"
    spike_day: int | None = None
    spike_cancellations: int = 50

    def __post_init__(self) -> None:
        problems = _config_problems(self)
        if problems:
            raise ValueError("invalid DemoConfig: " + "; ".join(problems))

    @property
    def spike_offset(self) -> int:
        """Day offset (from `start`) of the planted churn spike."""
        return self.days - 1 if self.spike_day is None else self.spike_day


def _config_problems(cfg: DemoConfig) -> list[str]:
    problems = []
    if isinstance(cfg.start, datetime) or not isinstance(cfg.start, date):
        problems.append(f"start must be a datetime.date, got {cfg.start!r}")
    if cfg.days < 1:
        problems.append(f"days must be >= 1, got {cfg.days}")
    if cfg.users < 1:
        problems.append(f"users must be >= 1, got {cfg.users}")
    if cfg.products < 1:
        problems.append(f"products must be >= 1, got {cfg.products}")
    if cfg.spike_cancellations < 0:
        problems.append(f"spike_cancellations must be >= 0, got {cfg.spike_cancellations}")
    if cfg.spike_day is not None and not 0 <= cfg.spike_day < cfg.days:
        problems.append(f"spike_day must be in [0, {cfg.days}), got {cfg.spike_day}")
    if cfg.spike and cfg.spike_product not in product_ids(cfg.products):
        problems.append(f"spike_product {cfg.spike_product!r} is not one of the products")
    return problems


def product_ids(n: int) -> list[str]:
    """The first `n` product ids: atlas, beacon, ..., juniper, then p11, p12, ..."""
    extra = [f"p{i}" for i in range(len(PRODUCT_IDS) + 1, n + 1)]
    return [*PRODUCT_IDS[:n], *extra]


# ======================================================================= helpers


def _seconds(moment: datetime) -> int:
    """Whole epoch seconds of an aware datetime, rounded up (for [start, end) windows)."""
    delta = moment - EPOCH
    return delta.days * DAY + delta.seconds + (1 if delta.microseconds else 0)


def _day_start(day: date) -> int:
    return _seconds(datetime(day.year, day.month, day.day, tzinfo=UTC))


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _opt(value: int) -> int | None:
    """Columns store a missing timestamp as -1; the APIs return null."""
    return None if value < 0 else value


def _user_id(index: int) -> str:
    return f"u{index + 1:07d}"


def _add_months(ts: int, months: int) -> int:
    """The same wall-clock moment `months` later, clipped to the month's last day."""
    moment = EPOCH + timedelta(seconds=ts)
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return _seconds(moment.replace(year=year, month=month, day=day))


def _weekday(ts: I64) -> I64:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (ts // DAY + 3) % 7


def _random_ids(rng: Rng, n: int, prefix: str, length: int) -> NDArray[np.str_]:
    """`n` Stripe-style ids: prefix + `length` random alphanumerics."""
    codes = _ALNUM[rng.integers(0, _ALNUM.size, size=(n, length))]
    raw = np.ascontiguousarray(codes).view(f"S{length}").ravel()
    return np.char.add(prefix, raw.astype(f"U{length}"))


def _time_of_day(rng: Rng, day_start: I64) -> I64:
    """A moment in each given day, following the hour-of-day traffic pattern."""
    hours = rng.choice(24, size=day_start.size, p=_HOUR_P)
    return day_start + hours * HOUR + rng.integers(0, HOUR, size=day_start.size)


def _concat(parts: list[Columns]) -> Columns:
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _take(columns: Columns, index: NDArray[Any]) -> Columns:
    return {name: column[index] for name, column in columns.items()}


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while creating many acyclic objects.

    Building hundreds of thousands of small dicts otherwise triggers repeated full
    collections, which doubles the cost of a large fetch.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _rows(columns: Columns) -> Iterator[dict[str, Any]]:
    """The rows of array columns as dicts of plain Python values."""
    names = list(columns)
    for values in zip(*(column.tolist() for column in columns.values()), strict=True):
        yield dict(zip(names, values, strict=True))


# ======================================================================= catalog


@dataclass(frozen=True)
class Plan:
    """A Stripe recurring price of one product."""

    index: int
    product_id: str
    tier: int
    interval: str
    unit_amount: int
    currency: str

    @property
    def plan_id(self) -> str:
        return f"price_{self.product_id}_{TIERS[self.tier]}_{self.interval}ly"

    @property
    def nickname(self) -> str:
        return f"{TIERS[self.tier].title()} {self.interval.title()}ly"

    def as_dict(self) -> Record:
        return {
            "plan_id": self.plan_id,
            "nickname": self.nickname,
            "interval": self.interval,
            "unit_amount": self.unit_amount,
            "currency": self.currency,
        }

    def price_object(self) -> Record:
        return {
            "id": self.plan_id,
            "object": "price",
            "unit_amount": self.unit_amount,
            "currency": self.currency,
            "recurring": {"interval": self.interval, "interval_count": 1},
            "product": f"prod_{self.product_id}",
            "nickname": self.nickname,
        }


@dataclass(frozen=True)
class Product:
    """One product: catalog facts plus the behaviour knobs of its customers."""

    index: int
    product_id: str
    launched_on: date
    currency: str
    monthly: tuple[Plan, ...]
    yearly: Plan
    features: tuple[str, ...]
    conversion: float
    churn: float
    growth: float

    def as_dict(self) -> Record:
        return {
            "product_id": self.product_id,
            "name": self.product_id.title(),
            "launched_on": self.launched_on,
            "currency": self.currency,
            "plans": [plan.as_dict() for plan in (*self.monthly, self.yearly)],
            "features": list(self.features),
        }


@dataclass(frozen=True)
class Catalog:
    products: tuple[Product, ...]
    plans: tuple[Plan, ...]


def _minor_units(whole: int, currency: str) -> int:
    """A list price in minor units; JPY is zero-decimal and priced in round yen."""
    if currency == "jpy":
        return max(500, round(whole * 150 / 500) * 500)
    if currency == "gbp":
        return round(whole * 0.8) * 100
    return whole * 100


def _knob(values: tuple[float, ...], index: int) -> float:
    return values[index] if index < len(values) else values[index % len(values)]


def _build_product(index: int, product_id: str, start: date, first_plan: int) -> Product:
    currency = _NON_USD.get(product_id, "usd")
    base = _STARTER_PRICE[index % len(_STARTER_PRICE)]
    wholes = (base, 3 * base - 8, 10 * base - 1)[: 2 if index % 4 == 2 else 3]
    monthly = tuple(
        Plan(first_plan + tier, product_id, tier, "month", _minor_units(whole, currency), currency)
        for tier, whole in enumerate(wholes)
    )
    yearly_amount = 10 * monthly[YEARLY_TIER].unit_amount
    yearly = Plan(
        first_plan + len(monthly), product_id, YEARLY_TIER, "year", yearly_amount, currency
    )
    n_features = 4 + index % 3
    features = tuple(FEATURE_POOL[(3 * index + j) % len(FEATURE_POOL)] for j in range(n_features))
    return Product(
        index=index,
        product_id=product_id,
        launched_on=start - timedelta(days=max(30, 1100 - 100 * index)),
        currency=currency,
        monthly=monthly,
        yearly=yearly,
        features=features,
        conversion=_knob(_CONVERSION, index),
        churn=_knob(_MONTHLY_CHURN, index),
        growth=_knob(_GROWTH, index),
    )


def build_catalog(cfg: DemoConfig) -> Catalog:
    """The product catalog: derived from the config's product count, never from the seed."""
    products: list[Product] = []
    plans: list[Plan] = []
    for index, product_id in enumerate(product_ids(cfg.products)):
        product = _build_product(index, product_id, cfg.start, len(plans))
        products.append(product)
        plans.extend((*product.monthly, product.yearly))
    return Catalog(tuple(products), tuple(plans))


# ========================================================================= users


@dataclass(frozen=True)
class Users:
    """Per-user attributes, indexed by signup order (user_id = u + index + 1)."""

    signup: I64
    product: I64
    channel: I64
    country: I64
    platform: I64
    os: I64
    utm: I64  # index into UTM_SOURCES, -1 for none (organic)
    activated_at: I64  # -1 when not activated before the world ends
    intensity: F64
    features: Mask  # (users, MAX_FEATURES): features the user adopts

    @property
    def activated(self) -> Mask:
        return self.activated_at >= 0


def _product_shares(n_products: int) -> F64:
    weights = 1.0 / np.arange(1, n_products + 1, dtype=np.float64) ** 0.8
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def _signup_days(rng: Rng, cfg: DemoConfig, catalog: Catalog, product: I64, t0: int) -> I64:
    """Signup day offsets: per-product exponential growth, weekly and yearly seasonality."""
    offsets = np.arange(cfg.days)
    weekend = _weekday(t0 + offsets * DAY) >= 5
    seasonal = np.where(weekend, _WEEKEND_SIGNUPS, 1.0) * (
        1 + 0.1 * np.sin(2 * np.pi * offsets / 365.25)
    )
    days = np.empty(product.size, dtype=np.int64)
    for item in catalog.products:
        members = np.flatnonzero(product == item.index)
        weights = np.exp(item.growth * offsets / cfg.days) * seasonal
        days[members] = rng.choice(cfg.days, size=members.size, p=weights / weights.sum())
    return days


def _countries(rng: Rng, catalog: Catalog, product: I64) -> I64:
    """Countries lean towards the product currency's home markets."""
    country = np.empty(product.size, dtype=np.int64)
    for item in catalog.products:
        members = np.flatnonzero(product == item.index)
        home = _HOME_COUNTRIES.get(item.currency, ())
        weights = _COUNTRY_P * np.array([4.0 if c in home else 1.0 for c in COUNTRIES])
        country[members] = rng.choice(len(COUNTRIES), size=members.size, p=weights / weights.sum())
    return country


def _operating_systems(rng: Rng, platform: I64) -> I64:
    web_os = rng.choice(3, size=platform.size, p=_WEB_OS_P)
    return np.where(platform == 0, web_os, platform + 2)


def _utm_sources(rng: Rng, channel: I64) -> I64:
    utm = np.full(channel.size, -1, dtype=np.int64)
    for code, options in enumerate(_UTM_BY_CHANNEL):
        members = np.flatnonzero(channel == code)
        if options and members.size:
            sources, weights = zip(*options, strict=True)
            utm[members] = rng.choice(np.array(sources), size=members.size, p=np.array(weights))
    return utm


def _adopted_features(rng: Rng, catalog: Catalog, product: I64) -> Mask:
    """Which features each user uses; adoption falls with the feature's position."""
    n_features = np.array([len(item.features) for item in catalog.products])[product]
    offered = np.arange(MAX_FEATURES) < n_features[:, None]
    adopted = (rng.random((product.size, MAX_FEATURES)) < _FEATURE_ADOPTION) & offered
    adopted[~adopted.any(axis=1), 0] = True
    return adopted


def simulate_users(rng: Rng, cfg: DemoConfig, catalog: Catalog, t0: int) -> Users:
    """Who signs up when, where from, and whether (and when) they activate."""
    n, t_end = cfg.users, t0 + cfg.days * DAY
    product = rng.choice(len(catalog.products), size=n, p=_product_shares(len(catalog.products)))
    signup = _time_of_day(rng, t0 + _signup_days(rng, cfg, catalog, product, t0) * DAY)
    order = np.argsort(signup, kind="stable")
    product, signup = product[order], signup[order]
    channel = rng.choice(len(CHANNELS), size=n, p=_CHANNEL_P)
    platform = rng.choice(len(PLATFORMS), size=n, p=_PLATFORM_P)
    activates = rng.random(n) < _ACTIVATION_P[channel]
    delay = np.minimum(rng.exponential(8 * HOUR, size=n).astype(np.int64) + MINUTE, 3 * DAY - 1)
    activated_at = np.where(activates & (signup + delay < t_end), signup + delay, -1)
    return Users(
        signup=signup,
        product=product,
        channel=channel,
        country=_countries(rng, catalog, product),
        platform=platform,
        os=_operating_systems(rng, platform),
        utm=_utm_sources(rng, channel),
        activated_at=activated_at,
        intensity=rng.lognormal(0.0, 0.8, size=n),
        features=_adopted_features(rng, catalog, product),
    )


# ==================================================================== engagement


@dataclass(frozen=True)
class _Phase:
    """A stretch of activity per user: rate decays as exp(-t / tau) from `start`."""

    user: I64
    start: I64
    stop: I64
    rate: F64  # sessions per day at `start`
    tau_days: F64


def _phase_sessions(rng: Rng, phase: _Phase) -> tuple[I64, I64, I64]:
    """Session (user, time, earliest allowed time) drawn from a decaying Poisson process."""
    length = np.maximum(phase.stop - phase.start, 0) / DAY
    expected = phase.rate * phase.tau_days * -np.expm1(-length / phase.tau_days)
    count = rng.poisson(expected)
    tau, span = np.repeat(phase.tau_days, count), np.repeat(length, count)
    offset = -tau * np.log1p(rng.random(tau.size) * np.expm1(-span / tau))
    floor = np.repeat(phase.start, count)
    return np.repeat(phase.user, count), floor + (offset * DAY).astype(np.int64), floor


def _activity_phases(rng: Rng, users: Users, t_end: int) -> list[_Phase]:
    """First use, an optional comeback after dormancy, and brief visits of non-activated users."""
    active = np.flatnonzero(users.activated)
    start = users.activated_at[active]
    rate = _SESSION_RATE * users.intensity[active]
    dormant_at = start + (rng.exponential(_DORMANCY_MEAN_DAYS * DAY, active.size) + 7 * DAY).astype(
        np.int64
    )
    tau = rng.lognormal(np.log(45.0), 0.6, active.size)
    back = rng.random(active.size) < _RESURRECTION_P
    gap = (14 * DAY + rng.exponential(60 * DAY, active.size)).astype(np.int64)
    comeback_rate = rate * rng.uniform(0.4, 0.9, active.size)
    comeback_tau = rng.lognormal(np.log(30.0), 0.5, active.size)
    idle = np.flatnonzero(~users.activated)
    idle_start = users.signup[idle]
    ends = np.full(active.size, t_end, dtype=np.int64)
    return [
        _Phase(active, start, np.minimum(dormant_at, t_end), rate, tau),
        _Phase(
            active[back],
            (dormant_at + gap)[back],
            ends[back],
            comeback_rate[back],
            comeback_tau[back],
        ),
        _Phase(
            idle,
            idle_start,
            np.minimum(idle_start + 3 * DAY, t_end),
            np.full(idle.size, 0.6),
            np.full(idle.size, 1.0),
        ),
    ]


def _diurnal(rng: Rng, moment: I64, floor: I64, t_end: int) -> tuple[I64, Mask]:
    """Move each session to a typical hour of its day; thin weekends; drop after the end."""
    warped = _time_of_day(rng, moment // DAY * DAY)
    early = warped <= floor
    warped = np.where(early, floor + rng.integers(MINUTE, 2 * HOUR, size=moment.size), warped)
    weekday = _weekday(warped) < 5
    keep = (warped < t_end) & (weekday | (rng.random(moment.size) < _WEEKEND_SESSIONS))
    return warped, keep


def _event_part(moment: I64, user: I64, event: int, feature: I64 | None = None) -> Columns:
    blank = np.full(moment.size, -1, dtype=np.int64)
    return {
        "time": moment,
        "user": user,
        "event": np.full(moment.size, event, dtype=np.int64),
        "feature": blank if feature is None else feature,
        "plan": blank,
    }


def simulate_engagement(rng: Rng, users: Users, t_end: int) -> list[Columns]:
    """Sign Up, Activated, Session Started and Feature Used events."""
    parts = [_event_part(users.signup, np.arange(users.signup.size), SIGN_UP)]
    activated = np.flatnonzero(users.activated)
    parts.append(_event_part(users.activated_at[activated], activated, ACTIVATED))
    drawn = [_phase_sessions(rng, phase) for phase in _activity_phases(rng, users, t_end)]
    user, moment, floor = (np.concatenate(column) for column in zip(*drawn, strict=True))
    moment, keep = _diurnal(rng, moment, floor, t_end)
    user, moment = user[keep], moment[keep]
    parts.append(_event_part(moment, user, SESSION_STARTED))
    parts.append(_feature_events(rng, users, user, moment, t_end))
    return parts


def _feature_events(
    rng: Rng, users: Users, session_user: I64, session_time: I64, t_end: int
) -> Columns:
    """A Poisson number of Feature Used events per session of an activated user."""
    count = rng.poisson(_FEATURES_PER_SESSION, session_user.size) * users.activated[session_user]
    user = np.repeat(session_user, count)
    moment = np.repeat(session_time, count) + rng.integers(5, 30 * MINUTE, size=user.size)
    keys = rng.random((user.size, MAX_FEATURES)) * users.features[user]
    feature = keys.argmax(axis=1).astype(np.int64)
    keep = moment < t_end
    return _event_part(moment[keep], user[keep], FEATURE_USED, feature[keep])


# ======================================================================= billing


class Snapshot(NamedTuple):
    """The mutable part of a subscription right after a change."""

    status: int
    plan: int
    qty: int
    cap: bool  # cancel_at_period_end
    canceled_at: int
    ended_at: int


class SubEvent(NamedTuple):
    at: int
    kind: int  # CREATED / UPDATED / DELETED
    snap: Snapshot
    prev_kind: int = PREV_NONE
    prev_a: int = -1  # previous status, or previous plan
    prev_b: int = -1  # previous quantity


class Charge(NamedTuple):
    at: int
    invoice: int
    amount: int
    failed: bool
    plan: int  # what the invoice bills: the plan and quantity at the period start,
    qty: int
    period_start: int  # for the service period [period_start, period_end)
    period_end: int


@dataclass
class Subscription:
    """One subscription's whole history, produced by `Billing`."""

    customer: int
    user: int
    product: int
    created: int
    trial_end: int
    coupon: int
    t_end: int
    events: list[SubEvent]
    charges: list[Charge]

    @property
    def snap(self) -> Snapshot:
        return self.events[-1].snap

    def emit(self, event: SubEvent) -> None:
        """Record a change; changes at or after the end of the world have not happened."""
        if event.at < self.t_end:
            self.events.append(event)

    def charge(self, charge: Charge) -> None:
        if charge.at < self.t_end:
            self.charges.append(charge)

    def state_at(self, moment: int) -> Snapshot | None:
        before = [event.snap for event in self.events if event.at < moment]
        return before[-1] if before else None

    def cancel_now(self, moment: int) -> None:
        """Force an immediate cancellation, forgetting everything planned after it."""
        self.events = [event for event in self.events if event.at < moment]
        self.charges = [charge for charge in self.charges if charge.at < moment]
        snap = self.snap._replace(status=CANCELED, cap=False, canceled_at=moment, ended_at=moment)
        self.events.append(SubEvent(moment, DELETED, snap))


class Billing:
    """The per-subscription state machine: trial, renewals, dunning, changes, churn."""

    def __init__(self, rng: Rng, catalog: Catalog, t_end: int) -> None:
        self.rng = rng
        self.catalog = catalog
        self.t_end = t_end
        self.subscriptions: list[Subscription] = []
        self.invoices = 0

    def open(
        self, customer: int, user: int, product: int, created: int, *, trial: bool
    ) -> Subscription:
        """Create a subscription at `created` and simulate it to the end of the world."""
        plan, qty = self._pick_plan(self.catalog.products[product])
        coupon = -1
        if self.rng.random() < _COUPON_SHARE:
            coupon = int(self.rng.choice(len(COUPONS), p=_COUPON_P))
        trial_end = created + _TRIAL_DAYS * DAY if trial else -1
        sub = Subscription(customer, user, product, created, trial_end, coupon, self.t_end, [], [])
        status = TRIALING if trial else ACTIVE
        sub.emit(SubEvent(created, CREATED, Snapshot(status, plan.index, qty, False, -1, -1)))
        self.subscriptions.append(sub)
        anchor = self._end_trial(sub) if trial else created
        if anchor >= 0:
            self._renewals(sub, anchor)
        return sub

    def _pick_plan(self, product: Product) -> tuple[Plan, int]:
        weights = np.array(_TIER_WEIGHTS[: len(product.monthly)])
        tier = int(self.rng.choice(len(product.monthly), p=weights / weights.sum()))
        plan = product.monthly[tier]
        if tier == YEARLY_TIER and self.rng.random() < _YEARLY_SHARE / _TIER_WEIGHTS[YEARLY_TIER]:
            plan = product.yearly
        extra = (0.3, 1.2, 5.0)[tier]
        return plan, (3 if tier == 2 else 1) + int(self.rng.poisson(extra))

    def _end_trial(self, sub: Subscription) -> int:
        """Convert or cancel at trial end; returns the billing anchor, or -1 when over."""
        at, snap = sub.trial_end, sub.snap
        if at >= self.t_end:
            return -1
        if self.rng.random() >= _TRIAL_CONVERSION:
            sub.emit(
                SubEvent(at, DELETED, snap._replace(status=CANCELED, canceled_at=at, ended_at=at))
            )
            return -1
        sub.emit(SubEvent(at, UPDATED, snap._replace(status=ACTIVE), PREV_STATUS, TRIALING))
        return at

    def _renewals(self, sub: Subscription, anchor: int) -> None:
        """Charge every period from `anchor` until churn or the end of the world."""
        plan = self.catalog.plans[sub.snap.plan]
        months = 12 if plan.interval == "year" else 1
        churn = _YEARLY_CHURN if months == 12 else self.catalog.products[sub.product].churn
        churn_period = int(self.rng.geometric(churn)) - 1
        immediate = bool(self.rng.random() < _IMMEDIATE_CANCEL)
        period, start = 0, anchor
        while start < self.t_end:
            if sub.snap.cap:
                snap = sub.snap._replace(status=CANCELED, ended_at=start)
                sub.emit(SubEvent(start, DELETED, snap))
                return
            following = _add_months(anchor, (period + 1) * months)
            if not self._collect(sub, period, start, following, months):
                return
            if period == churn_period:
                if self._cancel(sub, start, following, immediate):
                    return
            elif months == 1 and self.rng.random() < _CHANGE_RATE:
                self._change(sub, start, following)
            period, start = period + 1, following

    def _amount(self, sub: Subscription, period: int, months: int) -> int:
        snap = sub.snap
        amount = self.catalog.plans[snap.plan].unit_amount * snap.qty
        if sub.coupon >= 0:
            _, percent_off, duration, duration_months = COUPONS[sub.coupon]
            applies = duration == "forever" or (duration == "once" and period == 0)
            if duration == "repeating" and duration_months is not None:
                applies = period * months < duration_months
            if applies:
                amount = round(amount * (100 - percent_off) / 100)
        return amount

    def _collect(
        self, sub: Subscription, period: int, start: int, following: int, months: int
    ) -> bool:
        """Charge one period (with dunning on failure); False when the subscription died."""
        amount, self.invoices = self._amount(sub, period, months), self.invoices + 1
        invoice, rng = self.invoices, self.rng
        bill = (sub.snap.plan, sub.snap.qty, start, following)
        if period == 0 or rng.random() >= _FAILURE_RATE:
            sub.charge(Charge(start, invoice, amount, False, *bill))
            return True
        sub.charge(Charge(start, invoice, amount, True, *bill))
        sub.emit(
            SubEvent(
                start + MINUTE, UPDATED, sub.snap._replace(status=PAST_DUE), PREV_STATUS, ACTIVE
            )
        )
        retry = start + 3 * DAY
        recovered = rng.random() < _RETRY_SUCCESS
        sub.charge(Charge(retry, invoice, amount, not recovered, *bill))
        if recovered:
            sub.emit(
                SubEvent(
                    retry + MINUTE, UPDATED, sub.snap._replace(status=ACTIVE), PREV_STATUS, PAST_DUE
                )
            )
            return True
        at = retry + MINUTE
        sub.emit(
            SubEvent(at, DELETED, sub.snap._replace(status=CANCELED, canceled_at=at, ended_at=at))
        )
        return False

    def _cancel(self, sub: Subscription, start: int, following: int, immediate: bool) -> bool:
        """The customer cancels during this period; True when the subscription ended now."""
        at = start + int(self.rng.uniform(0.2, 0.95) * (following - start))
        snap = sub.snap
        if immediate:
            sub.emit(
                SubEvent(at, DELETED, snap._replace(status=CANCELED, canceled_at=at, ended_at=at))
            )
            return True
        sub.emit(SubEvent(at, UPDATED, snap._replace(cap=True, canceled_at=at), PREV_CANCEL))
        return False

    def _change(self, sub: Subscription, start: int, following: int) -> None:
        """An upgrade, downgrade or seat change somewhere inside the period."""
        at = start + int(self.rng.uniform(0.2, 0.9) * (following - start))
        snap = sub.snap
        monthly = self.catalog.products[sub.product].monthly
        tier, qty, roll = self.catalog.plans[snap.plan].tier, snap.qty, self.rng.random()
        if roll < 0.45 and tier + 1 < len(monthly):
            tier += 1
        elif roll < 0.65 and tier > 0:
            tier -= 1
        elif roll < 0.88:
            qty += int(self.rng.integers(1, 4))
        elif qty > 1:
            qty -= 1
        else:
            return
        new = snap._replace(plan=monthly[tier].index, qty=qty)
        sub.emit(SubEvent(at, UPDATED, new, PREV_ITEMS, snap.plan, snap.qty))


def choose_customers(rng: Rng, users: Users, catalog: Catalog, t_end: int) -> tuple[I64, I64]:
    """Activated users who start paying, and when; engaged users convert more often."""
    active = np.flatnonzero(users.activated)
    rank = np.argsort(np.argsort(users.intensity[active])) / max(1, active.size - 1)
    conversion = np.array([item.conversion for item in catalog.products])[users.product[active]]
    pays = rng.random(active.size) < np.clip(conversion * (0.4 + 1.2 * rank), 0.0, 0.95)
    delay = (rng.exponential(10 * DAY, active.size) + 10 * MINUTE).astype(np.int64)
    first = users.activated_at[active] + delay
    chosen = pays & (first < t_end - HOUR)
    order = np.argsort(first[chosen], kind="stable")
    return active[chosen][order], first[chosen][order]


def simulate_billing(
    rng: Rng, catalog: Catalog, users: Users, customer_user: I64, first_paid: I64, t_end: int
) -> list[Subscription]:
    """Every customer's subscriptions: the first, maybe a second, and reactivations."""
    billing = Billing(rng, catalog, t_end)
    for customer, (user, start) in enumerate(
        zip(customer_user.tolist(), first_paid.tolist(), strict=True)
    ):
        product = int(users.product[user])
        current = billing.open(customer, user, product, start, trial=rng.random() < _TRIAL_SHARE)
        if rng.random() < _SECOND_SUB_SHARE:
            second = start + int(rng.uniform(7, 120) * DAY)
            if second < t_end:
                billing.open(customer, user, product, second, trial=False)
        while current.snap.ended_at >= 0 and rng.random() < _REACTIVATION_SHARE:
            restart = current.snap.ended_at + int(rng.uniform(20, 200) * DAY)
            if restart >= t_end:
                break
            current = billing.open(customer, user, product, restart, trial=False)
    return billing.subscriptions


@dataclass(frozen=True)
class Spike:
    """What was planted: `cancellations` = min(`requested`, `eligible` subscriptions)."""

    product_id: str
    day: date
    requested: int
    eligible: int
    cancellations: int


def _untouched_active(sub: Subscription, day_start: int, day_end: int) -> bool:
    """Active (not trialing, past due or cancelling) all of the day, with nothing else happening."""
    state = sub.state_at(day_start)
    quiet = all(not day_start <= event.at < day_end for event in sub.events)
    return state is not None and state.status == ACTIVE and not state.cap and quiet


def plant_spike(
    rng: Rng, cfg: DemoConfig, catalog: Catalog, subs: list[Subscription], t0: int
) -> Spike:
    """Cancel `spike_cancellations` active subscriptions of the spike product on the spike day."""
    day_start = t0 + cfg.spike_offset * DAY
    day = cfg.start + timedelta(days=cfg.spike_offset)
    if not cfg.spike:
        return Spike(cfg.spike_product, day, 0, 0, 0)
    product = product_ids(cfg.products).index(cfg.spike_product)
    eligible = [
        sub
        for sub in subs
        if sub.product == product and _untouched_active(sub, day_start, day_start + DAY)
    ]
    count = min(cfg.spike_cancellations, len(eligible))
    victims = rng.choice(len(eligible), size=count, replace=False)
    moments = _time_of_day(rng, np.full(count, day_start, dtype=np.int64))
    for victim, moment in zip(victims.tolist(), moments.tolist(), strict=True):
        eligible[victim].cancel_now(moment)
    return Spike(cfg.spike_product, day, cfg.spike_cancellations, len(eligible), count)


def _purchase_clicks(rng: Rng, catalog: Catalog, subs: list[Subscription]) -> Columns:
    """Upgrade Clicked a few minutes before each purchase, upgrade or seat increase."""
    moments, owners, plans = [], [], []
    for sub in subs:
        for event in sub.events:
            grew = event.prev_kind == PREV_ITEMS and (
                catalog.plans[event.snap.plan].tier > catalog.plans[event.prev_a].tier
                or event.snap.qty > event.prev_b
            )
            if event.kind == CREATED or grew:
                moments.append(event.at)
                owners.append(sub.user)
                plans.append(event.snap.plan)
    moment = np.array(moments, dtype=np.int64)
    part = _event_part(
        moment - rng.integers(30, 4 * MINUTE, size=moment.size),
        np.array(owners, dtype=np.int64),
        UPGRADE_CLICKED,
    )
    part["plan"] = np.array(plans, dtype=np.int64)
    return part


def _browsing_clicks(rng: Rng, users: Users, catalog: Catalog, paying: Mask, t_end: int) -> Columns:
    """Some activated users who never pay click Upgrade anyway."""
    browsers = np.flatnonzero(users.activated & ~paying)
    browsers = browsers[rng.random(browsers.size) < _BROWSING_CLICK_P]
    moment = users.activated_at[browsers] + rng.exponential(10 * DAY, browsers.size).astype(
        np.int64
    )
    product = users.product[browsers]
    n_tiers = np.array([len(item.monthly) for item in catalog.products])[product]
    first_plan = np.array([item.monthly[0].index for item in catalog.products])[product]
    plan = first_plan + (rng.random(browsers.size) * n_tiers).astype(np.int64)
    keep = moment < t_end
    part = _event_part(moment[keep], browsers[keep], UPGRADE_CLICKED)
    part["plan"] = plan[keep]
    return part


def upgrade_clicks(
    rng: Rng, users: Users, catalog: Catalog, subs: list[Subscription], t_end: int
) -> Columns:
    """All Upgrade Clicked events: before purchases and upgrades, and from window shoppers."""
    paying = np.zeros(users.signup.size, dtype=bool)
    paying[np.array([sub.user for sub in subs], dtype=np.int64)] = True
    return _concat(
        [_purchase_clicks(rng, catalog, subs), _browsing_clicks(rng, users, catalog, paying, t_end)]
    )


# ===================================================================== mixpanel


def _identify(rng: Rng, events: Columns) -> Columns:
    """Add $insert_id (two 64-bit halves), ingestion time and the window key."""
    n = events["time"].size
    return {
        **events,
        **_insert_ids(rng, n),
        "proc_ms": events["time"] * 1000 + rng.integers(200, 90_000, size=n),
        "has_distinct": np.ones(n, dtype=bool),
        "key": events["time"].copy(),
    }


def _insert_ids(rng: Rng, n: int) -> Columns:
    top = np.iinfo(np.uint64).max
    return {
        "id_hi": rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True),
        "id_lo": rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True),
    }


def _bad_counts(n_events: int) -> dict[str, int]:
    total = max(len(_BAD_SPLIT), round(_BAD_SHARE * n_events))
    return {kind: max(1, round(total * share)) for kind, share in _BAD_SPLIT}


def _spoil(rng: Rng, kind: str, rows: Columns) -> Columns:
    """Turn copies of good events into one kind of bad record."""
    if kind == "duplicate":
        return rows  # Mixpanel really delivers exact duplicates
    n = rows["time"].size
    spoiled = {**rows, **_insert_ids(rng, n)}
    if kind == "missing_distinct_id":
        spoiled["has_distinct"] = np.zeros(n, dtype=bool)
    elif kind == "unknown_event":
        spoiled["event"] = np.full(n, LEGACY_PING, dtype=np.int64)
        spoiled["feature"] = spoiled["plan"] = np.full(n, -1, dtype=np.int64)
    else:  # future_time: a device clock in 2099; filed under its arrival time ("key")
        spoiled["time"] = FAR_FUTURE + rng.integers(0, 365 * DAY, size=n)
    return spoiled


def plant_bad_records(rng: Rng, good: Columns) -> tuple[Columns, dict[str, int]]:
    """Extra records the pipeline must reject, counted exactly per kind."""
    counts = _bad_counts(good["time"].size)
    size = sum(counts.values())
    templates = rng.choice(good["time"].size, size=size, replace=size > good["time"].size)
    parts, first = [], 0
    for kind, count in counts.items():
        parts.append(_spoil(rng, kind, _take(good, templates[first : first + count])))
        first += count
    return _concat(parts), counts


def mixpanel_columns(rng: Rng, parts: list[Columns]) -> tuple[Columns, dict[str, int]]:
    """All Mixpanel events (good and planted bad) as compact columns."""
    good = _identify(rng, _concat(parts))
    bad, counts = plant_bad_records(rng, good)
    events = _concat([good, bad])
    compact = {"user": np.int32, "event": np.int8, "feature": np.int8, "plan": np.int16}
    for name, dtype in compact.items():
        events[name] = events[name].astype(dtype)
    return events, counts


# ======================================================================= stripe


def _customer_columns(
    rng: Rng, ids: Rng, users: Users, customer_user: I64, first_paid: I64
) -> Columns:
    return {
        "id": _random_ids(ids, customer_user.size, "cus_", 14),
        "created": first_paid - rng.integers(5, 2 * MINUTE, size=customer_user.size),
        "user": customer_user,
        "product": users.product[customer_user],
    }


def _snapshot_columns(snaps: list[Snapshot]) -> Columns:
    table = np.array(snaps, dtype=np.int64).reshape(-1, len(Snapshot._fields))
    columns: Columns = {name: table[:, i] for i, name in enumerate(Snapshot._fields)}
    columns["cap"] = columns["cap"].astype(bool)
    return columns


def _subscription_columns(
    ids: Rng, subs: list[Subscription], customer_ids: NDArray[Any]
) -> Columns:
    """Static subscription facts plus the final state."""
    n = len(subs)
    statics = np.array(
        [(s.customer, s.user, s.product, s.created, s.trial_end, s.coupon) for s in subs],
        dtype=np.int64,
    ).reshape(-1, 6)
    return {
        "sub_id": _random_ids(ids, n, "sub_", 24),
        "item_id": _random_ids(ids, n, "si_", 14),
        "discount_id": _random_ids(ids, n, "di_", 24),
        "customer": customer_ids[statics[:, 0]],
        "user": statics[:, 1],
        "product": statics[:, 2],
        "created": statics[:, 3],
        "trial_end": statics[:, 4],
        "coupon": statics[:, 5],
        **_snapshot_columns([sub.snap for sub in subs]),
    }


def _event_columns(ids: Rng, subs: list[Subscription], statics: Columns) -> Columns:
    """One row per subscription change, carrying the subscription as it was right after."""
    rows = [
        (i, e.at, e.kind, e.prev_kind, e.prev_a, e.prev_b)
        for i, s in enumerate(subs)
        for e in s.events
    ]
    table = np.array(rows, dtype=np.int64).reshape(-1, 6)
    snaps = _snapshot_columns([event.snap for sub in subs for event in sub.events])
    static_names = (
        "sub_id",
        "item_id",
        "discount_id",
        "customer",
        "user",
        "product",
        "created",
        "trial_end",
        "coupon",
    )
    return {
        **_take({name: statics[name] for name in static_names}, table[:, 0]),
        **snaps,
        "event_id": _random_ids(ids, table.shape[0], "evt_", 24),
        "event_created": table[:, 1],
        "type": table[:, 2],
        "prev_kind": table[:, 3],
        "prev_a": table[:, 4],
        "prev_b": table[:, 5],
    }


def _charge_columns(
    ids: Rng, subs: list[Subscription], statics: Columns
) -> tuple[Columns, NDArray[np.str_]]:
    """Charge columns, and the invoice ids indexed by invoice number."""
    rows = [(i, c.at, c.invoice, c.amount, c.failed) for i, s in enumerate(subs) for c in s.charges]
    table = np.array(rows, dtype=np.int64).reshape(-1, 5)
    invoice_ids = _random_ids(ids, int(table[:, 2].max(initial=0)) + 1, "in_", 24)
    columns = {
        "id": _random_ids(ids, table.shape[0], "ch_", 24),
        "created": table[:, 1],
        "invoice": invoice_ids[table[:, 2]],
        "amount": table[:, 3],
        "failed": table[:, 4].astype(bool),
        "amount_refunded": np.zeros(table.shape[0], dtype=np.int64),
        **_take(
            {name: statics[name] for name in ("sub_id", "customer", "user", "product")}, table[:, 0]
        ),
    }
    return columns, invoice_ids


INVOICE_PAID, INVOICE_OPEN, INVOICE_UNCOLLECTIBLE = range(3)
INVOICE_STATUSES: Final = ("paid", "open", "uncollectible")
REASON_CREATE, REASON_CYCLE = range(2)
BILLING_REASONS: Final = ("subscription_create", "subscription_cycle")
_INVOICE_INTS: Final = (
    "sub",
    "created",
    "status",
    "attempts",
    "paid_at",
    "charge",
    "plan",
    "qty",
    "subtotal",
    "amount",
    "period_start",
    "period_end",
    "line_start",
    "line_end",
    "reason",
)


def _invoice_columns(
    subs: list[Subscription], statics: Columns, charge_ids: NDArray[Any], invoice_ids: NDArray[Any]
) -> Columns:
    """One invoice per billed period (its charges are the payment attempts), plus the zero
    invoice Stripe issues when a trial starts. No random draws: ids of trial invoices derive
    from the subscription id, so adding invoices changed no other stream.

    Stripe quirk kept on purpose: a subscription invoice's own ``period_start``/``period_end``
    look back one period (the usage period, for metered items); the line items carry the
    service period. The first invoice of a subscription has both equal to its creation time.
    """
    ints: list[tuple[int, ...]] = []
    invoice_id: list[str] = []
    k = 0  # global charge index, in the order _charge_columns enumerates charges
    for i, sub in enumerate(subs):
        previous: tuple[int, int] | None = None
        if sub.trial_end >= 0:
            first = sub.events[0].snap
            ints.append(
                (
                    *(i, sub.created, INVOICE_PAID, 0, sub.created, -1, first.plan, first.qty),
                    *(0, 0, sub.created, sub.created, sub.created, sub.trial_end, REASON_CREATE),
                )
            )
            invoice_id.append("in_" + str(statics["sub_id"][i])[4:])
            previous = (sub.created, sub.trial_end)
        attempts: dict[int, list[tuple[int, Charge]]] = {}
        for charge in sub.charges:
            attempts.setdefault(charge.invoice, []).append((k, charge))
            k += 1
        for number, tries in attempts.items():
            bill = tries[0][1]
            paid = [(index, c) for index, c in tries if not c.failed]
            if paid:
                status, paid_at, charge_index = INVOICE_PAID, paid[0][1].at, paid[0][0]
            else:
                status = INVOICE_UNCOLLECTIBLE if len(tries) > 1 else INVOICE_OPEN
                paid_at, charge_index = -1, tries[-1][0]
            plan = bill.plan
            lookback = previous or (bill.at, bill.at)
            ints.append(
                (
                    *(i, bill.at, status, len(tries), paid_at, charge_index, plan, bill.qty),
                    *(-1, bill.amount, *lookback, bill.period_start, bill.period_end),
                    REASON_CYCLE if previous else REASON_CREATE,
                )
            )
            invoice_id.append(str(invoice_ids[number]))
            previous = (bill.period_start, bill.period_end)
    table = np.array(ints, dtype=np.int64).reshape(-1, len(_INVOICE_INTS))
    columns: Columns = {name: table[:, j] for j, name in enumerate(_INVOICE_INTS)}
    static_names = ("sub_id", "item_id", "discount_id", "customer", "user", "product")
    return {
        "id": np.array(invoice_id, dtype=str).reshape(-1),
        **columns,
        "charge_id": np.concatenate([charge_ids, [""]])[columns["charge"]],
        **_take({name: statics[name] for name in static_names}, columns["sub"]),
    }


def refund_columns(rng: Rng, ids: Rng, charges: Columns, t_end: int) -> Columns:
    """Refund ~2.5% of successful charges (full or partial); marks the charges refunded."""
    paid = np.flatnonzero(~charges["failed"])
    picked = paid[rng.random(paid.size) < _REFUND_SHARE]
    amount = charges["amount"][picked]
    partial = np.maximum(1, np.round(amount * rng.uniform(0.1, 0.9, picked.size))).astype(np.int64)
    refunded = np.where(rng.random(picked.size) < _FULL_REFUND_SHARE, amount, partial)
    created = charges["created"][picked] + rng.integers(HOUR, 30 * DAY, size=picked.size)
    reason = rng.choice(3, size=picked.size, p=[0.8, 0.1, 0.1])
    keep = created < t_end
    picked, refunded = picked[keep], refunded[keep]
    charges["amount_refunded"][picked] = refunded
    return {
        "id": _random_ids(ids, picked.size, "re_", 24),
        "created": created[keep],
        "amount": refunded,
        "reason": reason[keep],
        "charge": charges["id"][picked],
        **{name: charges[name][picked] for name in ("user", "product")},
    }


# ====================================================================== zendesk


def _paying_spans(n_users: int, subs: list[Subscription], t_end: int) -> tuple[I64, I64]:
    """Per user: first subscription start and last subscription end (-1 when never paid)."""
    first = np.full(n_users, -1, dtype=np.int64)
    until = np.full(n_users, -1, dtype=np.int64)
    for sub in subs:
        end = sub.snap.ended_at if sub.snap.ended_at >= 0 else t_end
        first[sub.user] = (
            sub.created if first[sub.user] < 0 else min(int(first[sub.user]), sub.created)
        )
        until[sub.user] = max(int(until[sub.user]), end)
    return first, until


def _ticket_times(
    rng: Rng, users: Users, subs: list[Subscription], t_end: int
) -> tuple[I64, I64, Mask]:
    """(user, created, paying) of each ticket, ordered by creation."""
    first, until = _paying_spans(users.signup.size, subs, t_end)
    paying = first >= 0
    # Payers write at a steady rate over the time they pay: a fixed count per payer squeezed
    # into the span paid so far would crowd the last days with tickets from recent payers.
    paying_years = np.where(paying, (until - first) / (365 * DAY), 0.0)
    count = rng.poisson(
        np.where(paying, _TICKETS_PER_PAYING_YEAR * paying_years, _TICKETS_PER_FREE_USER)
    )
    user = np.repeat(np.arange(users.signup.size), count)
    during = first[user] + (rng.random(user.size) * (until[user] - first[user])).astype(np.int64)
    early = users.signup[user] + 10 * MINUTE + rng.exponential(12 * DAY, user.size).astype(np.int64)
    created = np.where(paying[user], during, early)
    keep = created < t_end
    order = np.lexsort((user[keep], created[keep]))
    return user[keep][order], created[keep][order], paying[user[keep][order]]


def _ticket_lifecycle(rng: Rng, created: I64, t_end: int) -> Columns:
    """Status, last update, solve time and first reply time as of the end of the world."""
    n = created.size
    reply = np.maximum(1, rng.lognormal(np.log(90.0), 1.0, n)).astype(np.int64)
    replied_at = created + reply * MINUTE
    solve_delay = np.maximum(reply * MINUTE + MINUTE, rng.lognormal(np.log(10.0 * HOUR), 1.2, n))
    solved_at = created + solve_delay.astype(np.int64)
    solved = (rng.random(n) < _TICKET_SOLVED_SHARE) & (solved_at < t_end)
    closed = solved & (solved_at + 4 * DAY < t_end)
    replied = replied_at < t_end
    pending = rng.random(n) < 0.4
    touched = replied_at + (rng.random(n) * (t_end - replied_at)).astype(np.int64)
    cases = [closed, solved, ~replied, pending]
    return {
        "status": np.select(cases, [4, 3, 0, 2], default=1),
        "updated": np.select(cases[:3], [solved_at + 4 * DAY, solved_at, created], default=touched),
        "solved_at": np.where(solved, solved_at, -1),
        "reply": np.where(replied, reply, -1),
    }


def _ticket_subjects(
    rng: Rng, users: Users, catalog: Catalog, user: I64, category: I64
) -> NDArray[np.str_]:
    keys = rng.random((user.size, MAX_FEATURES)) * users.features[user]
    feature = keys.argmax(axis=1).tolist()
    template = rng.integers(0, 1000, size=user.size).tolist()
    subjects = []
    for u, c, f, t in zip(
        users.product[user].tolist(), category.tolist(), feature, template, strict=True
    ):
        options = _SUBJECTS[c]
        name = catalog.products[u].features[f].replace("_", " ")
        subjects.append(options[t % len(options)].format(name))
    return np.array(subjects, dtype=np.str_)


def ticket_columns(
    rng: Rng, users: Users, catalog: Catalog, subs: list[Subscription], t_end: int
) -> Columns:
    """Support tickets: ~1 per 10 users, more from paying customers; ids by creation order."""
    user, created, paying = _ticket_times(rng, users, subs, t_end)
    category = np.where(
        paying,
        rng.choice(len(TICKET_CATEGORIES), size=user.size, p=_CATEGORY_P_PAYING),
        rng.choice(len(TICKET_CATEGORIES), size=user.size, p=_CATEGORY_P_FREE),
    )
    priority = rng.choice(len(PRIORITIES), size=user.size, p=_PRIORITY_P)
    priority = np.where((category == 1) & (rng.random(user.size) < 0.2), 3, priority)
    return {
        "id": np.arange(1, user.size + 1, dtype=np.int64),
        "created": created,
        "user": user,
        "paying": paying,
        "product": users.product[user],
        "platform": users.platform[user],
        "category": category,
        "priority": priority,
        "subject": _ticket_subjects(rng, users, catalog, user, category),
        **_ticket_lifecycle(rng, created, t_end),
    }


# =========================================================================== fx


def fx_columns(rng: Rng, catalog: Catalog, t0: int, days: int) -> Columns:
    """Daily USD value of each non-USD currency: a mean-reverting log random walk."""
    currencies = sorted({item.currency for item in catalog.products} - {"usd"})
    parts = []
    for currency in currencies:
        shocks = rng.normal(0.0, _FX_DAILY_VOL, days)
        walk = np.zeros(days)
        for day in range(1, days):
            walk[day] = walk[day - 1] * (1 - _FX_REVERSION) + shocks[day]
        parts.append(
            {
                "day": t0 + np.arange(days, dtype=np.int64) * DAY,
                "currency": np.full(days, currency.upper()),
                "rate": _FX_LEVELS.get(currency, 1.0) * np.exp(walk),
            }
        )
    if not parts:
        return {"day": np.zeros(0, np.int64), "currency": np.zeros(0, np.str_), "rate": np.zeros(0)}
    columns = _concat(parts)
    return _take(columns, np.lexsort((columns["currency"], columns["day"])))


# ====================================================================== records


@dataclass(frozen=True)
class Lookup:
    """The catalog and per-user strings, for turning columns into API records."""

    catalog: Catalog
    user_ids: list[str]
    product: list[int]
    super_properties: list[dict[str, str]]  # per user; copied into every event

    @classmethod
    def of(cls, users: Users, catalog: Catalog) -> Lookup:
        columns = zip(
            users.product.tolist(),
            users.platform.tolist(),
            users.os.tolist(),
            users.country.tolist(),
            users.channel.tolist(),
            users.utm.tolist(),
            strict=True,
        )
        props = []
        for product, platform, os_name, country, channel, utm in columns:
            user_props = {
                "mp_lib": _MP_LIB[platform],
                "$os": OPERATING_SYSTEMS[os_name],
                "mp_country_code": COUNTRIES[country],
                "product_id": catalog.products[product].product_id,
                "platform": PLATFORMS[platform],
                "channel": CHANNELS[channel],
            }
            if utm >= 0:
                user_props["utm_source"] = UTM_SOURCES[utm]
            props.append(user_props)
        user_ids = [_user_id(i) for i in range(users.signup.size)]
        return cls(catalog, user_ids, users.product.tolist(), props)


def _hex_ids(high: NDArray[np.uint64], low: NDArray[np.uint64]) -> list[str]:
    """32-hex-digit strings of 128-bit ids, formatted vectorised."""
    raw = np.stack([high, low], axis=1).astype(">u8").view(np.uint8).reshape(-1, 16)
    digits = np.empty((raw.shape[0], 32), dtype=np.uint8)
    digits[:, 0::2], digits[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    text = digits.tobytes().decode("ascii")
    return [text[i : i + 32] for i in range(0, len(text), 32)]


def mixpanel_records(look: Lookup, columns: Columns) -> list[Record]:
    """Raw Export API objects; the bad ones lack distinct_id or have odd names or times."""
    tiers = [TIERS[plan.tier] for plan in look.catalog.plans]
    features = [item.features for item in look.catalog.products]
    rows = zip(
        *(columns[name].tolist() for name in ("time", "user", "event", "feature", "plan")),
        _hex_ids(columns["id_hi"], columns["id_lo"]),
        columns["proc_ms"].tolist(),
        columns["has_distinct"].tolist(),
        strict=True,
    )
    out = []
    for moment, user, event, feature, plan, insert_id, proc, known in rows:
        props: Record = {
            "time": moment,
            "distinct_id": look.user_ids[user],
            "$insert_id": insert_id,
            "mp_processing_time_ms": proc,
            **look.super_properties[user],
        }
        if not known:
            del props["distinct_id"]
        if plan >= 0:
            props["plan"] = tiers[plan]
        if feature >= 0:
            props["feature"] = features[look.product[user]][feature]
        out.append({"event": EVENT_NAMES[event], "properties": props})
    return out


def customer_records(look: Lookup, columns: Columns) -> list[Record]:
    out = []
    for row in _rows(columns):
        product = look.catalog.products[row["product"]]
        out.append(
            {
                "id": row["id"],
                "object": "customer",
                "created": row["created"],
                "email": f"{look.user_ids[row['user']]}@example.com",
                "currency": product.currency,
                "livemode": False,
                "metadata": {
                    "user_id": look.user_ids[row["user"]],
                    "product_id": product.product_id,
                },
            }
        )
    return out


def _items(sub_id: str, item_id: str, plan: Plan, qty: int) -> Record:
    item = {
        "id": item_id,
        "object": "subscription_item",
        "quantity": qty,
        "price": plan.price_object(),
    }
    return {
        "object": "list",
        "data": [item],
        "has_more": False,
        "total_count": 1,
        "url": f"/v1/subscription_items?subscription={sub_id}",
    }


def _discount(row: dict[str, Any]) -> Record | None:
    if row["coupon"] < 0:
        return None
    coupon_id, percent_off, duration, duration_months = COUPONS[row["coupon"]]
    coupon = {
        "id": coupon_id,
        "object": "coupon",
        "percent_off": percent_off,
        "duration": duration,
        "duration_in_months": duration_months,
    }
    return {
        "id": row["discount_id"],
        "object": "discount",
        "coupon": coupon,
        "customer": row["customer"],
        "subscription": row["sub_id"],
        "start": row["created"],
    }


def _subscription(look: Lookup, row: dict[str, Any]) -> Record:
    plan = look.catalog.plans[row["plan"]]
    product_id = look.catalog.products[row["product"]].product_id
    return {
        "id": row["sub_id"],
        "object": "subscription",
        "customer": row["customer"],
        "status": STATUS_NAMES[row["status"]],
        "created": row["created"],
        "start_date": row["created"],
        "trial_end": _opt(row["trial_end"]),
        "canceled_at": _opt(row["canceled_at"]),
        "ended_at": _opt(row["ended_at"]),
        "cancel_at_period_end": row["cap"],
        "currency": plan.currency,
        "livemode": False,
        "metadata": {"product_id": product_id, "user_id": look.user_ids[row["user"]]},
        "items": _items(row["sub_id"], row["item_id"], plan, row["qty"]),
        "discount": _discount(row),
    }


def subscription_records(look: Lookup, columns: Columns) -> list[Record]:
    return [_subscription(look, row) for row in _rows(columns)]


def _previous_attributes(look: Lookup, row: dict[str, Any]) -> Record:
    if row["prev_kind"] == PREV_STATUS:
        return {"status": STATUS_NAMES[row["prev_a"]]}
    if row["prev_kind"] == PREV_ITEMS:
        plan = look.catalog.plans[row["prev_a"]]
        return {"items": _items(row["sub_id"], row["item_id"], plan, row["prev_b"])}
    return {"cancel_at_period_end": False, "canceled_at": None}


def stripe_event_records(look: Lookup, columns: Columns) -> list[Record]:
    out = []
    for row in _rows(columns):
        data: Record = {"object": _subscription(look, row)}
        if row["type"] == UPDATED:
            data["previous_attributes"] = _previous_attributes(look, row)
        out.append(
            {
                "id": row["event_id"],
                "object": "event",
                "type": EVENT_TYPES[row["type"]],
                "created": row["event_created"],
                "api_version": STRIPE_API_VERSION,
                "livemode": False,
                "data": data,
            }
        )
    return out


def charge_records(look: Lookup, columns: Columns) -> list[Record]:
    out = []
    for row in _rows(columns):
        product = look.catalog.products[row["product"]]
        paid = not row["failed"]
        out.append(
            {
                "id": row["id"],
                "object": "charge",
                "amount": row["amount"],
                "amount_refunded": row["amount_refunded"],
                "currency": product.currency,
                "created": row["created"],
                "customer": row["customer"],
                "invoice": row["invoice"],
                "status": "succeeded" if paid else "failed",
                "paid": paid,
                "captured": paid,
                "refunded": paid and row["amount_refunded"] == row["amount"],
                "failure_code": None if paid else "card_declined",
                "livemode": False,
                "metadata": {
                    "product_id": product.product_id,
                    "user_id": look.user_ids[row["user"]],
                    "subscription": row["sub_id"],
                },
            }
        )
    return out


def invoice_records(look: Lookup, columns: Columns) -> list[Record]:
    out = []
    for row in _rows(columns):
        plan = look.catalog.plans[row["plan"]]
        product_id = look.catalog.products[row["product"]].product_id
        trial = row["attempts"] == 0
        subtotal = 0 if trial else plan.unit_amount * row["qty"]
        amount, status = row["amount"], INVOICE_STATUSES[row["status"]]
        paid = row["status"] == INVOICE_PAID
        discount = subtotal - amount
        line = {
            "id": "il_" + row["id"][3:],
            "object": "line_item",
            "amount": subtotal,
            "currency": plan.currency,
            "description": f"{row['qty']} × {product_id.title()} {plan.nickname}"
            + (" (trial)" if trial else ""),
            "discountable": True,
            "period": {"start": row["line_start"], "end": row["line_end"]},
            "price": plan.price_object(),
            "proration": False,
            "quantity": row["qty"],
            "subscription": row["sub_id"],
            "subscription_item": row["item_id"],
            "type": "subscription",
        }
        out.append(
            {
                "id": row["id"],
                "object": "invoice",
                "customer": row["customer"],
                "subscription": row["sub_id"],
                "status": status,
                "paid": paid,
                "currency": plan.currency,
                "subtotal": subtotal,
                "total": amount,
                "amount_due": amount,
                "amount_paid": amount if paid else 0,
                "amount_remaining": 0 if paid else amount,
                "total_discount_amounts": (
                    [{"amount": discount, "discount": row["discount_id"]}] if discount else []
                ),
                "attempt_count": row["attempts"],
                "attempted": not trial,
                "billing_reason": BILLING_REASONS[row["reason"]],
                "collection_method": "charge_automatically",
                "charge": row["charge_id"] or None,
                "created": row["created"],
                "period_start": row["period_start"],
                "period_end": row["period_end"],
                "status_transitions": {
                    "finalized_at": row["created"],
                    "paid_at": _opt(row["paid_at"]),
                },
                "lines": {
                    "object": "list",
                    "data": [line],
                    "has_more": False,
                    "total_count": 1,
                    "url": f"/v1/invoices/{row['id']}/lines",
                },
                "livemode": False,
                "metadata": {
                    "product_id": product_id,
                    "user_id": look.user_ids[row["user"]],
                    "subscription": row["sub_id"],
                },
            }
        )
    return out


_REFUND_REASONS: Final = ("requested_by_customer", "duplicate", None)


def refund_records(look: Lookup, columns: Columns) -> list[Record]:
    out = []
    for row in _rows(columns):
        product = look.catalog.products[row["product"]]
        out.append(
            {
                "id": row["id"],
                "object": "refund",
                "amount": row["amount"],
                "currency": product.currency,
                "charge": row["charge"],
                "created": row["created"],
                "status": "succeeded",
                "reason": _REFUND_REASONS[row["reason"]],
                "metadata": {
                    "product_id": product.product_id,
                    "user_id": look.user_ids[row["user"]],
                },
            }
        )
    return out


def _ticket(look: Lookup, row: dict[str, Any]) -> Record:
    product_id = look.catalog.products[row["product"]].product_id
    tags = [f"product_{product_id}", TICKET_CATEGORIES[row["category"]]]
    tags += ["paying" if row["paying"] else "free", PLATFORMS[row["platform"]]]
    reply = _opt(row["reply"])
    solved_at = _opt(row["solved_at"])
    return {
        "id": row["id"],
        "url": ZENDESK_TICKET_URL.format(row["id"]),
        "created_at": _iso(row["created"]),
        "updated_at": _iso(row["updated"]),
        "status": TICKET_STATUSES[row["status"]],
        "subject": row["subject"],
        "priority": PRIORITIES[row["priority"]],
        "requester_id": _REQUESTER_BASE + row["user"] + 1,
        "tags": tags,
        "custom_fields": [
            {"id": FIELD_PRODUCT, "value": product_id},
            {"id": FIELD_USER, "value": look.user_ids[row["user"]]},
        ],
        "metric_set": {
            "solved_at": None if solved_at is None else _iso(solved_at),
            "reply_time_in_minutes": {"business": reply},
        },
    }


def ticket_records(look: Lookup, columns: Columns) -> list[Record]:
    return [_ticket(look, row) for row in _rows(columns)]


# ======================================================================== world

Builder = Callable[[Lookup, Columns], list[Record]]


@dataclass(frozen=True)
class Table:
    """One stream: columns sorted by (window key, id) plus the record builder."""

    keys: I64
    columns: Columns
    build: Builder

    @classmethod
    def sorted(cls, keys: I64, ids: list[NDArray[Any]], columns: Columns, build: Builder) -> Table:
        order = np.lexsort((*reversed(ids), keys))
        return cls(keys[order], _take(columns, order), build)

    def __len__(self) -> int:
        return int(self.keys.size)

    def window(self, look: Lookup, start: int, end: int) -> list[Record]:
        first, stop = np.searchsorted(self.keys, [start, end], side="left").tolist()
        return self.build(look, {name: column[first:stop] for name, column in self.columns.items()})


def _stripe_tables(
    rng: Rng, ids: Rng, customers: Columns, subs: list[Subscription], t_end: int
) -> dict[str, Table]:
    statics = _subscription_columns(ids, subs, customers["id"])
    events = _event_columns(ids, subs, statics)
    charges, invoice_ids = _charge_columns(ids, subs, statics)
    invoices = _invoice_columns(subs, statics, charges["id"], invoice_ids)
    refunds = refund_columns(rng, ids, charges, t_end)
    return {
        "customers": Table.sorted(
            customers["created"], [customers["id"]], customers, customer_records
        ),
        "subscriptions": Table.sorted(
            statics["created"], [statics["sub_id"]], statics, subscription_records
        ),
        "invoices": Table.sorted(invoices["created"], [invoices["id"]], invoices, invoice_records),
        "events": Table.sorted(
            events["event_created"], [events["event_id"]], events, stripe_event_records
        ),
        "charges": Table.sorted(charges["created"], [charges["id"]], charges, charge_records),
        "refunds": Table.sorted(refunds["created"], [refunds["id"]], refunds, refund_records),
    }


def _to_seconds(name: str, moment: datetime) -> int:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive datetime {moment.isoformat()}")
    return _seconds(moment)


class DemoWorld:
    """A simulated business; `fetch` serves its records like the real source APIs."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.catalog = build_catalog(config)
        self._t0 = _day_start(config.start)
        self._t_end = self._t0 + config.days * DAY
        children = np.random.default_rng(config.seed).spawn(len(_RNG_STREAMS))
        with _gc_paused():
            self._simulate(dict(zip(_RNG_STREAMS, children, strict=True)))

    def _simulate(self, rng: dict[str, Rng]) -> None:
        """Run every simulation once, in a fixed order, and store the sorted streams."""
        cfg, catalog, t0, t_end = self.config, self.catalog, self._t0, self._t_end
        users = simulate_users(rng["users"], cfg, catalog, t0)
        engagement = simulate_engagement(rng["sessions"], users, t_end)
        customer_user, first_paid = choose_customers(rng["billing"], users, catalog, t_end)
        subs = simulate_billing(rng["billing"], catalog, users, customer_user, first_paid, t_end)
        self._spike = plant_spike(rng["spike"], cfg, catalog, subs, t0)
        clicks = upgrade_clicks(rng["mixpanel"], users, catalog, subs, t_end)
        events, self._bad = mixpanel_columns(rng["mixpanel"], [*engagement, clicks])
        customers = _customer_columns(rng["billing"], rng["ids"], users, customer_user, first_paid)
        stripe = _stripe_tables(rng["billing"], rng["ids"], customers, subs, t_end)
        tickets = ticket_columns(rng["tickets"], users, catalog, subs, t_end)
        self._fx = fx_columns(rng["fx"], catalog, t0, cfg.days)
        self._look = Lookup.of(users, catalog)
        mixpanel_ids = [events["id_hi"], events["id_lo"]]
        self._tables: dict[tuple[str, str], Table] = {
            ("mixpanel", "events"): Table.sorted(
                events["key"], mixpanel_ids, events, mixpanel_records
            ),
            **{("stripe", name): table for name, table in stripe.items()},
            ("zendesk", "tickets"): Table.sorted(
                tickets["updated"], [tickets["id"]], tickets, ticket_records
            ),
        }

    @property
    def start(self) -> datetime:
        """First moment of the world (midnight UTC of `config.start`)."""
        return EPOCH + timedelta(seconds=self._t0)

    @property
    def end(self) -> datetime:
        """The world's "now": start + days, exclusive, tz-aware UTC."""
        return EPOCH + timedelta(seconds=self._t_end)

    def products(self) -> list[Record]:
        return [item.as_dict() for item in self.catalog.products]

    def fx_rates(self) -> list[Record]:
        """Units of USD per unit of each non-USD currency, for every day of the range."""
        rows = zip(
            self._fx["day"].tolist(),
            self._fx["currency"].tolist(),
            self._fx["rate"].tolist(),
            strict=True,
        )
        return [
            {
                "day": (EPOCH + timedelta(seconds=day)).date(),
                "currency": currency,
                "rate": float(f"{rate:.6g}"),
            }
            for day, currency, rate in rows
        ]

    def fetch(self, source: str, stream: str, start: datetime, end: datetime) -> list[Record]:
        """Records of one stream whose window timestamp is in [start, end), by (timestamp, id)."""
        table = self._tables.get((source, stream))
        if table is None:
            known = ", ".join(f"{s}/{t}" for s, t in self._tables)
            raise ValueError(f"unknown stream {source}/{stream}; known streams: {known}")
        lo, hi = _to_seconds("start", start), _to_seconds("end", end)
        if hi < lo:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        with _gc_paused():
            return table.window(self._look, lo, hi)

    def counts(self) -> dict[tuple[str, str], int]:
        """Total records per (source, stream), bad records included."""
        return {key: len(table) for key, table in self._tables.items()}

    def planted_bad_records(self) -> dict[str, int]:
        """Exact numbers of planted bad Mixpanel events by kind (duplicates: extra copies)."""
        return dict(self._bad)

    def planted_spike(self) -> dict[str, Any]:
        """The planted churn spike (`cancellations` < `requested` only in too small worlds)."""
        spike = self._spike
        return {
            "product_id": spike.product_id,
            "day": spike.day,
            "requested": spike.requested,
            "eligible": spike.eligible,
            "cancellations": spike.cancellations,
        }


@functools.lru_cache(maxsize=4)
def get_world(config: DemoConfig) -> DemoWorld:
    """The process-wide shared world for `config` (built on first use)."""
    return DemoWorld(config)
