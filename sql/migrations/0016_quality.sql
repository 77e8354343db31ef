-- Data quality: every asset-check evaluation as a row, and two commented views for BI.

-- ops.quality_results: one row per check evaluation, written by growth_assets.quality.results
-- in the same transaction as the check's own SQL (a check that could not record its result
-- did not run). `partition` is the Dagster partition key of a single-partition run, the
-- label 'first...last' of a single-run backfill over a range, NULL for unpartitioned assets;
-- window_start/window_end are the time window the check read.
CREATE TABLE ops.quality_results (
    result_id     bigserial   PRIMARY KEY,
    check_name    text        NOT NULL,
    asset_key     text        NOT NULL,            -- '/'-separated, as in the Dagster UI
    partition     text,
    window_start  timestamptz,
    window_end    timestamptz,
    passed        boolean     NOT NULL,
    severity      text        NOT NULL CHECK (severity IN ('ERROR', 'WARN')),
    blocking      boolean     NOT NULL,
    observed      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    run_id        text,
    checked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_results_asset_time ON ops.quality_results (asset_key, checked_at);
CREATE INDEX quality_results_failed ON ops.quality_results (checked_at)
    WHERE NOT passed;

CREATE VIEW analytics.quality_results AS
SELECT
    result_id,
    check_name,
    asset_key,
    partition,
    window_start,
    window_end,
    passed,
    severity,
    blocking,
    observed,
    run_id,
    checked_at
FROM ops.quality_results;
COMMENT ON VIEW analytics.quality_results IS 'Every data-quality check evaluation of the pipeline (Dagster asset checks and Great Expectations suites), newest last: chart data quality over time, drill into failures.';
COMMENT ON COLUMN analytics.quality_results.result_id IS 'Increasing id of the evaluation.';
COMMENT ON COLUMN analytics.quality_results.check_name IS 'Name of the asset check (as in the Dagster UI).';
COMMENT ON COLUMN analytics.quality_results.asset_key IS 'The checked asset, path parts joined by ''/'' (e.g. growth/events/stripe).';
COMMENT ON COLUMN analytics.quality_results.partition IS 'Partition checked: a key (2025-01-05, 2025-01-05-13:00), a backfill range ''first...last'', or NULL for unpartitioned assets.';
COMMENT ON COLUMN analytics.quality_results.window_start IS 'Start of the time window the check read (UTC), NULL when it reads the whole table.';
COMMENT ON COLUMN analytics.quality_results.window_end IS 'End (exclusive) of the time window the check read (UTC).';
COMMENT ON COLUMN analytics.quality_results.passed IS 'Whether the check passed.';
COMMENT ON COLUMN analytics.quality_results.severity IS 'ERROR (a failure blocks downstream assets and alerts on-call) or WARN (reported only).';
COMMENT ON COLUMN analytics.quality_results.blocking IS 'Whether the check is declared blocking: a failed ERROR result stops downstream materialisation.';
COMMENT ON COLUMN analytics.quality_results.observed IS 'Observed values (counts, mismatches, samples of offending ids), as shown in the check''s metadata.';
COMMENT ON COLUMN analytics.quality_results.run_id IS 'Dagster run that evaluated the check.';
COMMENT ON COLUMN analytics.quality_results.checked_at IS 'When the check was evaluated (UTC).';

CREATE VIEW analytics.quality_scorecard AS
SELECT
    asset_key,
    CAST(checked_at AT TIME ZONE 'UTC' AS date) AS day,
    count(*) AS evaluations,
    count(*) FILTER (WHERE passed) AS passed,
    count(*) FILTER (WHERE NOT passed AND severity = 'ERROR') AS failed_error,
    count(*) FILTER (WHERE NOT passed AND severity = 'WARN') AS failed_warn,
    round(CAST(count(*) FILTER (WHERE passed) AS numeric) / count(*), 4) AS pass_rate
FROM ops.quality_results
GROUP BY 1, 2;
COMMENT ON VIEW analytics.quality_scorecard IS 'Data-quality scorecard: per asset and UTC day of evaluation, how many check evaluations ran, passed and failed (by severity), and the pass rate.';
COMMENT ON COLUMN analytics.quality_scorecard.asset_key IS 'The checked asset, path parts joined by ''/''.';
COMMENT ON COLUMN analytics.quality_scorecard.day IS 'UTC day the checks were evaluated.';
COMMENT ON COLUMN analytics.quality_scorecard.evaluations IS 'Check evaluations of the asset that day.';
COMMENT ON COLUMN analytics.quality_scorecard.passed IS 'Evaluations that passed.';
COMMENT ON COLUMN analytics.quality_scorecard.failed_error IS 'Failed evaluations of ERROR severity (blocking, alerted).';
COMMENT ON COLUMN analytics.quality_scorecard.failed_warn IS 'Failed evaluations of WARN severity (reported only).';
COMMENT ON COLUMN analytics.quality_scorecard.pass_rate IS 'passed / evaluations, between 0 and 1.';

GRANT SELECT ON analytics.quality_results, analytics.quality_scorecard TO growth_bi;
