-- Every daily / monthly rollup row of the window has a north-star row, and the window's rows
-- carry the configured expression.
SELECT
    (SELECT count(*) FROM growth.metrics_daily AS d
     WHERE d.day >= CAST(:day_start AS date) AND d.day < CAST(:day_end AS date)
       AND NOT EXISTS (SELECT 1 FROM growth.north_star AS n
                       WHERE n.grain = 'day' AND n.period_start = d.day
                         AND n.product_id = d.product_id)) AS missing_day,
    (SELECT count(*) FROM growth.metrics_monthly AS m
     WHERE m.month >= CAST(:month_start AS date) AND m.month < CAST(:month_end AS date)
       AND NOT EXISTS (SELECT 1 FROM growth.north_star AS n
                       WHERE n.grain = 'month' AND n.period_start = m.month
                         AND n.product_id = m.product_id)) AS missing_month,
    (SELECT count(*) FROM growth.north_star
     WHERE expression <> CAST(:ns_expression AS text)
       AND ((grain = 'day' AND period_start >= CAST(:day_start AS date)
             AND period_start < CAST(:day_end AS date))
         OR (grain = 'week' AND period_start >= CAST(:week_start AS date)
             AND period_start < CAST(:week_end AS date))
         OR (grain = 'month' AND period_start >= CAST(:month_start AS date)
             AND period_start < CAST(:month_end AS date)))) AS other_expression;
