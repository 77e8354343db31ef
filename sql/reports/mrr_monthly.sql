-- The MRR bridge per product and month in [:since, :until] (analytics.mrr_monthly).
SELECT month, product_id, start_mrr, new_mrr, expansion_mrr, reactivation_mrr,
       contraction_mrr, churned_mrr, net_new_mrr, end_mrr, quick_ratio, nrr, grr,
       customer_churn_rate, customers_end
FROM analytics.mrr_monthly
WHERE month >= :since AND month <= :until
ORDER BY product_id, month
