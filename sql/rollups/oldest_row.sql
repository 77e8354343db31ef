-- The oldest time in {{relation}}'s {{time_column}} (NULL when empty), for the retention check.
SELECT min({{time_column}}) AS oldest FROM {{relation}};
