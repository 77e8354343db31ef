-- SaaS analytics (issue 5, part B): MRR per customer and month with its movements, the
-- monthly MRR summary, funnels, the north-star metric and the customer 360. Tables are
-- written by the growth_assets.saas assets, one window per transaction; the analytics views
-- below are what BI reads (restricted by ops.product_scope like every analytics view).

-- MRR per (month, product, customer): the customer's MRR at the start and at the end of the
-- month, both converted at the month's FX rate (the latest rate on or before the month's last
-- day), and the one movement that takes start to end. A customer is a product's user id.
CREATE TABLE growth.mrr_customer_monthly (
    month              date           NOT NULL,
    product_id         text           NOT NULL,
    customer_id        text           NOT NULL,
    start_mrr          numeric(20, 6) NOT NULL,
    end_mrr            numeric(20, 6) NOT NULL,
    movement           text           NOT NULL CHECK (movement IN
                           ('new', 'expansion', 'contraction', 'churn', 'reactivation', 'none')),
    new_mrr            numeric(20, 6) NOT NULL,
    expansion_mrr      numeric(20, 6) NOT NULL,
    contraction_mrr    numeric(20, 6) NOT NULL,
    churned_mrr        numeric(20, 6) NOT NULL,
    reactivation_mrr   numeric(20, 6) NOT NULL,
    subscriptions_end  integer        NOT NULL,
    updated_at         timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (month, product_id, customer_id)
);
CREATE INDEX mrr_customer_monthly_customer
    ON growth.mrr_customer_monthly (product_id, customer_id, month);

-- Per month and product, plus product_id = 'all' (sums over products; customers are
-- (product, customer) pairs): the MRR bridge and the rates derived from it.
CREATE TABLE growth.mrr_monthly (
    month                  date           NOT NULL,
    product_id             text           NOT NULL,
    start_mrr              numeric(20, 6) NOT NULL,
    new_mrr                numeric(20, 6) NOT NULL,
    expansion_mrr          numeric(20, 6) NOT NULL,
    reactivation_mrr       numeric(20, 6) NOT NULL,
    contraction_mrr        numeric(20, 6) NOT NULL,
    churned_mrr            numeric(20, 6) NOT NULL,
    net_new_mrr            numeric(20, 6) NOT NULL,
    end_mrr                numeric(20, 6) NOT NULL,
    fx_adjustment          numeric(20, 6),
    customers_start        integer        NOT NULL,
    new_customers          integer        NOT NULL,
    reactivated_customers  integer        NOT NULL,
    churned_customers      integer        NOT NULL,
    customers_end          integer        NOT NULL,
    quick_ratio            numeric(20, 6),
    grr                    numeric(20, 6),
    nrr                    numeric(20, 6),
    customer_churn_rate    numeric(20, 6),
    gross_mrr_churn_rate   numeric(20, 6),
    arpa                   numeric(20, 6),
    net_revenue            numeric(20, 6),
    active_users           integer,
    arpu                   numeric(20, 6),
    updated_at             timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (month, product_id)
);

-- One row per (funnel, product, user) who did the funnel's first step: when, and when each
-- later step was reached in order within the conversion window (NULL: not reached).
CREATE TABLE growth.funnel_users (
    funnel          text          NOT NULL,
    product_id      text          NOT NULL,
    user_id         text          NOT NULL,
    first_step_at   timestamptz   NOT NULL,
    steps_reached   smallint      NOT NULL,
    step_times      timestamptz[] NOT NULL,
    channel         text          NOT NULL,
    country         text          NOT NULL,
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (funnel, product_id, user_id)
);
CREATE INDEX funnel_users_first_step ON growth.funnel_users (funnel, first_step_at);

-- Step counts per funnel, signup cohort (week or month), product (and 'all'), segment.
CREATE TABLE growth.funnel_conversion (
    funnel                    text           NOT NULL,
    cohort_grain              text           NOT NULL CHECK (cohort_grain IN ('week', 'month')),
    cohort_start              date           NOT NULL,
    product_id                text           NOT NULL,
    segment                   text           NOT NULL CHECK (segment IN ('all', 'channel', 'country')),
    segment_value             text           NOT NULL,
    step_no                   smallint       NOT NULL,
    step_name                 text           NOT NULL,
    users                     integer        NOT NULL,
    users_previous_step       integer        NOT NULL,
    users_first_step          integer        NOT NULL,
    conversion_from_previous  numeric(7, 6),
    conversion_from_first     numeric(7, 6),
    drop_off                  integer        NOT NULL,
    drop_off_rate             numeric(7, 6),
    conversion_window         interval       NOT NULL,
    updated_at                timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (funnel, cohort_grain, cohort_start, product_id, segment, segment_value, step_no)
);

