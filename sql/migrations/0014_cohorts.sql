-- Growth analytics, part A: lifecycle and growth accounting, retention triangles, LTV by
-- cohort, the power-user histogram and feature adoption (growth_assets/cohorts/). Plain
-- tables on every tier: they are small, rebuilt by window in one transaction, and need no
-- continuous aggregate. Definitions: DESIGN.md "Metric definitions"; the 'all' product row
-- is the sum of the product rows ((product, user) pairs), as in the rollups.

-- Growth accounting per grain ('day', 'week' = ISO week from Monday, 'month'), UTC period
-- start, product. new + retained + resurrected = active; retained + churned = previous_active.
CREATE TABLE growth.growth_accounting (
    grain            text          NOT NULL CHECK (grain IN ('day', 'week', 'month')),
    period           date          NOT NULL,
    product_id       text          NOT NULL,
    active_users     integer       NOT NULL,
    new_users        integer       NOT NULL,
    retained_users   integer       NOT NULL,
    resurrected_users integer      NOT NULL,
    churned_users    integer       NOT NULL,
    previous_active_users integer  NOT NULL,
    quick_ratio      numeric(14, 6),            -- NULL when nobody churned
    retention_rate   numeric(7, 6),             -- NULL when nobody was active before
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (grain, product_id, period)
);

-- Retention triangles, sparse: one row per (cohort, segment, period offset) where a member
-- was active in the period or had their last active period there. Offset 0 always exists
-- (every member is active in their first period); cohort_size and periods_elapsed repeat on
-- every row of the cohort so the views can fill the empty cells.
CREATE TABLE growth.retention_triangle (
    grain             text     NOT NULL CHECK (grain IN ('week', 'month')),
    product_id        text     NOT NULL,
    segment_type      text     NOT NULL CHECK (segment_type IN ('all', 'channel', 'country', 'plan')),
    segment           text     NOT NULL,
    cohort            date     NOT NULL,
    period_offset     integer  NOT NULL CHECK (period_offset >= 0),
    cohort_size       integer  NOT NULL,
    periods_elapsed   integer  NOT NULL,
    active_users      integer  NOT NULL,  -- members active in period cohort + offset
    last_active_users integer  NOT NULL,  -- members whose last active period is cohort + offset
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain, product_id, segment_type, segment, cohort, period_offset)
);

-- LTV by cohort, dense: every offset from 0 to the periods elapsed, per product and 'all'.
CREATE TABLE growth.cohort_ltv (
    grain                  text           NOT NULL CHECK (grain IN ('week', 'month')),
    product_id             text           NOT NULL,
    cohort                 date           NOT NULL,
    period_offset          integer        NOT NULL CHECK (period_offset >= 0),
    cohort_size            integer        NOT NULL,
    gross_revenue          numeric(20, 6) NOT NULL,
    refunds                numeric(20, 6) NOT NULL,
    net_revenue            numeric(20, 6) NOT NULL,
    cumulative_net_revenue numeric(20, 6) NOT NULL,
    ltv                    numeric(20, 6) NOT NULL,
    updated_at             timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (grain, product_id, cohort, period_offset)
);

-- Power users: how many users were active on exactly active_days of the window_days (7 or
-- 28) days ending on day. Buckets without users have no row.
CREATE TABLE growth.power_users (
    day          date        NOT NULL,
    product_id   text        NOT NULL,
    window_days  smallint    NOT NULL CHECK (window_days IN (7, 28)),
    active_days  smallint    NOT NULL CHECK (active_days BETWEEN 1 AND window_days),
    users        integer     NOT NULL CHECK (users > 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, product_id, window_days, active_days)
);

-- Feature adoption: active users of the period who used a configured feature. A feature
-- nobody used in a product and period has no row.
CREATE TABLE growth.feature_adoption (
    grain          text          NOT NULL CHECK (grain IN ('day', 'week', 'month')),
    period         date          NOT NULL,
    product_id     text          NOT NULL,
    feature        text          NOT NULL,
    active_users   integer       NOT NULL,
    feature_users  integer       NOT NULL CHECK (feature_users > 0),
    adoption       numeric(7, 6) NOT NULL,
    updated_at     timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (grain, product_id, period, feature)
);


