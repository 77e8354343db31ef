"""Data quality: shared check helpers, SQL checks, Great Expectations suites, freshness.

Checks live with their assets (``check_specs`` + ``AssetCheckResult`` in the
``MaterializeResult``); this package holds what they share:

* :mod:`.results`: :func:`~.results.recorded`, the one helper every check evaluation goes
  through: it writes the row of ``ops.quality_results`` in the caller's transaction (the one
  that ran the check's SQL) and returns the ``AssetCheckResult``; :func:`~.results.check_spec`
  declares a check (ERROR checks are blocking, partitioned like their asset).
* :mod:`.sqlchecks`: set-based checks over a run's whole window (volume against the trailing
  median, canonical invariants, raw = canonical + rejected, quarantine).
* :mod:`.expectations`: the Great Expectations suites (``suites/*.json``) run against the
  warehouse through GX's SQL datasource.
* :mod:`.freshness`: the freshness policy of every source, model and rollup.
* :mod:`.config`: the configured product start date and volume bounds.
"""
