-- The counts of growth_assets/cohorts/lifecycle.py, copied into a temporary table dropped
-- at commit, so the ratios are computed by PostgreSQL's numeric arithmetic
-- (sql/cohorts/growth_accounting.sql).
CREATE TEMP TABLE lifecycle_counts (
    grain       text    NOT NULL,
    period      date    NOT NULL,
    product_id  text    NOT NULL,
    active      integer NOT NULL,
    new         integer NOT NULL,
    retained    integer NOT NULL,
    resurrected integer NOT NULL,
    churned     integer NOT NULL,
    previous    integer NOT NULL
) ON COMMIT DROP
