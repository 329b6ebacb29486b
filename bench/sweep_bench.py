#!/usr/bin/env python3
"""Bench: `reviewbot sweep` over a kernel-shaped history, against the floor, in one run.

    python bench/sweep_bench.py [--runs 5] [--rebuild]

Builds (once, under bench/work/sweep/, git-ignored) a synthetic history shaped like a linux checkout:
59 mainline series (4.4 … 7.1, rc1–rc7 and the release), stable branches with point releases
(about 250 for each LTS series), > 3,000 release tags, a tree of > 20,000 files, a ~70 KB
top-level Makefile whose SUBLEVEL changes every release, and mm/khugepaged.c (mm/huge_memory.c
before 4.8) at real size (~2,700 lines: an era fixture plus kernel-shaped filler functions),
changing every ~20 releases — about 150 distinct blobs.

Then measures, alternating so machine noise hits all alike:
- floor: `git cat-file --batch` reading every tag's khugepaged blob (one process, output
  drained), plus one tree-sitter parse of each distinct blob (in this process, after warm-up);
- cold: `reviewbot sweep --repo R --tags 'v*' --format json -o /dev/null` with an empty cache;
- warm: the same command again with the cache the cold run left;
- report: `reviewbot report` of the fixture fix over every stable branch (cache warm).
Prints a Markdown block for bench/RESULTS.md (medians and ratios).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Its own folder: a rebuild removes only what this bench made, never the shared real data
# (bench/work/real, bench/work/backports) beside it.
WORK = ROOT / "bench" / "work" / "sweep"
REPO = WORK / "linux.git"
LAYOUT_VERSION = "4"

# (first series it applies to, era fixture); the latest entry <= a series wins.
ERAS = [
    ((4, 4), "v4.4.c"),
    ((4, 8), "v5.4.c"),
    ((5, 7), "v5.7.c"),
    ((5, 10), "v5.10.178.c"),
    ((5, 15), "v5.15.108.c"),
    ((6, 1), "v6.1.25.c"),
    ((6, 2), "v6.2.12.c"),
    ((6, 3), "v6.3.c"),
    ((6, 5), "v6.5.c"),
    ((6, 6), "v6.6.c"),
    ((6, 18), "v6.18.c"),
    ((6, 19), "v6.19.c"),
    ((7, 0), "v7.0.c"),
    ((7, 1), "v7.1.c"),
]
# Stable branches that received the isolate fix: (series, first fixed point release, fixture).
BACKPORTS = {
    (5, 10): (179, "v5.10.179.c"),
    (5, 15): (109, "v5.15.109.c"),
    (6, 1): (26, "v6.1.26.c"),
    (6, 2): (13, "v6.2.13.c"),
}
LTS = {
    (4, 4): 302,
    (4, 9): 337,
    (4, 14): 336,
    (4, 19): 325,
    (5, 4): 290,
    (5, 10): 236,
    (5, 15): 180,
    (6, 1): 160,
    (6, 6): 110,
    (6, 12): 60,
}
SERIES = (
    [(4, m) for m in range(4, 21)]
    + [(5, m) for m in range(0, 20)]
    + [(6, m) for m in range(0, 20)]
    + [(7, 0), (7, 1)]
)
CHANGE_EVERY = 20


def era(series: tuple[int, int]) -> str:
    return [f for s, f in ERAS if s <= series][-1]


def filler_functions(n: int, salt: int) -> bytes:
    """Kernel-shaped functions no rule looks at (loops, locks, list walks, #ifdef)."""
    out = []
    for i in range(n):
        out.append(f"""
static int khugepaged_helper_{i}(struct mm_struct *mm, unsigned long addr, int nr)
{{
	struct page *page;
	int ret = 0, i;

	spin_lock(&mm->page_table_lock);
	for (i = 0; i < nr; i++) {{
		page = pfn_to_page(addr >> PAGE_SHIFT);
		if (!page || PageCompound(page))
			continue;
		if (page_count(page) > {i % 7 + 1}) {{
			ret = -EBUSY;
			break;
		}}
		addr += PAGE_SIZE;
	}}
	spin_unlock(&mm->page_table_lock);
#ifdef CONFIG_NUMA
	if (ret == 0 && nr > {i % 5})
		ret = node_state(numa_node_id(), N_MEMORY) ? 0 : -EINVAL;
#endif
	list_for_each_entry(page, &mm->mmlist, lru) {{
		if (PageLRU(page))
			ret++;
	}}
	return ret;
}}
""")
    return (f"/* khugepaged helpers, revision {salt} */\n" + "".join(out)).encode()


def khugepaged(series: tuple[int, int], revision: int, fixture: str | None = None) -> bytes:
    from reviewbot.demo import fixture_text

    return fixture_text(fixture or era(series)) + filler_functions(75, revision)


def makefile(v: tuple[int, int, int], rc: int | None) -> bytes:
    extra = f"-rc{rc}" if rc else ""
    head = (
        f"# SPDX-License-Identifier: GPL-2.0\nVERSION = {v[0]}\nPATCHLEVEL = {v[1]}\nSUBLEVEL = {v[2]}\n"
        f"EXTRAVERSION = {extra}\nNAME = Bench Kernel\n\n"
    )
    rules = "".join(
        f"# rule {i}\nobj-$(CONFIG_BENCH_{i}) += bench/obj{i}.o\nccflags-y += -DBENCH_{i}=1\n"
        for i in range(900)
    )
    return (head + rules).encode()


def build(path: Path) -> dict:
    """Write the synthetic history with one git fast-import; returns counts."""
    from reviewbot.demo import uapi_header
    from reviewbot.git.fastimport import HistoryBuilder

    rnd = random.Random(7)
    b = HistoryBuilder(path)
    tree = {
        f"drivers/d{d:03d}/f{f:02d}.c": f"/* file {d}/{f} */\nint f_{d}_{f}(void) {{ return {d * f}; }}\n"
        for d in range(420)
        for f in range(50)
    }
    tree["mm/huge_memory.c"] = "/* transparent huge pages */\n"
    counter = {"tags": 0, "khugepaged": set()}
    state = {"rev": 0, "since_change": 0}

    def release(
        branch: str,
        series,
        point: int,
        rc: int | None,
        parent: int | None,
        fixture: str | None = None,
        bump: bool = False,
    ) -> int:
        files = {
            "Makefile": makefile((*series, point), rc),
            f"drivers/d{rnd.randrange(420):03d}/f{rnd.randrange(50):02d}.c": f"/* touched {counter['tags']} */\n",
        }
        state["since_change"] += 1
        if state["since_change"] >= CHANGE_EVERY or bump:
            state["since_change"] = 0
            state["rev"] += 1
        src = khugepaged(series, state["rev"], fixture)
        if series < (4, 8):
            files["mm/huge_memory.c"] = src
        else:
            files["mm/khugepaged.c"] = src
            if series == (4, 8):
                files["mm/huge_memory.c"] = b"/* transparent huge pages (khugepaged moved out) */\n"
        files["include/uapi/linux/userfaultfd.h"] = uapi_header(f"{series[0]}.{series[1]}.0")
        counter["khugepaged"].add(src)
        name = (
            f"v{series[0]}.{series[1]}"
            + (f".{point}" if point else "")
            + (f"-rc{rc}" if rc else "")
        )
        mark = b.commit(
            branch, files if counter["tags"] else {**tree, **files}, f"Linux {name}", parent=parent
        )
        b.tag(name, mark)
        counter["tags"] += 1
        return mark

    bases = {}
    for s in SERIES:
        for rc in range(1, 8):
            release("master", s, 0, rc, None)
        bases[s] = release("master", s, 0, None, None)
    for s in SERIES:
        n = LTS.get(s, 6 if s != (6, 2) else 15)
        state["since_change"] = 0
        first = True
        for p in range(1, n + 1):
            fixed = s in BACKPORTS and p >= BACKPORTS[s][0]
            release(
                f"linux-{s[0]}.{s[1]}.y",
                s,
                p,
                None,
                bases[s] if first else None,
                BACKPORTS[s][1] if fixed else None,
                bump=fixed and p == BACKPORTS[s][0],
            )
            first = False
    b.flush()
    subprocess.run(["git", "-C", str(path), "repack", "-adq"], check=True)
    return {
        "tags": counter["tags"],
        "files": len(tree) + 4,
        "khugepaged_blobs": len(counter["khugepaged"]),
    }


def ensure_repo(rebuild: bool) -> dict:
    stamp = WORK / "layout"
    if rebuild or not stamp.exists() or stamp.read_text().split()[0] != LAYOUT_VERSION:
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        t0 = time.perf_counter()
        counts = build(REPO)
        counts["build_s"] = round(time.perf_counter() - t0, 1)
        stamp.write_text(
            f"{LAYOUT_VERSION} {counts['tags']} {counts['files']} {counts['khugepaged_blobs']} {counts['build_s']}\n"
        )
    _, tags, files, blobs, build_s = stamp.read_text().split()
    return {
        "tags": int(tags),
        "files": int(files),
        "khugepaged_blobs": int(blobs),
        "build_s": float(build_s),
    }


def tag_specs() -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(REPO), "tag", "-l", "v*"], capture_output=True, text=True, check=True
    ).stdout.split()
    specs = []
    for t in out:
        major, minor = (int(x) for x in t[1:].split("-")[0].split(".")[:2])
        specs.append(f"{t}:{'mm/huge_memory.c' if (major, minor) < (4, 8) else 'mm/khugepaged.c'}")
    return specs


