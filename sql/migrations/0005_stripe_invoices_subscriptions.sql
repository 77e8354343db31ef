-- Stripe invoices (raw) and the growth.subscriptions dimension with its MRR.

-- Invoices: daily snapshots of the invoices created each day, like raw.stripe_subscriptions.
CREATE TABLE raw.stripe_invoices (LIKE raw.mixpanel_events INCLUDING ALL);
CREATE INDEX ON raw.stripe_invoices (occurred_at);

-- The recurring items of a Stripe subscription object (API version 2024-06-20), one row each,
-- with the item's MRR contribution in minor units: unit price × quantity normalised to one
-- month (year / 12, week × 52 / 12, day × 365 / 12, then divided by interval_count). Metered
-- items (usage_type = 'metered') contribute 0: usage is not recurring revenue. A licensed item
-- whose MRR cannot be computed (no unit amount, as with tiered prices, or an unknown interval)
-- has mrr_minor NULL; unit_amount_decimal wins over unit_amount when present.
CREATE FUNCTION growth.stripe_subscription_items(sub jsonb)
RETURNS TABLE (
    item_id        text,
    price_id       text,
    unit_amount    numeric,
    quantity       numeric,
    "interval"     text,
    interval_count integer,
    usage_type     text,
    monthly_factor numeric,
    mrr_minor      numeric
)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT
        i ->> 'id',
        i #>> '{price,id}',
        u.unit_amount,
        q.quantity,
        i #>> '{price,recurring,interval}',
        c.interval_count,
        coalesce(i #>> '{price,recurring,usage_type}', 'licensed'),
        f.factor,
        CASE
            WHEN coalesce(i #>> '{price,recurring,usage_type}', 'licensed') = 'metered' THEN 0
            ELSE u.unit_amount * q.quantity * f.factor
        END
    FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(sub #> '{items,data}') = 'array' THEN sub #> '{items,data}'
             ELSE '[]'::jsonb END
    ) AS i
    CROSS JOIN LATERAL (
        SELECT coalesce(
            CAST(i #>> '{price,unit_amount_decimal}' AS numeric),
            CAST(i #>> '{price,unit_amount}' AS numeric)
        ) AS unit_amount
    ) AS u
    CROSS JOIN LATERAL (
        SELECT coalesce(CAST(i ->> 'quantity' AS numeric), 1) AS quantity
    ) AS q
    CROSS JOIN LATERAL (
        SELECT greatest(coalesce(CAST(i #>> '{price,recurring,interval_count}' AS integer), 1), 1)
            AS interval_count
    ) AS c
    CROSS JOIN LATERAL (
        SELECT CASE i #>> '{price,recurring,interval}'
            WHEN 'month' THEN 1.0
            WHEN 'year' THEN 1.0 / 12
            WHEN 'week' THEN 52.0 / 12
            WHEN 'day' THEN 365.0 / 12
        END / c.interval_count AS factor
    ) AS f
$$;

-- A subscription's list MRR in minor units, whatever its status: the sum of its items, less a
-- "forever" coupon (percent_off, or amount_off per invoice normalised like the price). Coupons
-- that end ("once", "repeating") do not reduce MRR: they are temporary discounts, not a lower
-- price. Never negative. NULL when the subscription has no items or an item's MRR is unknown.
-- Whether the subscription counts (active, past_due) is the caller's decision.
CREATE FUNCTION growth.stripe_subscription_list_mrr(sub jsonb)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT round(greatest(
        CASE
            WHEN sub #>> '{discount,coupon,duration}' IS DISTINCT FROM 'forever' THEN m.mrr
            WHEN sub #>> '{discount,coupon,percent_off}' IS NOT NULL
                THEN m.mrr * (1 - CAST(sub #>> '{discount,coupon,percent_off}' AS numeric) / 100)
            WHEN sub #>> '{discount,coupon,amount_off}' IS NOT NULL
                THEN m.mrr - CAST(sub #>> '{discount,coupon,amount_off}' AS numeric) * m.factor
            ELSE m.mrr
        END, 0), 6)
    FROM (
        SELECT CASE WHEN count(*) = 0 OR bool_or(mrr_minor IS NULL) THEN NULL
                    ELSE sum(mrr_minor) END AS mrr,
               coalesce(min(monthly_factor) FILTER (WHERE usage_type <> 'metered'), 0) AS factor
        FROM growth.stripe_subscription_items(sub)
    ) AS m
$$;

-- One row per Stripe subscription in its latest snapshot. MRR (DESIGN.md "MRR") counts active
-- and past_due subscriptions only; trialing, canceled, incomplete, unpaid and paused count 0.
-- mrr_minor is in the subscription currency's Stripe minor units, mrr in its major units,
-- mrr_reporting in the reporting currency at the latest rate on or before the day the row was
-- built (fx_rate_day). A paying subscription whose MRR cannot be computed or converted keeps
-- its row with NULL MRR, and the asset check fails naming it.
CREATE TABLE growth.subscriptions (
    subscription_id      text          PRIMARY KEY,
    customer_id          text,
    product_id           text,
    user_id              text,
    status               text,
    currency             text,
    items                jsonb         NOT NULL,
    coupon_id            text,
    coupon_duration      text,
    cancel_at_period_end boolean,
    mrr_minor            numeric(20, 6) CHECK (mrr_minor >= 0),
    mrr                  numeric(20, 6),
    mrr_reporting        numeric(20, 6),
    reporting_currency   text          NOT NULL,
    fx_rate_day          date,
    created_at           timestamptz   NOT NULL,
    started_at           timestamptz,
    trial_end            timestamptz,
    canceled_at          timestamptz,
    ended_at             timestamptz,
    updated_at           timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_customer ON growth.subscriptions (customer_id);
CREATE INDEX subscriptions_product ON growth.subscriptions (product_id, status);
CREATE INDEX subscriptions_created ON growth.subscriptions (created_at);
