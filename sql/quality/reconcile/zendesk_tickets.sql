-- Zendesk: a ticket (one raw row per ticket id, at its last update) is a candidate
-- support_ticket_created event in the window of its created_at and a support_ticket_solved
-- event in the window of its solved_at; the raw rows are counted by the window of their
-- update, so raw_rows and expected differ by design.
SELECT
    count(*) FILTER (WHERE occurred_at < :window_end) AS raw_rows,
    0 AS not_events,
    count(*) FILTER (WHERE CAST(payload ->> 'created_at' AS timestamptz) >= :window_start
                       AND CAST(payload ->> 'created_at' AS timestamptz) < :window_end)
  + count(*) FILTER (WHERE CAST(payload #>> '{metric_set,solved_at}' AS timestamptz) >= :window_start
                       AND CAST(payload #>> '{metric_set,solved_at}' AS timestamptz) < :window_end)
        AS expected
FROM raw.zendesk_tickets
WHERE occurred_at >= :window_start;
