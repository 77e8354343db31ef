"""growth-assets: a growth-analytics warehouse as a Dagster code location.

The folders follow the data: ``sources`` (APIs → ``raw``), ``models`` (``raw`` → canonical
``growth`` tables → rollups), and ``definitions.py`` assembles them into one ``Definitions``.
"""

import warnings

from dagster import BetaWarning

# resources/__init__.py sets polars' allocator options; it must run before polars is imported
import resources  # noqa: F401

# Every SQL asset uses ``BackfillPolicy.single_run()`` on purpose (a year of partitions in one
# run); Dagster flags that parameter as beta on each definition, which buries the CLI output.
warnings.filterwarnings(
    "ignore", message="Parameter `backfill_policy` of function `asset`", category=BetaWarning
)
