-- Mixpanel events → candidate events. The event-name mapping is configuration (:event_map,
-- a JSON object of Mixpanel event name → canonical type); unmapped names are rejected.
INSERT INTO staged_events
    (source_id, occurred_at, product_id, user_id, source_event, event_type, properties, payload)
SELECT
    r.id,
    r.occurred_at,
    r.payload #>> '{properties,product_id}',
    r.payload #>> '{properties,distinct_id}',
    r.payload ->> 'event',
    CAST(:event_map AS jsonb) ->> (r.payload ->> 'event'),
    coalesce(r.payload -> 'properties', '{}'::jsonb) - 'time' - 'distinct_id' - '$insert_id',
    r.payload
FROM raw.mixpanel_events AS r
WHERE r.occurred_at >= :window_start
  AND r.occurred_at < :window_end;
