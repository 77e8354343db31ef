-- growth.funnel_users for :funnel: the users whose first step lies in [:reach_start,
-- :window_end) are replaced by funnel_reach (upsert: a late, earlier first step moves a user).
DELETE FROM growth.funnel_users
WHERE funnel = CAST(:funnel AS text)
  AND first_step_at >= :reach_start
  AND first_step_at < :window_end;

INSERT INTO growth.funnel_users AS t
    (funnel, product_id, user_id, first_step_at, steps_reached, step_times, channel, country)
SELECT
    CAST(:funnel AS text),
    r.product_id,
    r.user_id,
    r.first_at,
    cardinality(r.step_times),
    r.step_times,
    coalesce(u.channel, 'unknown'),
    coalesce(u.country, 'unknown')
FROM funnel_reach AS r
LEFT JOIN growth.users AS u ON u.product_id = r.product_id AND u.user_id = r.user_id
ON CONFLICT (funnel, product_id, user_id) DO UPDATE
    SET first_step_at = excluded.first_step_at,
        steps_reached = excluded.steps_reached,
        step_times = excluded.step_times,
        channel = excluded.channel,
        country = excluded.country,
        updated_at = now();
