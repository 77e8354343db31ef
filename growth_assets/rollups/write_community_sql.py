"""Write ``sql/generated/community_rollups.sql``.

Run ``python -m growth_assets.rollups.write_community_sql`` after changing the metric list.

The file is the community tier's DDL with the default retention horizons, for readers and
reviewers; the assets generate the same statements at run time.
"""

from __future__ import annotations

from growth_assets.rollups import sqlgen
from resources.settings import ModelSettings
from resources.sqlfiles import sql_dir


def main() -> None:
    s = ModelSettings()
    horizons = {
        "growth.events": s.retention_events_days,
        "growth.metrics_hourly": s.retention_hourly_days,
    }
    path = sql_dir() / "generated" / "community_rollups.sql"
    path.write_text(sqlgen.community_script(horizons), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
