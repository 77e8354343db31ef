"""What keeps the warehouse current without a person: schedules, automation, failure alerts.

:func:`with_operations` adds them to the code location's definitions, derived from its
assets: the ingestion jobs and schedules (``schedules``), an automation condition on every
downstream asset and the sensor that evaluates them (``automation``), and the Slack
run-failure sensor (``run_failures``).

``GROWTH_AUTOMATION`` (``on`` by default) decides whether the schedules and sensors start
running as soon as the daemon sees them, so ``dagster dev`` from a fresh clone keeps the
warehouse current on its own; ``off`` leaves them stopped until switched on in the UI (their
state, once toggled there, is kept by the instance and wins over this default).
"""

from __future__ import annotations

import os

from dagster import DefaultScheduleStatus, DefaultSensorStatus, Definitions

from growth_assets.automation import automation_sensor, with_automation
from growth_assets.run_failures import build_failure_sensor
from growth_assets.schedules import ingestion_schedules

AUTOMATION_ENV = "GROWTH_AUTOMATION"


def automation_enabled() -> bool:
    value = os.environ.get(AUTOMATION_ENV, "on").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"{AUTOMATION_ENV} must be on or off, got {value!r}")
    return value == "on"


def with_operations(defs: Definitions) -> Definitions:
    running = automation_enabled()
    schedule_status = DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED
    sensor_status = DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED
    return Definitions.merge(
        with_automation(defs),
        Definitions(
            schedules=ingestion_schedules(list(defs.assets or []), schedule_status),
            sensors=[automation_sensor(sensor_status), build_failure_sensor(sensor_status)],
        ),
    )