CREATE VIEW analytics.growth_accounting AS
SELECT
    g.grain,
    g.period,
    CAST(g.period + CAST('1 ' || g.grain AS interval) AS date) AS period_end,
    g.product_id,
    g.active_users,
    g.new_users,
    g.retained_users,
    g.resurrected_users,
    g.churned_users,
    g.previous_active_users,
    g.quick_ratio,
    g.retention_rate,
    CAST(g.period + CAST('1 ' || g.grain AS interval) AS date)
        <= (SELECT max(day) + 1 FROM growth.user_activity_daily) AS complete,
    g.updated_at AS refreshed_at
FROM growth.growth_accounting AS g
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR g.product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.growth_accounting IS 'Lifecycle and growth accounting per grain (day, ISO week from Monday, calendar month; UTC), period and product, plus product_id = ''all''. A user is active in a period with at least one user-initiated event. new: first active period; retained: active now and in the previous period; resurrected: active now, not in the previous period, active before; churned: active in the previous period, not now. active = new + retained + resurrected; previous_active = retained + churned.';
COMMENT ON COLUMN analytics.growth_accounting.grain IS 'day, week (ISO, Monday start) or month (calendar), UTC.';
COMMENT ON COLUMN analytics.growth_accounting.period IS 'First day of the period.';
COMMENT ON COLUMN analytics.growth_accounting.period_end IS 'First day after the period (exclusive end).';
COMMENT ON COLUMN analytics.growth_accounting.product_id IS 'Product id, or ''all'' for the sum over every product (users are counted per product, so ''all'' counts (product, user) pairs).';
COMMENT ON COLUMN analytics.growth_accounting.active_users IS 'Distinct users active in the period.';
COMMENT ON COLUMN analytics.growth_accounting.new_users IS 'Active users whose first active period this is.';
COMMENT ON COLUMN analytics.growth_accounting.retained_users IS 'Active users who were also active in the previous period.';
COMMENT ON COLUMN analytics.growth_accounting.resurrected_users IS 'Active users not active in the previous period but active some time before it.';
COMMENT ON COLUMN analytics.growth_accounting.churned_users IS 'Users active in the previous period and not in this one.';
COMMENT ON COLUMN analytics.growth_accounting.previous_active_users IS 'Distinct users active in the previous period (= retained + churned).';
COMMENT ON COLUMN analytics.growth_accounting.quick_ratio IS 'User quick ratio: (new + resurrected) / churned; NULL when nobody churned.';
COMMENT ON COLUMN analytics.growth_accounting.retention_rate IS 'retained / active in the previous period, between 0 and 1; NULL when nobody was active in the previous period.';
COMMENT ON COLUMN analytics.growth_accounting.complete IS 'The period has ended by the last day with activity data (false: period to date).';
COMMENT ON COLUMN analytics.growth_accounting.refreshed_at IS 'When the pipeline last rebuilt this row.';

