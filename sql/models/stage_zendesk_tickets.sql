-- Zendesk tickets → support_ticket_created (at created_at) and support_ticket_solved (at
-- metric_set.solved_at). The incremental export returns a ticket at its last update, which is
-- never earlier than either timestamp, so tickets updated since the window start are read.
-- Product and user come from custom fields whose ids are configuration.
WITH tickets AS (
    SELECT
        r.id,
        r.payload,
        CAST(r.payload ->> 'created_at' AS timestamptz) AS created_at,
        CAST(r.payload #>> '{metric_set,solved_at}' AS timestamptz) AS solved_at,
        (SELECT f ->> 'value' FROM jsonb_array_elements(r.payload -> 'custom_fields') AS f
         WHERE f ->> 'id' = CAST(:product_field_id AS text) LIMIT 1) AS product_id,
        (SELECT f ->> 'value' FROM jsonb_array_elements(r.payload -> 'custom_fields') AS f
         WHERE f ->> 'id' = CAST(:user_field_id AS text) LIMIT 1) AS user_id
    FROM raw.zendesk_tickets AS r
    WHERE r.occurred_at >= :window_start
),
happenings AS (
    SELECT t.*, t.created_at AS at, 'ticket.created' AS source_event,
           'support_ticket_created' AS event_type
    FROM tickets AS t
    UNION ALL
    SELECT t.*, t.solved_at, 'ticket.solved', 'support_ticket_solved'
    FROM tickets AS t
    WHERE t.solved_at IS NOT NULL
)
INSERT INTO staged_events
    (source_id, occurred_at, product_id, user_id, source_event, event_type, properties, payload)
SELECT
    h.id, h.at, h.product_id, h.user_id, h.source_event, h.event_type,
    jsonb_build_object(
        'status', h.payload ->> 'status',
        'priority', h.payload ->> 'priority',
        'tags', h.payload -> 'tags'
    ),
    h.payload
FROM happenings AS h
WHERE h.at >= :window_start
  AND h.at < :window_end;
