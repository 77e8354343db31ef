-- Clear growth.power_users for the UTC days [:lo, :hi) before the histogram of those days
-- is copied in (same transaction).
DELETE FROM growth.power_users
WHERE day >= CAST(:lo AS date) AND day < CAST(:hi AS date);