-- The configured north-star metric per grain, period and product (and 'all').
CREATE TABLE growth.north_star (
    grain         text          NOT NULL CHECK (grain IN ('day', 'week', 'month')),
    period_start  date          NOT NULL,
    product_id    text          NOT NULL,
    name          text          NOT NULL,
    expression    text          NOT NULL,
    value         numeric,
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (grain, period_start, product_id)
);

-- One row per (product, user): usage, billing, support and a health score, as of a day.
CREATE TABLE growth.customer_360 (
    product_id           text           NOT NULL,
    user_id              text           NOT NULL,
    as_of                date           NOT NULL,
    signed_up_at         timestamptz,
    channel              text,
    country              text,
    last_active_day      date,
    active_days_28       integer        NOT NULL,
    active_days_90       integer        NOT NULL,
    features_used        text[]         NOT NULL,
    plan                 text,
    subscription_status  text,
    active_subscriptions integer        NOT NULL,
    mrr                  numeric(20, 6) NOT NULL,
    customer_since       timestamptz,
    lifetime_revenue     numeric(20, 6) NOT NULL,
    lifetime_refunds     numeric(20, 6) NOT NULL,
    open_tickets         integer        NOT NULL,
    solved_tickets       integer        NOT NULL,
    last_ticket_at       timestamptz,
    health_score         numeric(5, 2)  NOT NULL CHECK (health_score BETWEEN 0 AND 100),
    health_band          text           NOT NULL CHECK (health_band IN ('healthy', 'neutral', 'at_risk')),
    updated_at           timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, user_id)
);

CREATE VIEW analytics.mrr_customer_monthly AS
SELECT month, product_id, customer_id, start_mrr, end_mrr, movement, new_mrr, expansion_mrr,
       contraction_mrr, churned_mrr, reactivation_mrr, subscriptions_end,
       updated_at AS refreshed_at
FROM growth.mrr_customer_monthly
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.mrr_customer_monthly IS 'MRR per product, customer and UTC calendar month (reporting currency), with the customer''s one MRR movement of the month (ChartMogul conventions, month-end snapshots). Start and end are both converted at the month''s FX rate, so currency fluctuation is never a movement.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.month IS 'First day of the UTC calendar month.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.product_id IS 'Product id.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.customer_id IS 'The paying user''s id in the product (Stripe metadata.user_id, else the Stripe customer id).';
COMMENT ON COLUMN analytics.mrr_customer_monthly.start_mrr IS 'MRR at the start of the month (active and past_due subscriptions), at the month''s FX rate.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.end_mrr IS 'MRR at the end of the month (or now, for the current month), at the month''s FX rate.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.movement IS 'new, expansion, contraction, churn, reactivation, or none (unchanged).';
COMMENT ON COLUMN analytics.mrr_customer_monthly.new_mrr IS 'end_mrr when the customer has MRR for the first time at a month end.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.expansion_mrr IS 'end_mrr - start_mrr when both are > 0 and MRR grew.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.contraction_mrr IS 'start_mrr - end_mrr when MRR fell and stays > 0.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.churned_mrr IS 'start_mrr when the customer''s last paying subscription ended (end_mrr = 0).';
COMMENT ON COLUMN analytics.mrr_customer_monthly.reactivation_mrr IS 'end_mrr when a customer with MRR at an earlier month end, and none at this month''s start, pays again.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.subscriptions_end IS 'Subscriptions with MRR > 0 at the end of the month.';
COMMENT ON COLUMN analytics.mrr_customer_monthly.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.mrr_monthly AS
SELECT month, product_id, start_mrr, new_mrr, expansion_mrr, reactivation_mrr,
       contraction_mrr, churned_mrr, net_new_mrr, end_mrr, fx_adjustment, customers_start,
       new_customers, reactivated_customers, churned_customers, customers_end, quick_ratio,
       grr, nrr, customer_churn_rate, gross_mrr_churn_rate, arpa, net_revenue, active_users,
       arpu, updated_at AS refreshed_at
