-- Export: growth accounting of the report period at every grain.
SELECT * FROM analytics.growth_accounting
WHERE period >= :start AND period < :end
ORDER BY grain, period, product_id
