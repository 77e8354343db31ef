-- The configured features' use per (product, user, UTC day), read from growth.events once
-- for every grain of a feature-adoption run: the days of every week and month holding a day
-- of [:window_start, :window_end). :features as in feature_adoption.sql. Dropped at commit.
CREATE TEMP TABLE feature_usage (
    product_id text NOT NULL,
    user_id    text NOT NULL,
    day        date NOT NULL,
    feature    text NOT NULL
) ON COMMIT DROP;

INSERT INTO feature_usage (product_id, user_id, day, feature)
WITH bounds AS (
    SELECT
        least(date_trunc('week', CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC'),
              date_trunc('month', CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC'))
            AT TIME ZONE 'UTC' AS lo,
        greatest(
            date_trunc('week', CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC'
                       - interval '1 day') + interval '1 week',
            date_trunc('month', CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC'
                       - interval '1 day') + interval '1 month')
            AT TIME ZONE 'UTC' AS hi
),
features AS (
    SELECT feature, event_type, property, value
    FROM jsonb_to_recordset(CAST(:features AS jsonb))
        AS f(feature text, event_type text, property text, value text)
),
properties AS (
    SELECT DISTINCT property FROM features
)
-- each event's value of each configured property is read once (the subquery, kept apart
-- by OFFSET 0) and hash-joined to the features on (event type, property, value); joined on
-- the event type alone, every event met every feature of its type before its value was
-- compared (ten times the rows)
SELECT DISTINCT ev.product_id, ev.user_id, ev.day, f.feature
FROM (
    SELECT e.product_id, e.user_id, CAST(e.occurred_at AT TIME ZONE 'UTC' AS date) AS day,
           e.event_type, p.property, e.properties ->> p.property AS value
    FROM growth.events AS e
    CROSS JOIN bounds AS b
    CROSS JOIN properties AS p
    WHERE e.occurred_at >= b.lo
      AND e.occurred_at < b.hi
      AND e.event_type IN (SELECT event_type FROM features)
    OFFSET 0
) AS ev
JOIN features AS f
    ON f.event_type = ev.event_type
   AND f.property = ev.property
   AND f.value = ev.value;

ANALYZE feature_usage;
