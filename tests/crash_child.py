"""The run a crash test kills: ``python -m tests.crash_child URL SCENARIO SEED``.

``load``: the whole demo pipeline over the test's days (killed while ingestion COPYs);
``rollup``: growth.user_activity_daily over the same days (killed inside its replace).
The process runs the real assets in-process, exactly as ``materialize_days`` does.
"""

from __future__ import annotations

import sys

from dagster import DagsterInstance, materialize

from growth_assets.backfill import QUIET, materialize_days, range_tags
from growth_assets.definitions import ASSETS
from growth_assets.rollups.assets import USER_ACTIVITY_DAILY_KEY
from tests.test_crash import FIRST, LAST, demo_resources


def main(url: str, scenario: str, seed: int) -> None:
    resources = demo_resources(url, seed)
    with DagsterInstance.ephemeral() as instance:
        if scenario == "load":
            materialize_days(FIRST, LAST, resources, instance)
        else:
            materialize(
                ASSETS,
                selection=[USER_ACTIVITY_DAILY_KEY],
                resources=resources,
                instance=instance,
                tags=range_tags(FIRST, LAST, "daily"),
                run_config=QUIET,
            )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