-- The triangle with its empty cells filled: every offset from 0 to periods_elapsed.
CREATE VIEW analytics.retention_triangle AS
WITH cohorts AS (
    SELECT grain, product_id, segment_type, segment, cohort, cohort_size, periods_elapsed,
           updated_at
    FROM growth.retention_triangle
    WHERE period_offset = 0
      AND (NOT EXISTS (SELECT 1 FROM ops.product_scope)
           OR product_id IN (SELECT product_id FROM ops.product_scope))
),
cells AS (
    SELECT c.grain, c.product_id, c.segment_type, c.segment, c.cohort, c.cohort_size,
           c.periods_elapsed, k.period_offset, coalesce(t.active_users, 0) AS active_users,
           coalesce(t.last_active_users, 0) AS last_active_users, c.updated_at
    FROM cohorts AS c
    CROSS JOIN LATERAL generate_series(0, c.periods_elapsed) AS k(period_offset)
    LEFT JOIN growth.retention_triangle AS t
        ON t.grain = c.grain AND t.product_id = c.product_id
       AND t.segment_type = c.segment_type AND t.segment = c.segment
       AND t.cohort = c.cohort AND t.period_offset = k.period_offset
),
unbounded AS (
    SELECT cells.*,
           CAST(sum(last_active_users) OVER (
               PARTITION BY grain, product_id, segment_type, segment, cohort
               ORDER BY period_offset DESC) AS integer) AS unbounded_users
    FROM cells
)
SELECT
    grain,
    product_id,
    segment_type,
    segment,
    cohort,
    period_offset,
    CAST(cohort + period_offset * CAST('1 ' || grain AS interval) AS date) AS period,
    cohort_size,
    active_users,
    round(CAST(active_users AS numeric) / cohort_size, 6) AS retention_rate,
    unbounded_users,
    round(CAST(unbounded_users AS numeric) / cohort_size, 6) AS unbounded_retention_rate,
    period_offset = periods_elapsed AS latest_period,
    updated_at AS refreshed_at
FROM unbounded;
COMMENT ON VIEW analytics.retention_triangle IS 'Retention triangles for weekly (ISO) and monthly cohorts, per product (and ''all'') and segment. Cohort = the period of a user''s first activity (user-initiated event). N-period retention: members active in period cohort + offset / cohort size. Unbounded retention (a separate variant): members active in period cohort + offset or any later period / cohort size. Every offset from 0 to the last period with data is present (empty cells read 0).';
COMMENT ON COLUMN analytics.retention_triangle.grain IS 'week (ISO, Monday start) or month, UTC.';
COMMENT ON COLUMN analytics.retention_triangle.product_id IS 'Product id, or ''all'' (each (product, user) pair is a member of its own product cohort; ''all'' sums them).';
COMMENT ON COLUMN analytics.retention_triangle.segment_type IS 'all (no split), channel or country (growth.users at signup), or plan (the subscription plan held during the cohort period, ''none'' without one).';
COMMENT ON COLUMN analytics.retention_triangle.segment IS 'The segment value (''all'' when segment_type is all; ''unknown'' when the attribute is missing).';
COMMENT ON COLUMN analytics.retention_triangle.cohort IS 'First day of the cohort period (the members'' first active period).';
COMMENT ON COLUMN analytics.retention_triangle.period_offset IS 'Periods since the cohort period (0 = the cohort period).';
COMMENT ON COLUMN analytics.retention_triangle.period IS 'First day of period cohort + period_offset.';
COMMENT ON COLUMN analytics.retention_triangle.cohort_size IS 'Users whose first active period is the cohort.';
COMMENT ON COLUMN analytics.retention_triangle.active_users IS 'Members active in the period (N-period retention count).';
COMMENT ON COLUMN analytics.retention_triangle.retention_rate IS 'active_users / cohort_size (N-period retention).';
COMMENT ON COLUMN analytics.retention_triangle.unbounded_users IS 'Members active in the period or any later one (unbounded retention count).';
COMMENT ON COLUMN analytics.retention_triangle.unbounded_retention_rate IS 'unbounded_users / cohort_size (unbounded retention).';
COMMENT ON COLUMN analytics.retention_triangle.latest_period IS 'The period is the latest with data (possibly still running).';
COMMENT ON COLUMN analytics.retention_triangle.refreshed_at IS 'When the pipeline last rebuilt this cohort.';

