-- The analytics schema: stable, documented views for BI tools, a read-only BI role, and an
-- optional restriction of product teams to their own product.
--
-- Views run with their owner's rights (the default; never security_invoker), so growth_bi
-- reads them without any grant on growth, raw or ops. Every view keeps its columns stable:
-- new columns are added at the end by later migrations, none is renamed or dropped.

-- Product restriction: a role listed here (directly or through membership) sees only the
-- rows of its products in every analytics view, and no portfolio ('all') rows unless 'all'
-- is listed. Roles not listed, and superusers, see everything.
CREATE TABLE ops.product_readers (
    role_name   text NOT NULL,
    product_id  text NOT NULL,
    PRIMARY KEY (role_name, product_id)
);

-- The products the current user is restricted to (empty: no restriction).
CREATE VIEW ops.product_scope AS
SELECT r.product_id
FROM ops.product_readers AS r
JOIN pg_roles AS g ON g.rolname = r.role_name
WHERE pg_has_role(current_user, g.oid, 'MEMBER')
  AND NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false);


CREATE VIEW analytics.metrics_hourly AS
SELECT
    hour,
    product_id,
    gross_revenue,
    refunds,
    net_revenue,
    signups,
    activations,
    churned_customers,
    active_users,
    tickets_created,
    tickets_solved,
    events,
    key_actions,
    subscriptions_started,
    paying_customers,
    round(net_revenue / nullif(active_users, 0), 6) AS arpu,
    updated_at AS refreshed_at
FROM growth.metrics_hourly
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.metrics_hourly IS 'KPIs per product and hour (UTC), plus product_id = ''all'' for the portfolio. Hours without events read 0 from the product''s first day on. Rebuilt by the pipeline (hourly for today, late data through the late-data sensor).';
COMMENT ON COLUMN analytics.metrics_hourly.hour IS 'Hour (UTC) the row summarises: [hour, hour + 1 hour).';
COMMENT ON COLUMN analytics.metrics_hourly.product_id IS 'Product id, or ''all'' for the sum over every product (users are counted per product, so ''all'' counts (product, user) pairs).';
COMMENT ON COLUMN analytics.metrics_hourly.gross_revenue IS 'Money collected (successful charges) in the reporting currency.';
COMMENT ON COLUMN analytics.metrics_hourly.refunds IS 'Money refunded in the reporting currency (positive).';
COMMENT ON COLUMN analytics.metrics_hourly.net_revenue IS 'Gross revenue minus refunds, reporting currency.';
COMMENT ON COLUMN analytics.metrics_hourly.signups IS 'Accounts created.';
COMMENT ON COLUMN analytics.metrics_hourly.activations IS 'Users reaching the product''s activation milestone.';
COMMENT ON COLUMN analytics.metrics_hourly.churned_customers IS 'Distinct customers with a subscription ending in the period.';
COMMENT ON COLUMN analytics.metrics_hourly.active_users IS 'Distinct users with at least one user-initiated event in the period.';
COMMENT ON COLUMN analytics.metrics_hourly.tickets_created IS 'Support tickets opened.';
COMMENT ON COLUMN analytics.metrics_hourly.tickets_solved IS 'Support tickets solved.';
COMMENT ON COLUMN analytics.metrics_hourly.events IS 'Canonical events of every type.';
COMMENT ON COLUMN analytics.metrics_hourly.key_actions IS 'Key actions performed (the funnel''s key step).';
COMMENT ON COLUMN analytics.metrics_hourly.subscriptions_started IS 'Subscriptions created.';
COMMENT ON COLUMN analytics.metrics_hourly.paying_customers IS 'Distinct customers with at least one successful charge in the period.';
COMMENT ON COLUMN analytics.metrics_hourly.arpu IS 'Average revenue per active user: net_revenue / active_users (NULL without active users).';
COMMENT ON COLUMN analytics.metrics_hourly.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.metrics_daily AS
SELECT
    day,
    product_id,
    gross_revenue,
    refunds,
    net_revenue,
    signups,
    activations,
    churned_customers,
    active_users,
    tickets_created,
    tickets_solved,
    events,
    key_actions,
    subscriptions_started,
    paying_customers,
    round(net_revenue / nullif(active_users, 0), 6) AS arpu,
    updated_at AS refreshed_at
