-- Merge one window of canonical events into growth.users: first/last seen only widen, signup
-- attributes come from the earliest signup event, so re-running any window is harmless.
INSERT INTO growth.users AS u
    (product_id, user_id, signed_up_at, first_seen_at, last_seen_at, channel, country, platform)
SELECT
    e.product_id,
    e.user_id,
    min(e.occurred_at) FILTER (WHERE e.event_type = 'signup'),
    min(e.occurred_at),
    max(e.occurred_at),
    (array_agg(coalesce(e.properties ->> 'channel', e.properties ->> 'utm_source')
               ORDER BY e.occurred_at) FILTER (WHERE e.event_type = 'signup'))[1],
    (array_agg(coalesce(e.properties ->> 'mp_country_code', e.properties ->> 'country')
               ORDER BY e.occurred_at) FILTER (WHERE e.event_type = 'signup'))[1],
    (array_agg(coalesce(e.properties ->> 'platform', e.properties ->> '$os')
               ORDER BY e.occurred_at) FILTER (WHERE e.event_type = 'signup'))[1]
FROM growth.events AS e
WHERE e.occurred_at >= :window_start
  AND e.occurred_at < :window_end
GROUP BY e.product_id, e.user_id
ON CONFLICT (product_id, user_id) DO UPDATE SET
    signed_up_at = least(u.signed_up_at, excluded.signed_up_at),
    first_seen_at = least(u.first_seen_at, excluded.first_seen_at),
    last_seen_at = greatest(u.last_seen_at, excluded.last_seen_at),
    channel = CASE WHEN excluded.signed_up_at <= u.signed_up_at OR u.signed_up_at IS NULL
                   THEN coalesce(excluded.channel, u.channel) ELSE u.channel END,
    country = CASE WHEN excluded.signed_up_at <= u.signed_up_at OR u.signed_up_at IS NULL
                   THEN coalesce(excluded.country, u.country) ELSE u.country END,
    platform = CASE WHEN excluded.signed_up_at <= u.signed_up_at OR u.signed_up_at IS NULL
                    THEN coalesce(excluded.platform, u.platform) ELSE u.platform END,
    updated_at = now();
