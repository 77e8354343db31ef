-- Rows per partition of one source (:source) in a shared raw table over a run's window,
-- with each partition's baseline as in quality/volume.sql: the median row count of the
-- partitions :lag, 2 × :lag, ... :periods × :lag earlier; a partition without rows counts 0.
-- Partitions still filling (ending after now) are left out. Parameters: :source,
-- :window_start, :window_end, :step ('1 hour' or '1 day'), :lag, :periods.
-- Identifier: {{raw_table}}.
WITH counts AS (
    SELECT date_bin(CAST(:step AS interval), occurred_at, TIMESTAMPTZ '2000-01-01 00:00+00')
               AS bucket,
           count(*) AS n
    FROM {{raw_table}}
    WHERE source = CAST(:source AS text)
      AND occurred_at >= CAST(:window_start AS timestamptz) - :periods * CAST(:lag AS interval)
      AND occurred_at < CAST(:window_end AS timestamptz)
    GROUP BY 1
),
buckets AS (
    SELECT b AS bucket
    FROM generate_series(
        CAST(:window_start AS timestamptz),
        CAST(:window_end AS timestamptz) - CAST(:step AS interval),
        CAST(:step AS interval)
    ) AS b
    WHERE b + CAST(:step AS interval) <= now()
)
SELECT
    b.bucket,
    coalesce(c.n, 0) AS rows_in_partition,
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY coalesce(p.n, 0))
     FROM generate_series(1, :periods) AS k
     LEFT JOIN counts AS p ON p.bucket = b.bucket - k * CAST(:lag AS interval)) AS baseline_median
FROM buckets AS b
LEFT JOIN counts AS c ON c.bucket = b.bucket
ORDER BY b.bucket;
