"""Where reports go, and whether a PDF is printed next to the HTML.

``GROWTH_REPORTS_DIR``: the output folder (default ``<repo>/.reports``, git-ignored); each
report is written to ``<dir>/<weekly|monthly>/<period start>/``. ``GROWTH_REPORTS_PDF``:
``auto`` (print a PDF when headless Chromium is installed), ``on`` (fail without it) or ``off``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

DEFAULT_DIR = Path(__file__).resolve().parents[2] / ".reports"
PDF_MODES = ("auto", "on", "off")


class ReportSettings(ConfigurableResource):
    """Output folder and PDF mode of the board reports."""

    output_dir: str = Field(default=str(DEFAULT_DIR), description="Folder the reports go to.")
    pdf: str = Field(default="auto", description="auto / on / off: PDF through headless Chromium.")
    reporting_currency: str = Field(default="USD", description="Shown next to money figures.")


def report_settings_from_env(environ: Mapping[str, str] = os.environ) -> ReportSettings:
    pdf = environ.get("GROWTH_REPORTS_PDF") or "auto"
    if pdf not in PDF_MODES:
        raise ValueError(f"GROWTH_REPORTS_PDF must be one of {', '.join(PDF_MODES)}; got {pdf!r}")
    return ReportSettings(
        output_dir=environ.get("GROWTH_REPORTS_DIR") or str(DEFAULT_DIR),
        pdf=pdf,
        reporting_currency=environ.get("GROWTH_REPORTING_CURRENCY") or "USD",
    )
