-- Growth accounting per product and period of the report's grain in [:since, :until].
SELECT period, product_id, active_users, new_users, retained_users, resurrected_users,
       churned_users, quick_ratio, retention_rate
FROM analytics.growth_accounting
WHERE grain = CAST(:grain AS text) AND period >= :since AND period <= :until
ORDER BY product_id, period
