-- Run-time values of the suites' $PARAMETERs: the vocabulary and the ISO 4217 codes.
SELECT
    (SELECT array_agg(event_type ORDER BY event_type) FROM growth.event_types) AS vocabulary,
    (SELECT array_agg(code ORDER BY code) FROM growth.currencies) AS currencies;
