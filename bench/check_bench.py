#!/usr/bin/env python3
"""Bench: `reviewbot check` against Coccinelle (`spatch`) on the same files, in the same run.

    python bench/check_bench.py [--runs 7] [--kernel-file /path/to/linux/mm/khugepaged.c]
    python bench/check_bench.py --real [--runs 7] [--files 59] [--spatch-runs 1]

Measures, alternating the tools so machine noise hits both alike:
1. whole-process wall time over every fixture file: `reviewbot check FILES... --format json`
   (one process, start-up included) vs `spatch --sp-file bench/uffd-wp.cocci --dir fixtures/`;
2. in-process time per file after start-up (parse + all checks), normalised to 3,000 lines,
   on the fixtures and, with --kernel-file, on a real mm/khugepaged.c (never committed);
3. spatch on the real file too.
Prints a Markdown block for bench/RESULTS.md with medians and ratios.

``--real``: whole-process wall time of `reviewbot check FILES... --format json` on real-size
files — the 33 real kernel trees' mm/khugepaged.c (mm/huge_memory.c for 4.4) under
bench/work/real/, plus copies of whole trees (Makefile, uapi header) under
bench/work/check_bench/ up to ``--files`` — against ast-grep's shallow rule
(bench/uffd-wp.sg.yml) and spatch (bench/uffd-wp.cocci), alternating. Also the same reviewbot
run forced to one process (REVIEWBOT_JOBS=1) to show what the worker pool buys.
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
SG_RULE = ROOT / "bench" / "uffd-wp.sg.yml"
REAL = ROOT / "bench" / "work" / "real"
COPIES = ROOT / "bench" / "work" / "check_bench"


CPU: dict[str, list[float]] = {}  # command name -> CPU seconds (user + sys) of each run


def wall(cmd: list[str], env: dict | None = None, label: str | None = None) -> float:
    """Wall seconds of ``cmd``; with ``label``, its CPU seconds (children) go to CPU[label]:
    on a shared, loaded machine CPU time is the steadier figure."""
    import resource

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        env={**os.environ, **(env or {})},
    )
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if label:
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        CPU.setdefault(label, []).append(cpu)
    return elapsed


def real_files(n: int, real: Path = REAL) -> list[Path]:
    """The real trees' khugepaged sources, then copies of whole trees (so each copy still has
    its Makefile and uapi header) until there are ``n``."""
    if not real.is_dir():
        sys.exit(f"{real} is missing: python3 bench/fetch_real_sources.py (or --real-dir DIR)")
    trees = sorted(p for p in real.iterdir() if p.is_dir())

    def source(tree: Path) -> Path | None:
        for rel in ("mm/khugepaged.c", "mm/huge_memory.c"):
            if (tree / rel).is_file():
                return tree / rel
        return None

    out = [s for t in trees if (s := source(t)) is not None]
    i = 0
    while len(out) < n and trees:
        tree = trees[i % len(trees)]
        copy = COPIES / f"{tree.name}-copy{i // len(trees)}"
        if not copy.exists():
            shutil.copytree(tree, copy)
        if (s := source(copy)) is not None:
            out.append(s)
        i += 1
    return out[:n]


def real_bench(runs: int, n: int, spatch_runs: int, real: Path = REAL) -> int:
    files = real_files(n, real)
    lines = sum(f.read_bytes().count(b"\n") for f in files)
    reviewbot = shutil.which("reviewbot") or str(Path(sys.executable).parent / "reviewbot")
    sg = shutil.which("ast-grep") or shutil.which("sg")
    if (
        sg
        and "ast-grep"
        not in subprocess.run([sg, "--version"], capture_output=True, text=True).stdout.lower()
    ):
        sg = None  # /usr/bin/sg is shadow's "switch group"
    spatch = shutil.which("spatch")
    rb_cmd = [reviewbot, "check", *map(str, files), "--format", "json"]
    sg_cmd = [sg, "scan", "--rule", str(SG_RULE), *map(str, files)] if sg else None
    rb, rb1, sgt, spt = [], [], [], []
    for i in range(runs):
        rb.append(wall(rb_cmd, label="rb"))
        rb1.append(wall(rb_cmd, {"REVIEWBOT_JOBS": "1"}, label="rb1"))
        if sg_cmd:
            sgt.append(wall(sg_cmd, label="sg"))
        if spatch and i < spatch_runs:
            spt.append(wall([spatch, "--very-quiet", "--sp-file", str(COCCI), *map(str, files)]))
    med = statistics.median
    cpu = platform.processor() or platform.machine()
    load = os.getloadavg()[0]
    print(
        f"### `reviewbot check` of {len(files)} real-size files vs ast-grep and Coccinelle — {time.strftime('%Y-%m-%d')}\n"
    )
    print(
        f"Machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, load average "
        f"{load:.1f} at the end (shared). Command: `python bench/check_bench.py --real --runs {runs} "
        f"--files {n} --spatch-runs {spatch_runs} --real-dir {real}`. {len(files)} files, {lines} lines; medians of "
        f"{runs} alternating runs (spatch: {len(spt)}).\n"
    )
    print("| tool | wall (median) | runs | ratio to reviewbot |")
    print("|---|---|---|---|")
    base = med(rb)
    print(
        f"| reviewbot check (worker per core) | {base * 1000:.0f} ms | {', '.join(f'{x * 1000:.0f}' for x in rb)} | 1.00 |"
    )
    print(
        f"| reviewbot check, one process (REVIEWBOT_JOBS=1) | {med(rb1) * 1000:.0f} ms | {', '.join(f'{x * 1000:.0f}' for x in rb1)} | {med(rb1) / base:.2f} |"
    )
    if sgt:
        print(
            f"| ast-grep shallow rule | {med(sgt) * 1000:.0f} ms | {', '.join(f'{x * 1000:.0f}' for x in sgt)} | {med(sgt) / base:.2f} |"
        )
    if spt:
        print(
            f"| spatch (Coccinelle) | {med(spt) * 1000:.0f} ms | {', '.join(f'{x * 1000:.0f}' for x in spt)} | {med(spt) / base:.1f} |"
        )
    if sgt:
        print(
            f"\nreviewbot / ast-grep: {base / med(sgt):.2f}x (goal <= 1.5x)"
            + (f"; spatch / reviewbot: {med(spt) / base:.1f}x (goal >= 15x)" if spt else "")
        )
    names = {"rb": "reviewbot (pool)", "rb1": "reviewbot (one process)", "sg": "ast-grep"}
    cpu = ", ".join(f"{names[k]} {med(v) * 1000:.0f} ms" for k, v in CPU.items())
    print(f"\nCPU time (user + sys, median): {cpu}.")
    return 0


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
    ap.add_argument("--real", action="store_true", help="the real-size file comparison")
    ap.add_argument("--files", type=int, default=59)
    ap.add_argument("--spatch-runs", type=int, default=1)
    ap.add_argument(
        "--real-dir", type=Path, default=REAL, help="kernel trees (default: bench/work/real)"
    )
    args = ap.parse_args()
    if args.real:
        return real_bench(args.runs, args.files, args.spatch_runs, args.real_dir)
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
