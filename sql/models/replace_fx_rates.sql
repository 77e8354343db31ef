-- Replace the reporting currency's rates with the freshly staged set (one transaction).
DELETE FROM growth.fx_rates WHERE reporting_currency = :reporting_currency;

INSERT INTO growth.fx_rates (day, currency, reporting_currency, rate)
SELECT day, currency, :reporting_currency, rate
FROM fx_batch;