-- Wide pivot for heatmaps: one row per cohort and variant, period_0 .. period_12 rates.
CREATE VIEW analytics.retention_heatmap AS
SELECT
    t.grain,
    t.product_id,
    t.segment_type,
    t.segment,
    t.cohort,
    v.variant,
    t.cohort_size,
    max(v.rate) FILTER (WHERE t.period_offset = 0) AS period_0,
    max(v.rate) FILTER (WHERE t.period_offset = 1) AS period_1,
    max(v.rate) FILTER (WHERE t.period_offset = 2) AS period_2,
    max(v.rate) FILTER (WHERE t.period_offset = 3) AS period_3,
    max(v.rate) FILTER (WHERE t.period_offset = 4) AS period_4,
    max(v.rate) FILTER (WHERE t.period_offset = 5) AS period_5,
    max(v.rate) FILTER (WHERE t.period_offset = 6) AS period_6,
    max(v.rate) FILTER (WHERE t.period_offset = 7) AS period_7,
    max(v.rate) FILTER (WHERE t.period_offset = 8) AS period_8,
    max(v.rate) FILTER (WHERE t.period_offset = 9) AS period_9,
    max(v.rate) FILTER (WHERE t.period_offset = 10) AS period_10,
    max(v.rate) FILTER (WHERE t.period_offset = 11) AS period_11,
    max(v.rate) FILTER (WHERE t.period_offset = 12) AS period_12
FROM analytics.retention_triangle AS t
CROSS JOIN LATERAL (
    VALUES ('n_period', t.retention_rate), ('unbounded', t.unbounded_retention_rate)
) AS v(variant, rate)
WHERE t.period_offset <= 12
GROUP BY t.grain, t.product_id, t.segment_type, t.segment, t.cohort, v.variant, t.cohort_size;
COMMENT ON VIEW analytics.retention_heatmap IS 'Retention triangles pivoted for BI heatmaps: one row per cohort, segment and variant with the rates of periods 0 to 12 as columns (NULL where the period has not come yet). Reads analytics.retention_triangle, so the same product restriction applies.';
COMMENT ON COLUMN analytics.retention_heatmap.grain IS 'week (ISO, Monday start) or month, UTC.';
COMMENT ON COLUMN analytics.retention_heatmap.product_id IS 'Product id, or ''all''.';
COMMENT ON COLUMN analytics.retention_heatmap.segment_type IS 'all, channel, country or plan.';
COMMENT ON COLUMN analytics.retention_heatmap.segment IS 'The segment value (''all'' when segment_type is all).';
COMMENT ON COLUMN analytics.retention_heatmap.cohort IS 'First day of the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.variant IS 'n_period (active in exactly that period) or unbounded (active in that period or later).';
COMMENT ON COLUMN analytics.retention_heatmap.cohort_size IS 'Users whose first active period is the cohort.';
COMMENT ON COLUMN analytics.retention_heatmap.period_0 IS 'Share of the cohort retained in period 0 (the cohort period: 1).';
COMMENT ON COLUMN analytics.retention_heatmap.period_1 IS 'Share of the cohort retained 1 period after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_2 IS 'Share of the cohort retained 2 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_3 IS 'Share of the cohort retained 3 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_4 IS 'Share of the cohort retained 4 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_5 IS 'Share of the cohort retained 5 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_6 IS 'Share of the cohort retained 6 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_7 IS 'Share of the cohort retained 7 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_8 IS 'Share of the cohort retained 8 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_9 IS 'Share of the cohort retained 9 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_10 IS 'Share of the cohort retained 10 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_11 IS 'Share of the cohort retained 11 periods after the cohort period.';
COMMENT ON COLUMN analytics.retention_heatmap.period_12 IS 'Share of the cohort retained 12 periods after the cohort period.';

CREATE VIEW analytics.cohort_ltv AS
SELECT grain, product_id, cohort, period_offset,
       CAST(cohort + period_offset * CAST('1 ' || grain AS interval) AS date) AS period,
       cohort_size, gross_revenue, refunds, net_revenue, cumulative_net_revenue, ltv,
       updated_at AS refreshed_at
