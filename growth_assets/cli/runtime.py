"""Process environment for commands that start Dagster (demo, dev): instance home and storage.

``DAGSTER_HOME`` is the repository root, whose ``dagster.yaml`` puts Dagster's own storage in
the ``dagster`` database of the same cluster. Values already in the environment win.
"""

from __future__ import annotations

import os
from pathlib import Path

from growth_assets.environment import local_url

REPO_ROOT = Path(__file__).resolve().parents[2]


def dagster_environment() -> dict[str, str]:
    state = REPO_ROOT / ".dagster_home"
    return {
        "DAGSTER_HOME": str(REPO_ROOT),
        "DAGSTER_PG_URL": local_url(os.environ.get("DAGSTER_DB", "dagster"), driver="postgresql"),
        "DAGSTER_ARTIFACTS_DIR": str(state / "storage"),
        "DAGSTER_COMPUTE_LOGS_DIR": str(state / "logs"),
    }


def apply_dagster_environment() -> None:
    for name, value in dagster_environment().items():
        os.environ.setdefault(name, value)
