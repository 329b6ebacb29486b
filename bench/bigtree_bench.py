#!/usr/bin/env python3
"""Bench: ``report --fix FILE`` and ``backport --patch FILE`` on a kernel-size tree imported as ONE commit.

    python bench/bigtree_bench.py [--deb /work/deb/pool/linux-source-6.1_6.1.176-1_all.deb]
                                  [--before REV] [--runs 3] [--skip-before]

What a maintainer meets who imports a release tarball: a root commit of ~78,000 files (its
``git log -p`` is over a gigabyte). The tree is extracted from the Debian linux-source
package (never committed anywhere) into ``bench/work/bigtree/linux-source-6.1`` and made a git
repository once (kept for the next run and for ``hook_bench.py --big``):

* the root commit, tagged ``v6.1.176`` (the isolate guard is present);
* branch ``linux-6.1.y``: a commit removing the isolate guard, tagged ``v6.1.177``, then
  21 commits touching other files (a branch past its last tag).

Then it times ``reviewbot report --fix <the fixture mail>`` and ``reviewbot backport --patch
<mail> --onto v6.1.176 --onto linux-6.1.y``, each in its own process under ``/usr/bin/time``
(wall seconds and peak RSS of the process tree), for ``--after`` (default HEAD) and ``--before``
(default the commit before the streamed patch-ids), each exported from this repository into a
temporary directory. Empty verdict cache each run. Prints a Markdown block.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = (
    ROOT / "bench" / "work" / "bigtree"
)  # --work moves it (bench/sweep_bench.py wipes bench/work/)
TREE = WORK / "linux-source-6.1"
MAIL = next((ROOT / "fixtures" / "patches").glob("0001-*.patch"))
GUARD = (
    b"\t\tif (pte_uffd_wp(pteval)) {\n\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}\n"
)
DEFAULT_DEB = next(
    (
        p
        for p in (
            Path("/work/deb/pool/linux-source-6.1_6.1.176-1_all.deb"),
            Path("/work/deb/linux-source-6.1_6.1.176-1_all.deb"),
        )
        if p.exists()
    ),
    Path("/work/deb/pool/linux-source-6.1_6.1.176-1_all.deb"),
)


def git(*args: str, stdin: bytes | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
    }
    return subprocess.run(
        ["git", "-C", str(TREE), *args], capture_output=True, check=True, input=stdin, env=env
    ).stdout.decode()


def extract(deb: Path) -> None:
    """The release tarball out of the .deb, into bench/work/bigtree (once)."""
    WORK.mkdir(parents=True, exist_ok=True)
    cmd = (
        f"dpkg-deb --fsys-tarfile {deb} | tar -xO ./usr/src/linux-source-6.1.tar.xz"
        f" | tar -xJ -C {WORK} -f -"
    )
    subprocess.run(cmd, shell=True, check=True)


def build(deb: Path) -> None:
    """The repository: the tarball as one root commit, then a branch past its last tag."""
    if (TREE / ".git").exists() and "v6.1.177" in git("tag"):
        return
    if not (TREE / "Makefile").exists():
        extract(deb)
    TREE.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "master")
    git("config", "gc.auto", "0")
    git("add", "-f", "-A")  # Debian's tarball ignores everything (.gitignore: /*)
    git("commit", "-q", "-m", "Linux 6.1.176")
    git("tag", "v6.1.176")
    git("checkout", "-q", "-b", "linux-6.1.y")
    src = TREE / "mm" / "khugepaged.c"
    data = src.read_bytes()
    assert GUARD in data, "the isolate guard is not where the bench expects it"
    src.write_bytes(data.replace(GUARD, b"", 1))
    git("commit", "-q", "-am", "mm: khugepaged: rework the isolate loop")
    makefile = TREE / "Makefile"
    makefile.write_bytes(makefile.read_bytes().replace(b"SUBLEVEL = 176", b"SUBLEVEL = 177", 1))
    git("commit", "-q", "-am", "Linux 6.1.177")
    git("tag", "v6.1.177")
    for i in range(21):
        p = TREE / "Documentation" / f"bench-note-{i}.txt"
        p.write_text(f"note {i}\n")
        git("add", "-f", str(p.relative_to(TREE)))
        git("commit", "-q", "-m", f"docs: bench note {i}")
    git("checkout", "-q", "master")


def export(rev: str, dest: Path) -> Path:
    """The reviewbot package at ``rev`` (git archive), importable from ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "reviewbot", "queries", "fixtures"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    # byte-compiled, as pip leaves an install (with PYTHONDONTWRITEBYTECODE set, every run
    # would otherwise compile the package from source)
    compileall.compile_dir(str(dest / "reviewbot"), quiet=1)
    return dest


