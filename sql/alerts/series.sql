-- One watched metric's values per product and period in [:since, :until] (inclusive), for
-- the baselines and the periods being judged. Runs with the session time zone set to UTC, so
-- date, timestamp and timestamptz period columns compare alike.
SELECT
    CAST({{product_column}} AS text) AS product_id,
    {{time_column}} AS period,
    CAST({{column}} AS double precision) AS value
FROM {{table}}
WHERE {{time_column}} >= :since
  AND {{time_column}} <= :until
  AND {{column}} IS NOT NULL
ORDER BY 1, 2
