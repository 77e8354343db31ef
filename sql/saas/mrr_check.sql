-- The MRR bridge holds for [:range_start, :range_end): per customer start + movement = end
-- with exactly one movement amount; per (month, product) start + net new = end and the sums
-- equal the customer rows; 'all' equals the sum of the products.
WITH cust AS (
    SELECT count(*) AS rows,
           count(*) FILTER (WHERE start_mrr + new_mrr + expansion_mrr + reactivation_mrr
                                  - contraction_mrr - churned_mrr <> end_mrr) AS broken
    FROM growth.mrr_customer_monthly
    WHERE month >= CAST(:range_start AS date) AND month < CAST(:range_end AS date)
),
summary AS (
    SELECT s.month, s.product_id, s.start_mrr, s.net_new_mrr, s.end_mrr,
           coalesce(c.start_mrr, 0) AS c_start, coalesce(c.end_mrr, 0) AS c_end
    FROM growth.mrr_monthly AS s
    LEFT JOIN (
        SELECT month, product_id, sum(start_mrr) AS start_mrr, sum(end_mrr) AS end_mrr
        FROM growth.mrr_customer_monthly
        GROUP BY month, product_id
    ) AS c ON c.month = s.month AND c.product_id = s.product_id
    WHERE s.month >= CAST(:range_start AS date) AND s.month < CAST(:range_end AS date)
),
all_rows AS (
    SELECT a.month, a.end_mrr, p.end_mrr AS products_end
    FROM growth.mrr_monthly AS a
    JOIN (SELECT month, sum(end_mrr) AS end_mrr FROM growth.mrr_monthly
          WHERE product_id <> 'all' GROUP BY month) AS p ON p.month = a.month
    WHERE a.product_id = 'all'
      AND a.month >= CAST(:range_start AS date) AND a.month < CAST(:range_end AS date)
)
SELECT
    (SELECT rows FROM cust) AS customer_rows,
    (SELECT broken FROM cust) AS customer_bridge_broken,
    (SELECT count(*) FROM summary) AS summary_rows,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(CAST(month AS text), product_id)), '[]')
     FROM summary
     WHERE start_mrr + net_new_mrr <> end_mrr
        OR (product_id <> 'all' AND (start_mrr <> c_start OR end_mrr <> c_end))) AS bridge_broken,
    (SELECT coalesce(jsonb_agg(CAST(month AS text)), '[]')
     FROM all_rows WHERE end_mrr <> products_end) AS all_mismatch;
