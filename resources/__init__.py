"""Dagster resources for growth-assets: the warehouse and the source clients.

Assets talk to the outside world only through these typed ``ConfigurableResource`` classes, so
the demo and production differ in configuration, never in asset code.
"""

import os

# Polars allocates with jemalloc, which by default keeps freed pages for ten seconds: the
# cohort computations' short-lived sorts and tables then add up in the process's peak memory.
# Returning them at once lowered the peak of a process materialising the growth-analytics
# assets on a built design-scale warehouse from 425 to 359 MB (an ad-hoc run, not the bench
# harness; BENCHMARKS.md). jemalloc reads this when polars first allocates, so it is set
# before anything imports polars (growth_assets/__init__.py imports this package first); a
# value set by the user wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

from resources.warehouse import Tier, Warehouse

__all__ = ["Tier", "Warehouse"]
