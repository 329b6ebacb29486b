#!/usr/bin/env python3
"""Bench: what the installed pre-commit hook adds to `git commit`, against `git commit --no-verify`.

    python bench/hook_bench.py [--runs 21] [--files 20000] [--kernel-dir /work/realkernel/linux-source-6.1]
    python bench/hook_bench.py --clone bench/work/bigtree/linux-source-6.1   # a kernel-size index

Builds a throw-away kernel-shaped repository in a temporary directory (removed afterwards):
``--files`` filler sources so the index has a realistic size, plus every file of
``--kernel-dir`` when given (a real linux tree extract with mm/khugepaged.c and its Makefile;
never committed anywhere) or the 6.1.26 fixture otherwise. Installs the hooks with
``python -m reviewbot hook install``, then alternates, round after round, four commits:

1. a file no rule covers, with the hook        2. the same kind of commit with --no-verify
3. a harmless edit of mm/khugepaged.c, hook    4. the same with --no-verify

and times each ``git commit`` process (the edit and ``git add`` are not timed): wall time, and
the CPU time of the whole process tree (git, the hook's shell, git and Python), which a loaded
machine disturbs far less. The extra cost of the hook is the difference of medians; targets
(issue 11, on a kernel-size index): at most +25 ms for (1), +250 ms for (3). A commit with an
empty pre-commit hook (``exit 0``) is timed beside (1): git's own cost of having any hook (it
re-reads the index after the hook). A commit that loses the isolate guard is timed too (it is
refused). The package is byte-compiled first, as ``pip install`` leaves it (the sessions'
PYTHONDONTWRITEBYTECODE would otherwise make every hook compile reviewbot from source).
Prints a Markdown block for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUARD = (
    b"\t\tif (pte_uffd_wp(pteval)) {\n\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}\n"
)


def git(
    repo: Path, *args: str, check: bool = True, stdin: bytes | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, check=check, input=stdin
    )


def build(repo: Path, files: int, kernel_dir: Path | None) -> None:
    """One commit holding the filler files and the kernel files, via git fast-import."""
    from reviewbot.demo import fixture_text, makefile, uapi_header

    git(repo.parent, "init", "-q", "-b", "master", str(repo))
    tree: dict[str, bytes] = {}
    for i in range(files):
        tree[f"drivers/fill/d{i // 200:03d}/f{i:05d}.c"] = (
            f"/* filler {i} */\nint filler_{i};\n".encode()
        )
    if kernel_dir is not None:
        for p in kernel_dir.rglob("*"):
            if p.is_file():
                tree[p.relative_to(kernel_dir).as_posix()] = p.read_bytes()
    else:
        tree["mm/khugepaged.c"] = fixture_text("v6.1.26.c")
        tree["Makefile"] = makefile("6.1.26")
        tree["include/uapi/linux/userfaultfd.h"] = uapi_header("6.1.26")
    out = [
        b"commit refs/heads/master\n",
        b"committer Bench <bench@example.org> 1600000000 +0000\n",
        b"data 5\nbase\n",
    ]
    for path, data in sorted(tree.items()):
        out.append(f"M 100644 inline {path}\n".encode())
        out.append(b"data %d\n%s\n" % (len(data), data))
    git(repo, "fast-import", "--quiet", stdin=b"".join(out))
    git(repo, "checkout", "-q", "-f", "master")
    git(repo, "config", "gc.auto", "0")


def timed_commit(repo: Path, *extra: str) -> tuple[float, float, int]:
    """(wall ms, CPU ms of the process tree, exit code) of one ``git commit``."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = git(repo, "commit", "-q", "-m", "bench", *extra, check=False)
    wall = (time.perf_counter() - t) * 1000
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
    return wall, cpu, p.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--kernel-dir", type=Path, default=Path("/work/realkernel/linux-source-6.1"))
    ap.add_argument(
        "--clone",
        type=Path,
        help="clone this repository instead of building one (e.g. the kernel-size tree of "
        "bench/bigtree_bench.py: bench/work/bigtree/linux-source-6.1)",
    )
    args = ap.parse_args()
    kernel_dir = args.kernel_dir if (args.kernel_dir / "mm" / "khugepaged.c").is_file() else None

    tmp = Path(tempfile.mkdtemp(prefix="reviewbot-hook-bench-"))
    env_keep = dict(os.environ)
    try:
        os.environ.update(
            {
                "GIT_CONFIG_GLOBAL": str(tmp / "gitconfig"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_NAME": "Bench",
                "GIT_AUTHOR_EMAIL": "bench@example.org",
                "GIT_COMMITTER_NAME": "Bench",
                "GIT_COMMITTER_EMAIL": "bench@example.org",
            }
        )
        repo = tmp / "linux"
        if args.clone:
            git(tmp, "clone", "-q", "-b", "master", str(args.clone.resolve()), str(repo))
            git(repo, "config", "gc.auto", "0")
            kernel_dir = args.clone
        else:
            build(repo, args.files, kernel_dir)
        entries = len(git(repo, "ls-files", "-z").stdout.split(b"\0")) - 1
        compileall.compile_dir(str(ROOT / "reviewbot"), quiet=1)
        subprocess.run(
            [sys.executable, "-m", "reviewbot", "hook", "install", "--repo", str(repo)],
            check=True,
            capture_output=True,
        )
        hook = Path(
            git(repo, "rev-parse", "--git-path", "hooks/pre-commit").stdout.decode().strip()
        )
        hook = hook if hook.is_absolute() else repo / hook
        ours = hook.read_text()
        src = repo / "mm" / "khugepaged.c"
        other = repo / ("README" if args.clone else "drivers/fill/d000/f00000.c")
        huge = repo / "mm" / "huge_memory.c"
        series = [("other", other), ("guarded", src)] + ([("huge", huge)] if huge.exists() else [])
        modes = {"other": ("hook", "empty", "noverify")}
        keys = [f"{k}-{m}" for k, _ in series for m in modes.get(k, ("hook", "noverify"))]
        samples: dict[str, list[tuple[float, float]]] = {k: [] for k in keys}
        for n in range(args.runs + 1):  # round 0 warms the page cache and is dropped
            round_times = {}
            for key, path in series:
                for mode in modes.get(key, ("hook", "noverify")):
                    with open(path, "ab") as f:
                        f.write(f"/* edit {n} {mode} */\n".encode())
                    git(repo, "add", "-f", str(path.relative_to(repo)))  # a tarball may ignore all
                    if mode == "empty":
                        hook.write_text("#!/bin/sh\nexit 0\n")
                    try:
                        ms, cpu, rc = timed_commit(
                            repo, *(["--no-verify"] if mode == "noverify" else [])
                        )
                    finally:
                        hook.write_text(ours)
                    if rc != 0:
                        raise SystemExit(f"commit failed ({key}, {mode}): {rc}")
                    round_times[f"{key}-{mode}"] = (ms, cpu)
            if n:
                for k, v in round_times.items():
                    samples[k].append(v)
        data = src.read_bytes()
        blocked = []
        if GUARD in data:
            src.write_bytes(data.replace(GUARD, b"", 1))
            git(repo, "add", "-f", "mm/khugepaged.c")
            for _ in range(5):
                ms, cpu, rc = timed_commit(repo)
                assert rc == 1, "the commit losing the guard was not refused"
                blocked.append((ms, cpu))
    finally:
        os.environ.clear()
        os.environ.update(env_keep)
        shutil.rmtree(tmp, ignore_errors=True)

    wall = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in samples.items()}
    source = f"real mm/khugepaged.c from {kernel_dir}" if kernel_dir else "the v6.1.26 fixture"
    print(f"### pre-commit hook overhead — {time.strftime('%Y-%m-%d')}\n")
    how = f"--clone {args.clone}" if args.clone else f"--files {args.files}"
    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"git {git(Path('.'), '--version').stdout.decode().split()[-1]}, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end. "
        f"Command: `python bench/hook_bench.py --runs {args.runs} {how}`. "
        f"Repository: {entries} index entries, {source}. Medians of {args.runs} alternating rounds; "
        "peer: `git commit --no-verify` in the same rounds; CPU: user+system time of the whole "
        "process tree.\n"
    )
    print(
        "| commit | wall: hook | wall: --no-verify | wall: extra | CPU: hook | CPU: --no-verify | CPU: extra | target |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = [
        ("touches no guarded file", "other-hook", "other-noverify", "≤ +25 ms"),
        (
            "same, with an empty hook (`exit 0`): git's own cost",
            "other-empty",
            "other-noverify",
            "",
        ),
        ("harmless edit of mm/khugepaged.c", "guarded-hook", "guarded-noverify", "≤ +250 ms"),
        ("comment edit of mm/huge_memory.c", "huge-hook", "huge-noverify", ""),
    ]
    for label, k, peer, target in rows:
        if k not in wall:
            continue
        print(
            f"| {label} | {wall[k]:.1f} ms | {wall[peer]:.1f} ms | **{wall[k] - wall[peer]:+.1f} ms** "
            f"| {cpu[k]:.1f} ms | {cpu[peer]:.1f} ms | **{cpu[k] - cpu[peer]:+.1f} ms** | {target} |"
        )
    if blocked:
        print(
            f"| drops the isolate guard (refused) | {statistics.median(w for w, _ in blocked):.1f} ms "
            f"| | | {statistics.median(c for _, c in blocked):.1f} ms | | | |"
        )
    spread = {k: (min(w for w, _ in v), max(w for w, _ in v)) for k, v in samples.items()}
    print(
        "\nWall min–max per series: "
        + ", ".join(f"{k} {a:.0f}–{b:.0f} ms" for k, (a, b) in spread.items())
        + "."
    )


if __name__ == "__main__":
    main()
