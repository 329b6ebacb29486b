#!/usr/bin/env python3
"""Render the HTML reports in headless Chromium and save screenshots to look at.

    python bench/render_html.py        # needs the Debian package `chromium`

Writes, under bench/work/html/ (git-ignored): the demo's report.html (via `reviewbot demo`),
a sweep of the demo history, and — when bench/sweep_bench.py has built its history — a sweep
of its 3,000 tags; then a PNG screenshot of each. Chromium runs with networking disabled, so a
page that needed the network would show it. Not part of the test suite (no browser in CI).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "work" / "html"
BENCH_REPO = ROOT / "bench" / "work" / "linux.git"


def reviewbot(*args: str) -> None:
    exe = Path(sys.executable).parent / "reviewbot"
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"reviewbot {' '.join(args)} failed: {proc.stderr}")


def screenshot(page: Path, png: Path, height: int) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            f"--window-size=1280,{height}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    print(png)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    demo = OUT / "demo-history"
    reviewbot("demo", "--dir", str(demo), "--output-dir", str(OUT / "demo-report"))
    screenshot(OUT / "demo-report" / "report.html", OUT / "demo-report.png", 1800)
    reviewbot(
        "sweep",
        "--repo",
        str(demo),
        "--branches",
        "*",
        "--format",
        "html",
        "-o",
        str(OUT / "demo-sweep.html"),
    )
    screenshot(OUT / "demo-sweep.html", OUT / "demo-sweep.png", 1400)
    if BENCH_REPO.exists():
        reviewbot(
            "sweep",
            "--repo",
            str(BENCH_REPO),
            "--tags",
            "v*",
            "--format",
            "html",
            "-o",
            str(OUT / "bench-sweep.html"),
        )
        screenshot(OUT / "bench-sweep.html", OUT / "bench-sweep.png", 2000)


if __name__ == "__main__":
    main()
