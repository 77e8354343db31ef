-- Funnel, first pass: the users whose first step-1 event lies in [:reach_start, :window_end)
-- and every candidate event of later steps. Parameters: :step_types (text[]), :step_filters
-- (text[] of JSON objects; an event matches a step when its type is the step's and its
-- properties contain the filter), :reach_start, :window_end, :window_days.
-- A user's first step is their earliest step-1 event ever (before :window_end).
-- No JIT: the planner's estimates (generate_series, jsonb) make these plans look costly enough
-- to compile, which took 15 s of a 26 s run at demo scale and saves nothing here.
SET LOCAL jit = off;

CREATE TEMP TABLE funnel_candidates ON COMMIT DROP AS
SELECT e.product_id, e.user_id, CAST(s.step_no AS integer) AS step_no, e.occurred_at
FROM growth.events AS e
JOIN unnest(CAST(:step_types AS text[]), CAST(:step_filters AS text[]))
    WITH ORDINALITY AS s (event_type, filter, step_no)
    ON e.event_type = s.event_type
   AND e.properties @> CAST(s.filter AS jsonb)
WHERE (s.step_no = 1 AND e.occurred_at < :window_end)
   OR (s.step_no > 1
       AND e.occurred_at >= :reach_start
       AND e.occurred_at <= :window_end + CAST(:window_days AS integer) * interval '1 day');

ANALYZE funnel_candidates;

CREATE TEMP TABLE funnel_reach ON COMMIT DROP AS
SELECT product_id, user_id, first_at, ARRAY[first_at] AS step_times
FROM (
    SELECT product_id, user_id, min(occurred_at) AS first_at
    FROM funnel_candidates
    WHERE step_no = 1
    GROUP BY product_id, user_id
) AS f
WHERE first_at >= :reach_start;
