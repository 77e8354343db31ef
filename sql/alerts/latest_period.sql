-- The newest period a watched rollup table holds (the sensor judges only recent periods).
SELECT max({{time_column}}) AS period FROM {{table}}