def floor_once(specs: list[str], distinct: list[bytes]) -> tuple[float, float]:
    """cat-file --batch over every tag's blob (drained) + one full tree-sitter parse per distinct blob."""
    import tree_sitter_c
    from tree_sitter import Language, Parser

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["git", "-C", str(REPO), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    out, _ = proc.communicate(("\n".join(specs) + "\n").encode())
    t1 = time.perf_counter()
    assert len(out) > 1_000_000
    parser = Parser(Language(tree_sitter_c.language()))
    t2 = time.perf_counter()
    for data in distinct:
        parser.parse(data)
    t3 = time.perf_counter()
    return t1 - t0, t3 - t2


def sweep_once(cache_dir: Path) -> float:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_dir))
    cmd = [
        str(Path(sys.executable).parent / "reviewbot"),
        "sweep",
        "--repo",
        str(REPO),
        "--tags",
        "v*",
        "--format",
        "json",
        "-o",
        os.devnull,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"sweep failed: {proc.stderr}")
    return dt


def report_once(cache_dir: Path) -> float:
    """`reviewbot report` of the fixture fix (a mail: its sha is not in this history) over every branch."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_dir))
    patch = (
        ROOT
        / "fixtures"
        / "patches"
        / "0001-mm-khugepaged-check-again-on-anon-uffd-wp-during-iso.patch"
    )
    cmd = [
        str(Path(sys.executable).parent / "reviewbot"),
        "report",
        "--repo",
        str(REPO),
        "--fix",
        str(patch),
        "--branches",
        "linux-*.y",
        "--format",
        "json",
        "-o",
        os.devnull,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"report failed: {proc.stderr}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    counts = ensure_repo(args.rebuild)
    specs = tag_specs()
    ids = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "--batch-check=%(objectname)"],
        input="\n".join(specs) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    distinct_ids = sorted(set(ids))
    distinct = [
        subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "blob", i], capture_output=True, check=True
        ).stdout
        for i in distinct_ids
    ]
    lines = sum(d.count(b"\n") for d in distinct) // len(distinct)
    floor_once(specs, distinct[:3])  # warm-up: page cache, imports
    reads, parses, floors, colds, warms, reports = [], [], [], [], [], []
    for _ in range(args.runs):
        r, p = floor_once(specs, distinct)
        reads.append(r)
        parses.append(p)
        floors.append(r + p)
        with tempfile.TemporaryDirectory() as d:
            colds.append(sweep_once(Path(d)))
            warms.append(sweep_once(Path(d)))
            reports.append(report_once(Path(d)))
    med = statistics.median
    fl, cold, warm = med(floors), med(colds), med(warms)
    print(f"""### `reviewbot sweep` over a synthetic kernel history — {time.strftime("%Y-%m-%d")}

Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, git {subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1]}.
Command: `python bench/sweep_bench.py --runs {args.runs}`. Medians of {args.runs} alternating runs.
History (`bench/work/`, built in {counts["build_s"]} s): {counts["tags"]} release tags, a tree of {counts["files"]} files,
{len(distinct_ids)} distinct khugepaged blobs (~{lines} lines each), a ~{len(makefile((6, 1, 1), None)) // 1024} KB Makefile changing every release.

| measurement | median | ratio to floor |
|---|---|---|
| floor: `git cat-file --batch` of {len(specs)} tags' khugepaged blobs | {med(reads):.2f} s | |
| floor: one full tree-sitter parse per distinct blob ({len(distinct_ids)}) | {med(parses):.2f} s | |
| **floor total** | **{fl:.2f} s** | 1.00× |
| `reviewbot sweep --tags 'v*'` cold (empty cache, whole process) | {cold:.2f} s | {cold / fl:.2f}× (target ≤ 2×) |
| `reviewbot sweep --tags 'v*'` warm (whole process) | {warm:.2f} s | {warm / fl:.2f}× (target ≤ 1 s) |
| `reviewbot report --fix <mail> --branches 'linux-*.y'` ({len(LTS) and len(SERIES)} branches, cache warm) | {med(reports):.2f} s | |

Runs (s): floor {", ".join(f"{x:.2f}" for x in floors)}; cold {", ".join(f"{x:.2f}" for x in colds)}; warm {", ".join(f"{x:.2f}" for x in warms)}; report {", ".join(f"{x:.2f}" for x in reports)}.
""")


if __name__ == "__main__":
    main()
