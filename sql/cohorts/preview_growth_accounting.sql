-- The latest 'all' rows of growth.growth_accounting at each grain, for the asset's preview.
SELECT grain, period, product_id, active_users, new_users, retained_users,
       resurrected_users, churned_users, quick_ratio, retention_rate
FROM (
    SELECT *, row_number() OVER (PARTITION BY grain ORDER BY period DESC) AS n
    FROM growth.growth_accounting
    WHERE product_id = 'all'
      AND period >= CAST(date_trunc(grain, CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC')
                         AS date)
) AS g
WHERE n <= 3
ORDER BY grain, period;
