-- MRR in the reporting currency per product and status, for the asset's metadata preview.
SELECT
    coalesce(product_id, '?') AS product_id,
    status,
    count(*) AS subscriptions,
    sum(mrr_reporting) AS mrr_reporting
FROM growth.subscriptions
GROUP BY 1, 2
ORDER BY 4 DESC NULLS LAST, 1, 2;