FROM growth.metrics_daily
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.metrics_daily IS 'KPIs per product and UTC day, plus product_id = ''all'' for the portfolio. Days without events read 0 from the product''s first day on.';
COMMENT ON COLUMN analytics.metrics_daily.day IS 'UTC day the row summarises.';
COMMENT ON COLUMN analytics.metrics_daily.product_id IS 'Product id, or ''all'' for the sum over every product (users are counted per product, so ''all'' counts (product, user) pairs).';
COMMENT ON COLUMN analytics.metrics_daily.gross_revenue IS 'Money collected (successful charges) in the reporting currency.';
COMMENT ON COLUMN analytics.metrics_daily.refunds IS 'Money refunded in the reporting currency (positive).';
COMMENT ON COLUMN analytics.metrics_daily.net_revenue IS 'Gross revenue minus refunds, reporting currency.';
COMMENT ON COLUMN analytics.metrics_daily.signups IS 'Accounts created.';
COMMENT ON COLUMN analytics.metrics_daily.activations IS 'Users reaching the product''s activation milestone.';
COMMENT ON COLUMN analytics.metrics_daily.churned_customers IS 'Distinct customers with a subscription ending in the period.';
COMMENT ON COLUMN analytics.metrics_daily.active_users IS 'Distinct users with at least one user-initiated event in the period.';
COMMENT ON COLUMN analytics.metrics_daily.tickets_created IS 'Support tickets opened.';
COMMENT ON COLUMN analytics.metrics_daily.tickets_solved IS 'Support tickets solved.';
COMMENT ON COLUMN analytics.metrics_daily.events IS 'Canonical events of every type.';
COMMENT ON COLUMN analytics.metrics_daily.key_actions IS 'Key actions performed (the funnel''s key step).';
COMMENT ON COLUMN analytics.metrics_daily.subscriptions_started IS 'Subscriptions created.';
COMMENT ON COLUMN analytics.metrics_daily.paying_customers IS 'Distinct customers with at least one successful charge in the period.';
COMMENT ON COLUMN analytics.metrics_daily.arpu IS 'Average revenue per active user: net_revenue / active_users (NULL without active users).';
COMMENT ON COLUMN analytics.metrics_daily.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.metrics_monthly AS
SELECT
    month,
    product_id,
    gross_revenue,
    refunds,
    net_revenue,
    signups,
    activations,
    churned_customers,
    active_users,
    tickets_created,
    tickets_solved,
    events,
    key_actions,
    subscriptions_started,
    paying_customers,
    round(net_revenue / nullif(active_users, 0), 6) AS arpu,
    updated_at AS refreshed_at
FROM growth.metrics_monthly
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.metrics_monthly IS 'KPIs per product and UTC calendar month, plus product_id = ''all'' for the portfolio. Distinct-user metrics count each user once per month.';
COMMENT ON COLUMN analytics.metrics_monthly.month IS 'First day of the UTC calendar month the row summarises (the current month is month to date).';
COMMENT ON COLUMN analytics.metrics_monthly.product_id IS 'Product id, or ''all'' for the sum over every product (users are counted per product, so ''all'' counts (product, user) pairs).';
COMMENT ON COLUMN analytics.metrics_monthly.gross_revenue IS 'Money collected (successful charges) in the reporting currency.';
COMMENT ON COLUMN analytics.metrics_monthly.refunds IS 'Money refunded in the reporting currency (positive).';
COMMENT ON COLUMN analytics.metrics_monthly.net_revenue IS 'Gross revenue minus refunds, reporting currency.';
COMMENT ON COLUMN analytics.metrics_monthly.signups IS 'Accounts created.';
COMMENT ON COLUMN analytics.metrics_monthly.activations IS 'Users reaching the product''s activation milestone.';
COMMENT ON COLUMN analytics.metrics_monthly.churned_customers IS 'Distinct customers with a subscription ending in the period. Each user once per month.';
COMMENT ON COLUMN analytics.metrics_monthly.active_users IS 'Distinct users with at least one user-initiated event in the period. Each user once per month.';
COMMENT ON COLUMN analytics.metrics_monthly.tickets_created IS 'Support tickets opened.';
COMMENT ON COLUMN analytics.metrics_monthly.tickets_solved IS 'Support tickets solved.';
COMMENT ON COLUMN analytics.metrics_monthly.events IS 'Canonical events of every type.';
COMMENT ON COLUMN analytics.metrics_monthly.key_actions IS 'Key actions performed (the funnel''s key step).';
COMMENT ON COLUMN analytics.metrics_monthly.subscriptions_started IS 'Subscriptions created.';
COMMENT ON COLUMN analytics.metrics_monthly.paying_customers IS 'Distinct customers with at least one successful charge in the period. Each user once per month.';
COMMENT ON COLUMN analytics.metrics_monthly.arpu IS 'Average revenue per active user: net_revenue / active_users (NULL without active users).';
COMMENT ON COLUMN analytics.metrics_monthly.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.engagement_daily AS
SELECT day, product_id, dau, wau, mau, stickiness, updated_at AS refreshed_at
FROM growth.engagement_daily
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.engagement_daily IS 'Daily, weekly and monthly active users per product and UTC day, plus product_id = ''all'': distinct users with a user-initiated event on the day (DAU), in the trailing 7 days (WAU) and in the trailing 30 days ending that day (MAU).';
COMMENT ON COLUMN analytics.engagement_daily.day IS 'UTC day; WAU and MAU windows end on (and include) this day.';
COMMENT ON COLUMN analytics.engagement_daily.product_id IS 'Product id, or ''all'' for the sum over every product ((product, user) pairs).';
COMMENT ON COLUMN analytics.engagement_daily.dau IS 'Distinct active users on the day.';
COMMENT ON COLUMN analytics.engagement_daily.wau IS 'Distinct active users in the 7 days ending on the day.';
COMMENT ON COLUMN analytics.engagement_daily.mau IS 'Distinct active users in the 30 days ending on the day.';
COMMENT ON COLUMN analytics.engagement_daily.stickiness IS 'DAU / MAU, between 0 and 1 (NULL when MAU is 0).';
COMMENT ON COLUMN analytics.engagement_daily.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.user_activity_daily AS
SELECT day, product_id, user_id, events, user_events, revenue, refunds,
       active, signed_up, activated, paid, churned