FROM growth.cohort_ltv
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.cohort_ltv IS 'LTV by cohort: cumulative net revenue (reporting currency, gross revenue minus refunds, each counted in the period it happened) per cohort member by periods since the cohort period, for weekly (ISO) and monthly cohorts, per product and ''all''. Revenue of a member before their first active period counts in period 0; revenue of users never active belongs to no cohort.';
COMMENT ON COLUMN analytics.cohort_ltv.grain IS 'week (ISO, Monday start) or month, UTC.';
COMMENT ON COLUMN analytics.cohort_ltv.product_id IS 'Product id, or ''all'' (the sum over products).';
COMMENT ON COLUMN analytics.cohort_ltv.cohort IS 'First day of the cohort period (the members'' first active period).';
COMMENT ON COLUMN analytics.cohort_ltv.period_offset IS 'Periods since the cohort period (0 = the cohort period).';
COMMENT ON COLUMN analytics.cohort_ltv.period IS 'First day of period cohort + period_offset.';
COMMENT ON COLUMN analytics.cohort_ltv.cohort_size IS 'Users whose first active period is the cohort.';
COMMENT ON COLUMN analytics.cohort_ltv.gross_revenue IS 'Money collected from the members in this period, reporting currency.';
COMMENT ON COLUMN analytics.cohort_ltv.refunds IS 'Money refunded to the members in this period, reporting currency (positive).';
COMMENT ON COLUMN analytics.cohort_ltv.net_revenue IS 'gross_revenue - refunds.';
COMMENT ON COLUMN analytics.cohort_ltv.cumulative_net_revenue IS 'Net revenue of the members from the cohort period up to and including this one.';
COMMENT ON COLUMN analytics.cohort_ltv.ltv IS 'cumulative_net_revenue / cohort_size: lifetime value per member so far.';
COMMENT ON COLUMN analytics.cohort_ltv.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.power_users AS
SELECT day, product_id, window_days, active_days, users, updated_at AS refreshed_at
FROM growth.power_users
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.power_users IS 'Power-user histogram (L7 / L28) per product (and ''all'') and UTC day: how many users were active on exactly active_days of the window_days days ending on that day. Buckets without users have no row; the L7 users of a day sum to its WAU.';
COMMENT ON COLUMN analytics.power_users.day IS 'UTC day; the window ends on (and includes) it.';
COMMENT ON COLUMN analytics.power_users.product_id IS 'Product id, or ''all'' (the sum over products).';
COMMENT ON COLUMN analytics.power_users.window_days IS '7 (L7) or 28 (L28).';
COMMENT ON COLUMN analytics.power_users.active_days IS 'Days of the window with at least one user-initiated event (1 .. window_days).';
COMMENT ON COLUMN analytics.power_users.users IS 'Users active on exactly active_days days of the window.';
COMMENT ON COLUMN analytics.power_users.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.feature_adoption AS
SELECT grain, period, product_id, feature, active_users, feature_users, adoption,
       updated_at AS refreshed_at
FROM growth.feature_adoption
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.feature_adoption IS 'Feature adoption per grain (day, ISO week, month; UTC), period, product (and ''all'') and configured feature (GROWTH_FEATURES): the share of the period''s active users who used the feature. A feature nobody used in the period has no row (adoption 0).';
COMMENT ON COLUMN analytics.feature_adoption.grain IS 'day, week (ISO, Monday start) or month, UTC.';
COMMENT ON COLUMN analytics.feature_adoption.period IS 'First day of the period.';
COMMENT ON COLUMN analytics.feature_adoption.product_id IS 'Product id, or ''all'' (the sum over products).';
COMMENT ON COLUMN analytics.feature_adoption.feature IS 'Configured feature name.';
COMMENT ON COLUMN analytics.feature_adoption.active_users IS 'Distinct users active in the period (user-initiated event).';
COMMENT ON COLUMN analytics.feature_adoption.feature_users IS 'Active users of the period with at least one event matching the feature.';
COMMENT ON COLUMN analytics.feature_adoption.adoption IS 'feature_users / active_users, between 0 and 1.';
COMMENT ON COLUMN analytics.feature_adoption.refreshed_at IS 'When the pipeline last rebuilt this row.';

GRANT SELECT ON analytics.growth_accounting, analytics.retention_triangle,
    analytics.retention_heatmap, analytics.cohort_ltv, analytics.power_users,
    analytics.feature_adoption TO growth_bi;