FROM growth.mrr_monthly
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.mrr_monthly IS 'The MRR bridge per product and UTC calendar month, plus product_id = ''all'' (sums over products): start MRR + net new MRR = end MRR, with SaaS rates. Reporting currency at the month''s FX rate.';
COMMENT ON COLUMN analytics.mrr_monthly.month IS 'First day of the UTC calendar month (the current month is month to date).';
COMMENT ON COLUMN analytics.mrr_monthly.product_id IS 'Product id, or ''all'' for the sum over every product (customers are counted per product).';
COMMENT ON COLUMN analytics.mrr_monthly.start_mrr IS 'MRR at the start of the month, at this month''s FX rate.';
COMMENT ON COLUMN analytics.mrr_monthly.new_mrr IS 'MRR of customers paying for the first time.';
COMMENT ON COLUMN analytics.mrr_monthly.expansion_mrr IS 'MRR increases of customers paying at the start of the month.';
COMMENT ON COLUMN analytics.mrr_monthly.reactivation_mrr IS 'MRR of churned customers paying again.';
COMMENT ON COLUMN analytics.mrr_monthly.contraction_mrr IS 'MRR decreases that leave the customer paying (positive).';
COMMENT ON COLUMN analytics.mrr_monthly.churned_mrr IS 'Start MRR of customers whose last paying subscription ended (positive).';
COMMENT ON COLUMN analytics.mrr_monthly.net_new_mrr IS 'new + expansion + reactivation - contraction - churn.';
COMMENT ON COLUMN analytics.mrr_monthly.end_mrr IS 'MRR at the end of the month, at this month''s FX rate; start_mrr + net_new_mrr.';
COMMENT ON COLUMN analytics.mrr_monthly.fx_adjustment IS 'start_mrr minus the previous month''s end_mrr: the currency fluctuation between the two months'' FX rates, never a movement (NULL for the first month).';
COMMENT ON COLUMN analytics.mrr_monthly.customers_start IS 'Customers with MRR > 0 at the start of the month.';
COMMENT ON COLUMN analytics.mrr_monthly.new_customers IS 'Customers with a new movement.';
COMMENT ON COLUMN analytics.mrr_monthly.reactivated_customers IS 'Customers with a reactivation movement.';
COMMENT ON COLUMN analytics.mrr_monthly.churned_customers IS 'Customers with a churn movement.';
COMMENT ON COLUMN analytics.mrr_monthly.customers_end IS 'Customers with MRR > 0 at the end of the month (paying customers).';
COMMENT ON COLUMN analytics.mrr_monthly.quick_ratio IS 'MRR quick ratio: (new + expansion + reactivation) / (contraction + churn); NULL when nothing was lost.';
COMMENT ON COLUMN analytics.mrr_monthly.grr IS 'Gross revenue retention: (start - churn - contraction) / start, over customers present at the start; NULL when start is 0.';
COMMENT ON COLUMN analytics.mrr_monthly.nrr IS 'Net revenue retention: (start + expansion - contraction - churn) / start, over customers present at the start; NULL when start is 0.';
COMMENT ON COLUMN analytics.mrr_monthly.customer_churn_rate IS 'churned_customers / customers_start; NULL when customers_start is 0.';
COMMENT ON COLUMN analytics.mrr_monthly.gross_mrr_churn_rate IS '(churn + contraction) / start_mrr; NULL when start is 0.';
COMMENT ON COLUMN analytics.mrr_monthly.arpa IS 'Average revenue per account: end_mrr / customers_end; NULL without paying customers.';
COMMENT ON COLUMN analytics.mrr_monthly.net_revenue IS 'Net revenue of the month (growth.metrics_monthly), reporting currency.';
COMMENT ON COLUMN analytics.mrr_monthly.active_users IS 'Active users of the month (growth.metrics_monthly).';
COMMENT ON COLUMN analytics.mrr_monthly.arpu IS 'Average revenue per user: net_revenue / active_users; NULL without active users.';
COMMENT ON COLUMN analytics.mrr_monthly.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.funnel_conversion AS
SELECT funnel, cohort_grain, cohort_start, product_id, segment, segment_value, step_no,
       step_name, users, users_previous_step, users_first_step, conversion_from_previous,
       conversion_from_first, drop_off, drop_off_rate, conversion_window,
       (cohort_start + CASE cohort_grain WHEN 'week' THEN interval '7 days'
                                         ELSE interval '1 month' END
        + conversion_window <= now()) AS complete,
       updated_at AS refreshed_at
