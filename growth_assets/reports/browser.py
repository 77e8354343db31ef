"""Headless Chromium (Debian package ``chromium``): the report as PDF, or as a PNG screenshot.

Used for the PDF export (``chromium --headless --print-to-pdf``: Chromium is already what
renders the HTML best, so the PDF needs no other library) and by the tests to check that the
report renders. ``GROWTH_CHROMIUM`` names the binary when it is not ``chromium`` on PATH.
Runs without network: the report needs none, and ``--no-sandbox`` lets it run as root in
containers and CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    configured = os.environ.get("GROWTH_CHROMIUM")
    if configured:
        return shutil.which(configured)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(binary: str, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="growth-chromium-") as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={profile}",
            *args,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def print_pdf(html: Path, pdf: Path, binary: str, timeout: float = 120) -> None:
    result = _run(
        binary,
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()],
        timeout,
    )
    if result.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(f"chromium could not print {html.name}: {result.stderr[-2000:]}")


def screenshot(
    html: Path, png: Path, binary: str, size: tuple[int, int] = (1400, 2400), timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    result = _run(
        binary,
        [
            f"--screenshot={png}",
            f"--window-size={size[0]},{size[1]}",
            "--hide-scrollbars",
            html.resolve().as_uri(),
        ],
        timeout,
    )
    if result.returncode != 0 or not png.is_file():
        raise RuntimeError(f"chromium could not screenshot {html.name}: {result.stderr[-2000:]}")
    return result
