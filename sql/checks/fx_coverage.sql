-- Per currency: first and last day with a rate, and the longest gap between rates (days).
SELECT currency, min(day) AS first_day, max(day) AS last_day, coalesce(max(gap), 0) AS max_gap_days
FROM (
    SELECT currency, day, day - lag(day) OVER (PARTITION BY currency ORDER BY day) AS gap
    FROM growth.fx_rates
    WHERE reporting_currency = :reporting_currency
) AS r
GROUP BY currency
ORDER BY currency;
