-- growth.mrr_monthly for the months [:range_start, :range_end) from
-- growth.mrr_customer_monthly (already rebuilt for them), with ARPU from growth.metrics_monthly.
-- A product has a row for every month from its first month with MRR on, zeros included (an
-- empty period reads 0 with NULL rates). product_id = 'all' sums the products.
-- No JIT: the planner's estimates (generate_series, jsonb) make these plans look costly enough
-- to compile, which took 15 s of a 26 s run at demo scale and saves nothing here.
SET LOCAL jit = off;

DELETE FROM growth.mrr_monthly
WHERE month >= CAST(:range_start AS date)
  AND month < CAST(:range_end AS date);

WITH months AS (
    SELECT CAST(m AS date) AS month
    FROM generate_series(CAST(:range_start AS timestamp),
                         CAST(:range_end AS timestamp) - interval '1 month',
                         interval '1 month') AS m
),
products AS (
    SELECT product_id, min(month) AS first_month
    FROM growth.mrr_customer_monthly
    GROUP BY product_id
),
grid AS (
    SELECT m.month, p.product_id, p.first_month
    FROM months AS m
    JOIN products AS p ON p.first_month <= m.month
),
per_product AS (
    SELECT
        g.month,
        g.product_id,
        coalesce(sum(c.start_mrr), 0) AS start_mrr,
        coalesce(sum(c.new_mrr), 0) AS new_mrr,
        coalesce(sum(c.expansion_mrr), 0) AS expansion_mrr,
        coalesce(sum(c.reactivation_mrr), 0) AS reactivation_mrr,
        coalesce(sum(c.contraction_mrr), 0) AS contraction_mrr,
        coalesce(sum(c.churned_mrr), 0) AS churned_mrr,
        coalesce(sum(c.end_mrr), 0) AS end_mrr,
        CASE WHEN g.month > g.first_month
             THEN coalesce(sum(c.start_mrr), 0) - coalesce((
                 SELECT sum(p.end_mrr) FROM growth.mrr_customer_monthly AS p
                 WHERE p.product_id = g.product_id
                   AND p.month = CAST(g.month - interval '1 month' AS date)), 0)
        END AS fx_adjustment,
        count(*) FILTER (WHERE c.start_mrr > 0) AS customers_start,
        count(*) FILTER (WHERE c.movement = 'new') AS new_customers,
        count(*) FILTER (WHERE c.movement = 'reactivation') AS reactivated_customers,
        count(*) FILTER (WHERE c.movement = 'churn') AS churned_customers,
        count(*) FILTER (WHERE c.end_mrr > 0) AS customers_end
    FROM grid AS g
    LEFT JOIN growth.mrr_customer_monthly AS c
        ON c.month = g.month AND c.product_id = g.product_id
    GROUP BY g.month, g.product_id, g.first_month
),
with_all AS (
    SELECT * FROM per_product
    UNION ALL
    SELECT month, 'all', sum(start_mrr), sum(new_mrr), sum(expansion_mrr),
           sum(reactivation_mrr), sum(contraction_mrr), sum(churned_mrr), sum(end_mrr),
           sum(fx_adjustment), sum(customers_start), sum(new_customers),
           sum(reactivated_customers), sum(churned_customers), sum(customers_end)
    FROM per_product
    GROUP BY month
)
INSERT INTO growth.mrr_monthly (
    month, product_id, start_mrr, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr,
    churned_mrr, net_new_mrr, end_mrr, fx_adjustment, customers_start, new_customers,
    reactivated_customers, churned_customers, customers_end, quick_ratio, grr, nrr,
    customer_churn_rate, gross_mrr_churn_rate, arpa, net_revenue, active_users, arpu
)
SELECT
    a.month, a.product_id, a.start_mrr, a.new_mrr, a.expansion_mrr, a.reactivation_mrr,
    a.contraction_mrr, a.churned_mrr,
    a.new_mrr + a.expansion_mrr + a.reactivation_mrr - a.contraction_mrr - a.churned_mrr,
    a.end_mrr, a.fx_adjustment, a.customers_start, a.new_customers, a.reactivated_customers,
    a.churned_customers, a.customers_end,
    round((a.new_mrr + a.expansion_mrr + a.reactivation_mrr)
          / nullif(a.contraction_mrr + a.churned_mrr, 0), 6),
    round((a.start_mrr - a.churned_mrr - a.contraction_mrr) / nullif(a.start_mrr, 0), 6),
    round((a.start_mrr + a.expansion_mrr - a.contraction_mrr - a.churned_mrr)
          / nullif(a.start_mrr, 0), 6),
    round(CAST(a.churned_customers AS numeric) / nullif(a.customers_start, 0), 6),
    round((a.churned_mrr + a.contraction_mrr) / nullif(a.start_mrr, 0), 6),
    round(a.end_mrr / nullif(a.customers_end, 0), 6),
    mm.net_revenue,
    mm.active_users,
    round(mm.net_revenue / nullif(mm.active_users, 0), 6)
FROM with_all AS a
LEFT JOIN growth.metrics_monthly AS mm
    ON mm.month = a.month AND mm.product_id = a.product_id;