FROM growth.user_activity_daily
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.user_activity_daily IS 'One row per product, user and UTC day with any event: the base for cohorts, retention and custom distinct counts.';
COMMENT ON COLUMN analytics.user_activity_daily.day IS 'UTC day.';
COMMENT ON COLUMN analytics.user_activity_daily.product_id IS 'Product id.';
COMMENT ON COLUMN analytics.user_activity_daily.user_id IS 'The product''s own user id (unique within the product only).';
COMMENT ON COLUMN analytics.user_activity_daily.events IS 'Canonical events of the user that day.';
COMMENT ON COLUMN analytics.user_activity_daily.user_events IS 'User-initiated events (signup, activation, engagement, key action).';
COMMENT ON COLUMN analytics.user_activity_daily.revenue IS 'Gross revenue collected from the user that day, reporting currency.';
COMMENT ON COLUMN analytics.user_activity_daily.refunds IS 'Refunds to the user that day, reporting currency.';
COMMENT ON COLUMN analytics.user_activity_daily.active IS 'The user was active: at least one user-initiated event.';
COMMENT ON COLUMN analytics.user_activity_daily.signed_up IS 'The user signed up that day.';
COMMENT ON COLUMN analytics.user_activity_daily.activated IS 'The user reached activation that day.';
COMMENT ON COLUMN analytics.user_activity_daily.paid IS 'At least one successful charge that day.';
COMMENT ON COLUMN analytics.user_activity_daily.churned IS 'A subscription of the user ended that day.';

CREATE VIEW analytics.events AS
SELECT event_id, occurred_at, product_id, source, event_type, user_id,
       value, currency, value_reporting
FROM growth.events
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.events IS 'Canonical business events, one row each, without their source properties (which may hold personal data). For drill-down; dashboards should read the rollups.';
COMMENT ON COLUMN analytics.events.event_id IS 'Stable id derived from source, source object id and event type.';
COMMENT ON COLUMN analytics.events.occurred_at IS 'When the event happened (timestamptz).';
COMMENT ON COLUMN analytics.events.product_id IS 'Product id.';
COMMENT ON COLUMN analytics.events.source IS 'Source system: stripe, mixpanel, zendesk, ...';
COMMENT ON COLUMN analytics.events.event_type IS 'Canonical event type (growth.event_types vocabulary).';
COMMENT ON COLUMN analytics.events.user_id IS 'The product''s own user id.';
COMMENT ON COLUMN analytics.events.value IS 'Amount in major units of currency (revenue, refund, MRR), else NULL.';
COMMENT ON COLUMN analytics.events.currency IS 'ISO 4217 code of value.';
COMMENT ON COLUMN analytics.events.value_reporting IS 'value converted into the reporting currency with the dated FX rate.';

-- The BI role: a NOLOGIN group. Roles are cluster-wide, so it is created only when missing
-- (another database of the cluster may have created it, possibly at this very moment).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'growth_bi') THEN
        BEGIN
            CREATE ROLE growth_bi NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;
COMMENT ON ROLE growth_bi IS 'Read-only BI access to the analytics views of the growth warehouse.';

GRANT USAGE ON SCHEMA analytics TO growth_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO growth_bi;
-- Views created later in analytics by the role that runs migrations are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO growth_bi;
-- Nothing else: no USAGE on raw, growth or ops (schemas created by the owner grant nothing to
-- PUBLIC; said explicitly here).
REVOKE ALL ON SCHEMA raw, growth, ops FROM PUBLIC;

-- Create (or reuse) a NOLOGIN role restricted to one product and make it a member of
-- growth_bi; call again to add products. Logins join it: CREATE ROLE alice LOGIN IN ROLE <it>.
-- (No percent sign in this file: the migration runner's driver reads it as a placeholder.)
CREATE FUNCTION ops.create_product_reader(reader_role text, reader_product text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF reader_role !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION USING MESSAGE = 'role name ' || quote_literal(reader_role)
            || ' must be lower-case letters, digits and _';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader_role) THEN
        EXECUTE 'CREATE ROLE ' || quote_ident(reader_role) || ' NOLOGIN';
    END IF;
    EXECUTE 'GRANT growth_bi TO ' || quote_ident(reader_role);
    INSERT INTO ops.product_readers (role_name, product_id)
    VALUES (reader_role, reader_product)
    ON CONFLICT DO NOTHING;
END
$$;
REVOKE EXECUTE ON FUNCTION ops.create_product_reader(text, text) FROM PUBLIC;
COMMENT ON FUNCTION ops.create_product_reader(text, text) IS
    'Create or extend a product-restricted BI role (member of growth_bi).';
