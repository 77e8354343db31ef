-- Benchmark world (bench/generate.py): the canonical events of bench.gen_users in
-- [:window_start, :window_end), written straight into growth.events (the ingest path is
-- measured on its own; this fills a warehouse fast). Per user: a signup, an activation,
-- engagement at the user's rate while alive (2 % of it key actions, 0.8 % support tickets
-- opened, 0.6 % solved), and for payers subscription_started, monthly charges (revenue, one in
-- forty refunded four days later), a plan change after 40 days for some, and a churn at the
-- end for churners. Values in USD, the reporting currency. Event ids are deterministic, so a
-- window written twice has the same ids (the insert would then fail on the primary key: a
-- window is generated once). Randomness is seeded per window (:seed).
SET LOCAL jit = off;
SELECT setseed(CAST(:seed AS double precision));
INSERT INTO growth.events
    (event_id, occurred_at, product_id, source, stream, source_id, event_type, user_id, value,
     currency, value_reporting, properties)
SELECT
    CAST(md5(e.source || '/' || e.stream || '/' || e.source_id) AS uuid),
    e.occurred_at, e.product_id, e.source, e.stream, e.source_id, e.event_type, e.user_id,
    e.value, CASE WHEN e.value IS NOT NULL THEN 'USD' END, e.value, e.properties
FROM (
    SELECT u.signup_at AS occurred_at, u.product_id, 'mixpanel' AS source, 'events' AS stream,
           'sg-' || u.user_id AS source_id, 'signup' AS event_type, u.user_id,
           CAST(NULL AS numeric) AS value,
           jsonb_build_object('channel', u.channel, 'mp_country_code', u.country,
                              'platform', u.platform, 'product_id', u.product_id) AS properties
    FROM bench.gen_users AS u
    WHERE u.signup_at >= :window_start AND u.signup_at < :window_end
    UNION ALL
    SELECT u.activated_at, u.product_id, 'mixpanel', 'events', 'ac-' || u.user_id,
           'activation', u.user_id, NULL, '{}'::jsonb
    FROM bench.gen_users AS u
    WHERE u.activated_at >= :window_start AND u.activated_at < :window_end
    UNION ALL
    SELECT a.at, a.product_id,
           CASE WHEN a.r < 0.986 THEN 'mixpanel' ELSE 'zendesk' END,
           CASE WHEN a.r < 0.986 THEN 'events' ELSE 'tickets' END,
           'ev-' || a.user_id || '-' || a.stamp || '-' || a.n,
           CASE WHEN a.r < 0.966 THEN 'engagement'
                WHEN a.r < 0.986 THEN 'key_action'
                WHEN a.r < 0.994 THEN 'support_ticket_created'
                ELSE 'support_ticket_solved' END,
           a.user_id, NULL, '{}'::jsonb
    FROM (
        SELECT u.user_id, u.product_id, o.lo + random() * (o.hi - o.lo) AS at, random() AS r,
               g.n, CAST(extract(epoch FROM CAST(:window_start AS timestamptz)) AS bigint) AS stamp
        FROM bench.gen_users AS u
        CROSS JOIN LATERAL (
            SELECT greatest(u.signup_at, CAST(:window_start AS timestamptz)) AS lo,
                   least(u.end_at, CAST(:window_end AS timestamptz)) AS hi
        ) AS o
        CROSS JOIN LATERAL generate_series(
            1, floor(extract(epoch FROM o.hi - o.lo) / 86400 * u.rate + random())::int
        ) AS g(n)
        WHERE u.signup_at < :window_end AND u.end_at > :window_start
    ) AS a
    UNION ALL
    SELECT c.occurred_at, c.product_id, 'stripe', c.stream, c.source_id, c.event_type,
           c.user_id, c.value, '{}'::jsonb
    FROM (
        SELECT u.user_id, u.product_id, u.pay_start AS occurred_at, 'events' AS stream,
               'ss-' || u.user_id AS source_id, 'subscription_started' AS event_type,
               u.mrr AS value
        FROM bench.gen_users AS u
        WHERE u.pay_start >= :window_start AND u.pay_start < :window_end
          AND u.pay_start < u.end_at
        UNION ALL
        SELECT u.user_id, u.product_id, u.pay_start + interval '40 days', 'events',
               'sc-' || u.user_id, 'subscription_changed', u.mrr + 10
        FROM bench.gen_users AS u
        WHERE u.pay_start + interval '40 days' >= :window_start
          AND u.pay_start + interval '40 days' < :window_end
          AND u.pay_start + interval '40 days' < u.end_at
          AND u.mrr < 30
        UNION ALL
        SELECT u.user_id, u.product_id, u.end_at, 'events', 'ch-' || u.user_id, 'churn', u.mrr
        FROM bench.gen_users AS u
        WHERE u.churns AND u.end_at >= :window_start AND u.end_at < :window_end
          AND u.pay_start < u.end_at
        UNION ALL
        SELECT k.user_id, k.product_id, k.at, k.stream, k.source_id, k.event_type, k.value
        FROM (
            SELECT u.user_id, u.product_id,
                   u.pay_start + m.k * interval '1 month' + r.shift AS at,
                   r.stream, r.prefix || u.user_id || '-' || m.k AS source_id, r.event_type,
                   u.mrr AS value, r.refund, abs(hashtext(u.user_id || m.k)) % 40 = 0 AS picked
            FROM bench.gen_users AS u
            CROSS JOIN LATERAL generate_series(
                greatest(0, floor(extract(epoch FROM CAST(:window_start AS timestamptz)
                                  - u.pay_start) / 86400 / 31)::int - 1),
                greatest(0, ceil(extract(epoch FROM CAST(:window_end AS timestamptz)
                                 - u.pay_start) / 86400 / 28)::int)
            ) AS m(k)
            CROSS JOIN (VALUES ('charges', 'rv-', 'revenue', interval '0 days', false),
                               ('refunds', 'rf-', 'refund', interval '4 days', true))
                AS r(stream, prefix, event_type, shift, refund)
            WHERE u.pay_start < :window_end
              AND u.end_at > CAST(:window_start AS timestamptz) - interval '5 days'
              AND u.pay_start + m.k * interval '1 month' < u.end_at
        ) AS k
        WHERE k.at >= :window_start AND k.at < :window_end AND (NOT k.refund OR k.picked)
    ) AS c
) AS e
ORDER BY e.occurred_at;