FROM growth.funnel_conversion
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.funnel_conversion IS 'Configured funnels per signup cohort (ISO week or calendar month of the first step, UTC), product (and ''all''), and segment: users reaching each step in order within the conversion window from their first step.';
COMMENT ON COLUMN analytics.funnel_conversion.funnel IS 'Funnel name from the configuration.';
COMMENT ON COLUMN analytics.funnel_conversion.cohort_grain IS 'week (ISO, Monday) or month.';
COMMENT ON COLUMN analytics.funnel_conversion.cohort_start IS 'First day of the cohort period of the users'' first step.';
COMMENT ON COLUMN analytics.funnel_conversion.product_id IS 'Product id, or ''all'' (sum over products).';
COMMENT ON COLUMN analytics.funnel_conversion.segment IS 'all, channel or country (from growth.users).';
COMMENT ON COLUMN analytics.funnel_conversion.segment_value IS 'The channel or country (''unknown'' when missing); ''all'' for segment all.';
COMMENT ON COLUMN analytics.funnel_conversion.step_no IS 'Step position, 1 = first step.';
COMMENT ON COLUMN analytics.funnel_conversion.step_name IS 'Step name from the configuration.';
COMMENT ON COLUMN analytics.funnel_conversion.users IS 'Users who reached this step (after every previous step, within the window).';
COMMENT ON COLUMN analytics.funnel_conversion.users_previous_step IS 'Users who reached the previous step (the first step''s own count for step 1).';
COMMENT ON COLUMN analytics.funnel_conversion.users_first_step IS 'Users who did the first step (the cohort size).';
COMMENT ON COLUMN analytics.funnel_conversion.conversion_from_previous IS 'users / users_previous_step (NULL when 0).';
COMMENT ON COLUMN analytics.funnel_conversion.conversion_from_first IS 'users / users_first_step (NULL when 0).';
COMMENT ON COLUMN analytics.funnel_conversion.drop_off IS 'users_previous_step - users.';
COMMENT ON COLUMN analytics.funnel_conversion.drop_off_rate IS 'drop_off / users_previous_step (NULL when 0).';
COMMENT ON COLUMN analytics.funnel_conversion.conversion_window IS 'Conversion window counted from the first step.';
COMMENT ON COLUMN analytics.funnel_conversion.complete IS 'The window of every member of the cohort has closed: counts no longer change.';
COMMENT ON COLUMN analytics.funnel_conversion.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.north_star AS
SELECT n.grain, n.period_start, n.product_id, n.name, n.expression, n.value,
       p.value AS previous_value,
       n.value - p.value AS change,
       round((n.value - p.value) / nullif(abs(p.value), 0), 6) AS change_ratio,
       n.updated_at AS refreshed_at
FROM growth.north_star AS n
LEFT JOIN growth.north_star AS p
    ON p.grain = n.grain
   AND p.product_id = n.product_id
   AND p.expression = n.expression
   AND p.period_start = CAST(n.period_start - CASE n.grain
           WHEN 'day' THEN interval '1 day'
           WHEN 'week' THEN interval '7 days'
           ELSE interval '1 month' END AS date)
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR n.product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.north_star IS 'The configured north-star metric (an expression over the rollup metrics) per grain (day, ISO week, calendar month; UTC), product and ''all'', with its trend against the previous period.';
COMMENT ON COLUMN analytics.north_star.grain IS 'day, week (ISO, Monday) or month.';
COMMENT ON COLUMN analytics.north_star.period_start IS 'First day of the period.';
COMMENT ON COLUMN analytics.north_star.product_id IS 'Product id, or ''all'' (the expression over the portfolio''s metrics).';
COMMENT ON COLUMN analytics.north_star.name IS 'The metric''s configured name.';
COMMENT ON COLUMN analytics.north_star.expression IS 'The configured expression the value was computed with.';
COMMENT ON COLUMN analytics.north_star.value IS 'The expression''s value (NULL when it divides by 0).';
COMMENT ON COLUMN analytics.north_star.previous_value IS 'Value of the previous period (same grain, product and expression).';
COMMENT ON COLUMN analytics.north_star.change IS 'value - previous_value.';
COMMENT ON COLUMN analytics.north_star.change_ratio IS '(value - previous_value) / |previous_value| (NULL when previous is 0 or missing).';
COMMENT ON COLUMN analytics.north_star.refreshed_at IS 'When the pipeline last rebuilt this row.';

