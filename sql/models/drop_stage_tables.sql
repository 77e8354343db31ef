-- Drop one stream's staging tables so the next stream of the same run can create them again.
DROP TABLE staged_events, checked_events;
