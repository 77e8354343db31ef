-- One check evaluation into ops.quality_results (growth_assets.quality.results.recorded).
INSERT INTO ops.quality_results
    (check_name, asset_key, partition, window_start, window_end, passed, severity, blocking,
     observed, run_id)
VALUES
    (CAST(:check_name AS text), CAST(:asset_key AS text), CAST(:partition AS text),
     CAST(:window_start AS timestamptz), CAST(:window_end AS timestamptz), :passed,
     CAST(:severity AS text), :blocking, CAST(:observed AS jsonb), CAST(:run_id AS text));