CREATE VIEW analytics.customer_360 AS
SELECT product_id, user_id, as_of, signed_up_at, channel, country, last_active_day,
       active_days_28, active_days_90, features_used, plan, subscription_status,
       active_subscriptions, mrr, customer_since, lifetime_revenue, lifetime_refunds,
       open_tickets, solved_tickets, last_ticket_at, health_score, health_band,
       updated_at AS refreshed_at
FROM growth.customer_360
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);
COMMENT ON VIEW analytics.customer_360 IS 'One row per product and user: usage, billing, support and a health score (0-100), as of the latest day of activity data. For success teams.';
COMMENT ON COLUMN analytics.customer_360.product_id IS 'Product id.';
COMMENT ON COLUMN analytics.customer_360.user_id IS 'The product''s user id (also the customer id of its subscriptions).';
COMMENT ON COLUMN analytics.customer_360.as_of IS 'Day the row describes: the latest day of growth.user_activity_daily.';
COMMENT ON COLUMN analytics.customer_360.signed_up_at IS 'Signup time (growth.users).';
COMMENT ON COLUMN analytics.customer_360.channel IS 'Acquisition channel (growth.users).';
COMMENT ON COLUMN analytics.customer_360.country IS 'Country (growth.users).';
COMMENT ON COLUMN analytics.customer_360.last_active_day IS 'Last day with a user-initiated event (NULL: never active).';
COMMENT ON COLUMN analytics.customer_360.active_days_28 IS 'Active days in the 28 days ending on as_of.';
COMMENT ON COLUMN analytics.customer_360.active_days_90 IS 'Active days in the 90 days ending on as_of.';
COMMENT ON COLUMN analytics.customer_360.features_used IS 'Distinct properties.feature values of engagement events in the 90 days ending on as_of, sorted.';
COMMENT ON COLUMN analytics.customer_360.plan IS 'Price id of the largest item of the customer''s highest-MRR subscription (growth.subscriptions, latest snapshot).';
COMMENT ON COLUMN analytics.customer_360.subscription_status IS 'Status of that subscription (its latest snapshot).';
COMMENT ON COLUMN analytics.customer_360.active_subscriptions IS 'Subscriptions with MRR > 0 at the end of as_of''s month (growth.mrr_customer_monthly).';
COMMENT ON COLUMN analytics.customer_360.mrr IS 'MRR at the end of as_of''s month, reporting currency (growth.mrr_customer_monthly; 0 when not paying).';
COMMENT ON COLUMN analytics.customer_360.customer_since IS 'Start of the customer''s first subscription.';
COMMENT ON COLUMN analytics.customer_360.lifetime_revenue IS 'Gross revenue collected up to as_of, reporting currency.';
COMMENT ON COLUMN analytics.customer_360.lifetime_refunds IS 'Refunds up to as_of, reporting currency.';
COMMENT ON COLUMN analytics.customer_360.open_tickets IS 'Zendesk tickets created up to as_of and not solved by then.';
COMMENT ON COLUMN analytics.customer_360.solved_tickets IS 'Zendesk tickets solved up to as_of.';
COMMENT ON COLUMN analytics.customer_360.last_ticket_at IS 'Creation time of the latest ticket up to as_of.';
COMMENT ON COLUMN analytics.customer_360.health_score IS '0-100: recency 30 + frequency 30 + breadth 10 + billing 20 + support 10 (see the README for the formula).';
COMMENT ON COLUMN analytics.customer_360.health_band IS 'healthy (>= 70), neutral (40 to 70), at_risk (< 40).';
COMMENT ON COLUMN analytics.customer_360.refreshed_at IS 'When the pipeline last rebuilt this row.';

GRANT SELECT ON analytics.mrr_customer_monthly, analytics.mrr_monthly,
    analytics.funnel_conversion, analytics.north_star, analytics.customer_360 TO growth_bi;
