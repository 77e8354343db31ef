-- Funnel, one later step (:step_no): a user who reached the previous step reaches this one at
-- its earliest matching event at or after the previous step's time and no later than
-- :window_days days after the first step.
UPDATE funnel_reach AS r
SET step_times = r.step_times || n.reached_at
FROM (
    SELECT r.product_id, r.user_id, min(c.occurred_at) AS reached_at
    FROM funnel_reach AS r
    JOIN funnel_candidates AS c
        ON c.product_id = r.product_id
       AND c.user_id = r.user_id
       AND c.step_no = CAST(:step_no AS integer)
       AND c.occurred_at >= r.step_times[CAST(:step_no AS integer) - 1]
       AND c.occurred_at <= r.first_at + CAST(:window_days AS integer) * interval '1 day'
    WHERE cardinality(r.step_times) = CAST(:step_no AS integer) - 1
    GROUP BY r.product_id, r.user_id
) AS n
WHERE n.product_id = r.product_id
  AND n.user_id = r.user_id;
