-- growth.subscriptions from the raw Stripe subscription snapshots created in one window.
-- Parameters: :window_start, :window_end, :reporting_currency, :pseudonymise (when true,
-- customer_id and user_id are the pseudonyms in pg_temp.pseudonyms, filled by the caller for
-- the window's identifiers: growth_assets/models/pseudonyms.py). Upsert by subscription id; a
-- row is rewritten (and updated_at moves) only when something in it changed, so a re-run of
-- the same window writes nothing.
WITH snap AS (
    SELECT
        r.id AS subscription_id,
        r.occurred_at AS created_at,
        r.payload AS sub,
        CASE WHEN :pseudonymise THEN pc.pseudonym ELSE r.payload ->> 'customer' END
            AS customer_id,
        CASE WHEN :pseudonymise THEN pu.pseudonym
             ELSE coalesce(r.payload #>> '{metadata,user_id}', r.payload ->> 'customer') END
            AS user_id,
        upper(coalesce(r.payload ->> 'currency', r.payload #>> '{items,data,0,price,currency}'))
            AS currency
    FROM raw.stripe_subscriptions AS r
    LEFT JOIN pseudonyms AS pc ON pc.identifier = r.payload ->> 'customer'
    LEFT JOIN pseudonyms AS pu
        ON pu.identifier = coalesce(r.payload #>> '{metadata,user_id}', r.payload ->> 'customer')
    WHERE r.occurred_at >= :window_start
      AND r.occurred_at < :window_end
),
priced AS (
    SELECT
        s.*,
        CASE WHEN s.sub ->> 'status' IN ('active', 'past_due')
             THEN growth.stripe_subscription_list_mrr(s.sub) ELSE 0 END AS mrr_minor,
        cur.stripe_minor_units,
        (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'item_id', i.item_id,
                'price_id', i.price_id,
                'unit_amount', i.unit_amount,
                'quantity', i.quantity,
                'interval', i."interval",
                'interval_count', i.interval_count,
                'usage_type', i.usage_type,
                'mrr_minor', round(i.mrr_minor, 6)
            ) ORDER BY i.item_id), '[]'::jsonb)
            FROM growth.stripe_subscription_items(s.sub) AS i
        ) AS items
    FROM snap AS s
    LEFT JOIN growth.currencies AS cur ON cur.code = s.currency
),
converted AS (
    SELECT
        p.*,
        p.mrr_minor / power(10::numeric, p.stripe_minor_units) AS mrr,
        fx.day AS fx_rate_day,
        CASE WHEN p.currency = :reporting_currency THEN 1 ELSE fx.rate END AS rate
    FROM priced AS p
    LEFT JOIN LATERAL (
        SELECT f.day, f.rate
        FROM growth.fx_rates AS f
        WHERE f.reporting_currency = :reporting_currency
          AND f.currency = p.currency
          AND f.day <= current_date
        ORDER BY f.day DESC
        LIMIT 1
    ) AS fx ON p.currency <> :reporting_currency
)
INSERT INTO growth.subscriptions AS t (
    subscription_id, customer_id, product_id, user_id, status, currency, items,
    coupon_id, coupon_duration, cancel_at_period_end,
    mrr_minor, mrr, mrr_reporting, reporting_currency, fx_rate_day,
    created_at, started_at, trial_end, canceled_at, ended_at
)
SELECT
    c.subscription_id,
    c.customer_id,
    c.sub #>> '{metadata,product_id}',
    c.user_id,
    c.sub ->> 'status',
    c.currency,
    c.items,
    c.sub #>> '{discount,coupon,id}',
    c.sub #>> '{discount,coupon,duration}',
    CAST(c.sub ->> 'cancel_at_period_end' AS boolean),
    round(c.mrr_minor, 6),
    round(c.mrr, 6),
    CASE WHEN c.mrr_minor = 0 THEN 0 ELSE round(c.mrr * c.rate, 6) END,
    CAST(:reporting_currency AS text),
    c.fx_rate_day,
    c.created_at,
    to_timestamp(CAST(c.sub ->> 'start_date' AS bigint)),
    to_timestamp(CAST(c.sub ->> 'trial_end' AS bigint)),
    to_timestamp(CAST(c.sub ->> 'canceled_at' AS bigint)),
    to_timestamp(CAST(c.sub ->> 'ended_at' AS bigint))
FROM converted AS c
ON CONFLICT (subscription_id) DO UPDATE
    SET customer_id = excluded.customer_id,
        product_id = excluded.product_id,
        user_id = excluded.user_id,
        status = excluded.status,
        currency = excluded.currency,
        items = excluded.items,
        coupon_id = excluded.coupon_id,
        coupon_duration = excluded.coupon_duration,
        cancel_at_period_end = excluded.cancel_at_period_end,
        mrr_minor = excluded.mrr_minor,
        mrr = excluded.mrr,
        mrr_reporting = excluded.mrr_reporting,
        reporting_currency = excluded.reporting_currency,
        fx_rate_day = excluded.fx_rate_day,
        created_at = excluded.created_at,
        started_at = excluded.started_at,
        trial_end = excluded.trial_end,
        canceled_at = excluded.canceled_at,
        ended_at = excluded.ended_at,
        updated_at = now()
    WHERE (t.customer_id, t.product_id, t.user_id, t.status, t.currency, t.items, t.coupon_id,
           t.coupon_duration, t.cancel_at_period_end, t.mrr_minor, t.mrr, t.mrr_reporting,
           t.reporting_currency, t.fx_rate_day, t.created_at, t.started_at, t.trial_end,
           t.canceled_at, t.ended_at)
        IS DISTINCT FROM
          (excluded.customer_id, excluded.product_id, excluded.user_id, excluded.status,
           excluded.currency, excluded.items, excluded.coupon_id, excluded.coupon_duration,
           excluded.cancel_at_period_end, excluded.mrr_minor, excluded.mrr,
           excluded.mrr_reporting, excluded.reporting_currency, excluded.fx_rate_day,
           excluded.created_at, excluded.started_at, excluded.trial_end, excluded.canceled_at,
           excluded.ended_at);
