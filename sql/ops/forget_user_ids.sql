-- Before rebuilding growth from raw under another pseudonymisation setting (a new, a first or
-- no GROWTH_PSEUDONYMISE_KEY; docs/security.md "Changing the key"): empty every growth table
-- that holds user ids or is derived from them, the normalise-stage rejects and late-data marks
-- they produced, and the recorded pseudonym space. Kept: raw (the rebuild reads it), the
-- reference tables (event_types, currencies), FX rates, ingest-stage rejects, cursors, alerts,
-- and the log of check results. One transaction: all or nothing.
TRUNCATE
    growth.events,
    growth.users,
    growth.subscriptions,
    growth.user_activity_daily,
    growth.user_activity_totals,
    growth.metrics_hourly,
    growth.metrics_daily,
    growth.metrics_monthly,
    growth.engagement_daily,
    growth.growth_accounting,
    growth.retention_triangle,
    growth.cohort_ltv,
    growth.power_users,
    growth.feature_adoption,
    growth.mrr_customer_monthly,
    growth.mrr_monthly,
    growth.funnel_users,
    growth.funnel_conversion,
    growth.north_star,
    growth.customer_360;

DELETE FROM ops.rejected_events WHERE stage = 'normalise';

DELETE FROM ops.stale_windows;

DELETE FROM ops.pseudonymisation;