def timed(code: Path, args: list[str], cache: Path) -> tuple[float, int, int, float]:
    """(wall s, peak RSS MB, exit code, CPU s) of ``python -m reviewbot *args`` run from ``code``.

    CPU is user + system time of the process and the git processes it waited for: a loaded
    machine stretches the wall time far more than it.
    """
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M %U %S", sys.executable, "-m", "reviewbot", *args],
        capture_output=True,
        cwd=str(code),
        env={**os.environ, "PYTHONPATH": str(code), "XDG_CACHE_HOME": str(cache)},
    )
    wall, rss, user, system = out.stderr.decode().strip().splitlines()[-1].split()
    return float(wall), int(rss) // 1024, out.returncode, float(user) + float(system)


def main() -> None:
    global WORK, TREE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deb", type=Path, default=DEFAULT_DEB)
    ap.add_argument("--work", type=Path, default=WORK, help="where the tree is built (kept)")
    ap.add_argument("--before", default="010702d~1", help="git revision measured as 'before'")
    ap.add_argument("--after", default="HEAD", help="git revision measured as 'after'")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before-runs", type=int, default=1)
    ap.add_argument("--skip-before", action="store_true")
    a = ap.parse_args()
    WORK, TREE = a.work.resolve(), a.work.resolve() / "linux-source-6.1"
    build(a.deb)
    files = len(git("ls-files").splitlines())
    cases = {
        "--version (interpreter start-up only)": ["--version"],
        "report --fix FILE": ["report", "--repo", str(TREE), "--fix", str(MAIL), "--branches", "linux-6.1.y"],
        "report --fix FILE (2 branches)": [
            "report", "--repo", str(TREE), "--fix", str(MAIL),
            "--branches", "linux-6.1.y", "--branches", "master",
        ],
        "backport --patch FILE (2 targets)": [
            "backport", "--repo", str(TREE), "--patch", str(MAIL),
            "--onto", "v6.1.176", "--onto", "linux-6.1.y",
        ],
        "backport --patch FILE (4 targets)": [
            "backport", "--repo", str(TREE), "--patch", str(MAIL),
            "--onto", "v6.1.176", "--onto", "v6.1.177", "--onto", "linux-6.1.y", "--onto", "master",
        ],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        codes = {"after": export(a.after, Path(tmp) / "after")}
        if not a.skip_before:
            codes["before"] = export(a.before, Path(tmp) / "before")
        rows = []
        for label, args in cases.items():
            for who, code in codes.items():
                runs = a.before_runs if who == "before" else a.runs
                got = []
                for i in range(runs):
                    cache = Path(tmp) / f"cache-{who}-{i}"
                    shutil.rmtree(cache, ignore_errors=True)
                    got.append(timed(code, args, cache))
                wall = statistics.median(g[0] for g in got)
                rss = max(g[1] for g in got)
                cpu = statistics.median(g[3] for g in got)
                rows.append((label, who, wall, cpu, rss, sorted({g[2] for g in got}), runs))
                print(
                    f"{label:36} {who:6} {wall:7.2f} s {cpu:7.2f} s CPU {rss:6d} MB exit {rows[-1][5]}",
                    flush=True,
                )
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end"
    )
    print(f"Tree: {files} files in one root commit + 23 commits on linux-6.1.y")
    print()
    print(
        "| command | code | median wall | median CPU | peak RSS (largest process) | exit | runs |"
    )
    print("|---|---|---:|---:|---:|---|---:|")
    for label, who, wall, cpu, rss, codes_, runs in rows:
        print(f"| `{label}` | {who} | {wall:.2f} s | {cpu:.2f} s | {rss} MB | {codes_} | {runs} |")


if __name__ == "__main__":
    main()
