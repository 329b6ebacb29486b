#!/usr/bin/env python3
"""Bench: `reviewbot check` against Coccinelle (`spatch`) on the same files, in the same run.

    python bench/check_bench.py [--runs 7] [--kernel-file /path/to/linux/mm/khugepaged.c]

Measures, alternating the tools so machine noise hits both alike:
1. whole-process wall time over every fixture file: `reviewbot check FILES... --format json`
   (one process, start-up included) vs `spatch --sp-file bench/uffd-wp.cocci --dir fixtures/`;
2. in-process time per file after start-up (parse + all checks), normalised to 3,000 lines,
   on the fixtures and, with --kernel-file, on a real mm/khugepaged.c (never committed);
3. spatch on the real file too.
Prints a Markdown block for bench/RESULTS.md with medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COCCI = ROOT / "bench" / "uffd-wp.cocci"


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def in_process(files: list[Path], version: str | None, runs: int) -> tuple[float, int]:
    """Median seconds to check all ``files`` once (after imports and a warm-up), and their lines."""
    from reviewbot.checker.check import check_source
    from reviewbot.model.results import VersionInfo
    from reviewbot.rules.spec import builtin_rules

    rules = builtin_rules()
    datas = [(f, f.read_bytes()) for f in files]
    lines = sum(d.count(b"\n") for _, d in datas)
    v = VersionInfo(version, "flag") if version else VersionInfo(None, "unknown")
    for f, d in datas:  # warm-up: imports, query compilation
        check_source(d, f.name, rules, v)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for f, d in datas:
            check_source(d, f.name, rules, v)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), lines


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument(
        "--kernel-file",
        type=Path,
        default=Path("/work/realkernel/linux-source-6.1/mm/khugepaged.c"),
    )
    args = ap.parse_args()
    spatch = shutil.which("spatch")
    reviewbot = shutil.which("reviewbot") or str(Path(sys.executable).parent / "reviewbot")
    files = sorted((ROOT / "fixtures").glob("*/*.c"))
    n_lines = sum(f.read_bytes().count(b"\n") for f in files)

    rb, sp = [], []
    for _ in range(args.runs):
        rb.append(wall([reviewbot, "check", *map(str, files), "--format", "json"]))
        if spatch:
            sp.append(
                wall(
                    [
                        spatch,
                        "--very-quiet",
                        "--sp-file",
                        str(COCCI),
                        "--dir",
                        str(ROOT / "fixtures"),
                    ]
                )
            )
    per_all, lines_all = in_process(files, "6.1.20", args.runs)
    per_unknown, _ = in_process(files, None, args.runs)
    eras = sorted((ROOT / "fixtures" / "eras").glob("*.c"))
    per_eras, lines_eras = in_process(eras, "6.1.20", args.runs)

    real = None
    if args.kernel_file.is_file():
        t, ln = in_process([args.kernel_file], "6.1.176", max(args.runs, 15))
        tu, _ = in_process([args.kernel_file], None, max(args.runs, 15))
        sp_real = (
            statistics.median(
                wall([spatch, "--very-quiet", "--sp-file", str(COCCI), str(args.kernel_file)])
                for _ in range(args.runs)
            )
            if spatch
            else None
        )
        real = (t, tu, ln, sp_real)

    cpu = platform.processor() or platform.machine()
    print(f"### `reviewbot check` vs Coccinelle — {time.strftime('%Y-%m-%d')}\n")
    print(
        f"Machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"spatch {'present' if spatch else 'absent'}. Command: `python bench/check_bench.py --runs {args.runs}`. "
        f"Medians of {args.runs} alternating runs.\n"
    )
    print("| measurement | reviewbot | spatch | ratio (spatch / reviewbot) |")
    print("|---|---|---|---|")
    rbm = statistics.median(rb)
    spm = statistics.median(sp) if sp else None
    print(
        f"| all {len(files)} fixture files ({n_lines} lines), one process, wall | {rbm * 1000:.0f} ms | "
        + (f"{spm * 1000:.0f} ms | {spm / rbm:.1f}× |" if spm else "n/a | n/a |")
    )
    print(
        f"| same, in-process after start-up (version known) | {per_all * 1000:.1f} ms "
        f"({per_all / lines_all * 3000 * 1000:.2f} ms per 3,000 lines) | | |"
    )
    print(
        f"| same, in-process, version unknown (full parse) | {per_unknown * 1000:.1f} ms "
        f"({per_unknown / lines_all * 3000 * 1000:.2f} ms per 3,000 lines) | | |"
    )
    print(
        f"| the {len(eras)} era files only ({lines_eras} lines), in-process, version known | {per_eras * 1000:.1f} ms "
        f"({per_eras / len(eras) * 1000:.2f} ms per file, {per_eras / lines_eras * 3000 * 1000:.2f} ms per 3,000 lines) | | |"
    )
    if real:
        t, tu, ln, sp_real = real
        print(
            f"| real mm/khugepaged.c 6.1.176 ({ln} lines), in-process, version known | {t * 1000:.2f} ms "
            f"({t / ln * 3000 * 1000:.2f} ms per 3,000 lines) | "
            + (
                f"{sp_real * 1000:.0f} ms (whole process) | {sp_real / t:.0f}× |"
                if sp_real
                else "n/a | |"
            )
        )
        print(
            f"| real mm/khugepaged.c, in-process, version unknown (full parse) | {tu * 1000:.2f} ms | | |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
