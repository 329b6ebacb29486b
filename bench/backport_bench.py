#!/usr/bin/env python3
"""Bench: `reviewbot backport` against git, patch and Coccinelle on the same targets, same run.

    python bench/backport_bench.py [--runs 3] [--work DIR]

Three fixes (fixtures/patches/0001-0003) onto 18 targets of the demo history. Each target has
an expected outcome written here from the era fixtures, independently of reviewbot: the file
stable would ship (the fixed era's file; the same insertion with the tree's names and lock
API), or "no change" (not affected, already fixed, a prerequisite missing, the code rewritten).

Peers, each in a clean checkout of the target:
- ``git cherry-pick -n <sha>`` (fix 0001 only: the other fixes are not commits in the history);
- ``git apply -3 <patch>`` (three-way with the pre-image blob when the repository has it);
- ``patch -p1 -N --fuzz=3`` (GNU patch, the classic fuzzy apply);
- ``spatch --in-place`` with a hand-written insertion semantic patch per fix (bench/cocci/).

A result is *applied* when the tool succeeds and changes the file, *identical* when the file is
byte-identical to the expected one, *same code* when it equals it ignoring whitespace and
comments, and *correct* when it is identical or the tool refuses where no change is expected.
Prints a Markdown block for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.demo import fixture_text, populate  # noqa: E402
from reviewbot.git.fastimport import HistoryBuilder  # noqa: E402

PATCHES = {
    k: next((ROOT / "fixtures" / "patches").glob(f"{k}-*.patch")) for k in ("0001", "0002", "0003")
}
COCCI = {k: next((ROOT / "bench" / "cocci").glob(f"{k}-*.cocci")) for k in PATCHES}
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}


# --- expected results, from the fixtures --------------------------------------------------------


def _range_check(era: str, scan: str, addr: str) -> bytes:
    """0002 inserted before vm_normal_page() in the isolate loop, in the tree's own names."""
    data = fixture_text(era)
    anchor = f"\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}}\n\t\tpage = vm_normal_page(vma, {addr}, pteval);\n"
    new = (
        f"\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}}\n"
        f"\t\t/*\n\t\t * The VMA may have been split since {scan}() looked\n\t\t * at this range with the mmap lock dropped.\n\t\t */\n"
        f"\t\tif (unlikely({addr} < vma->vm_start || {addr} >= vma->vm_end)) {{\n\t\t\tresult = SCAN_ADDRESS_RANGE;\n\t\t\tgoto out;\n\t\t}}\n"
        f"\t\tpage = vm_normal_page(vma, {addr}, pteval);\n"
    )
    assert data.decode().count(anchor) == 1, era
    return data.decode().replace(anchor, new).encode()


def _anon_vma_recheck(era: str, trylock: str, unlock: str) -> bytes:
    """0003 inserted first in the trylock branch of retract_page_tables(), in the tree's lock API."""
    data = fixture_text(era).decode()
    head = f"\t\tif ({trylock}) {{\n"
    assert data.count(head) == 1, era
    body = (
        "\t\t\t/*\n\t\t\t * ->anon_vma may have appeared since the racy check\n"
        "\t\t\t * above: the page table may then map anonymous pages.\n\t\t\t */\n"
        f"\t\t\tif (vma->anon_vma) {{\n\t\t\t\t{unlock};\n\t\t\t\tcontinue;\n\t\t\t}}\n"
    )
    return data.replace(head, head + body).encode()


@dataclass(frozen=True)
class Case:
    fix: str
    ref: str
    expected: bytes | None  # None: no change is the right outcome
    why: str


def cases() -> list[Case]:
    sem = ("mmap_write_trylock(mm)", "mmap_write_unlock(mm)")
    old = ("down_write_trylock(&mm->mmap_sem)", "up_write(&mm->mmap_sem)")
    return [
        Case("0001", "v5.10.178", fixture_text("v5.10.179.c"), "trailing context differs"),
        Case("0001", "v5.15.108", fixture_text("v5.15.109.c"), "trailing context differs"),
        Case("0001", "v6.1.25", fixture_text("v6.1.26.c"), "applies as is"),
        Case("0001", "v6.2.12", fixture_text("v6.2.13.c"), "applies as is"),
        Case("0001", "v5.4.200", None, "not affected (no uffd-wp before 5.7)"),
        Case("0001", "v6.6.30", None, "already fixed"),
        Case("0002", "v7.1", _range_check("v7.1.c", "collapse_scan_pmd", "addr"), "applies as is"),
        Case(
            "0002",
            "v6.6.30",
            _range_check("v6.6.c", "hpage_collapse_scan_pmd", "address"),
            "addr/address, scan renamed",
        ),
        Case(
            "0002",
            "v6.1.26",
            _range_check("v6.1.26.c", "hpage_collapse_scan_pmd", "address"),
            "addr/address, scan renamed",
        ),
        Case(
            "0002",
            "v5.10.179",
            _range_check("v5.10.179.c", "khugepaged_scan_pmd", "address"),
            "addr/address, scan renamed",
        ),
        Case("0002", "v5.10.178", None, "prerequisite (the isolate guard) missing"),
        Case("0002", "v5.4.200", None, "not affected (its Fixes: commit is 5.7)"),
        Case("0003", "v5.10.178", _anon_vma_recheck("v5.10.178.c", *sem), "applies as is"),
        Case("0003", "v5.15.108", _anon_vma_recheck("v5.15.108.c", *sem), "applies as is"),
        Case("0003", "v5.4.200", _anon_vma_recheck("v5.4.c", *old), "mmap_sem API"),
        Case("0003", "v5.7", _anon_vma_recheck("v5.7.c", *old), "mmap_sem API"),
        Case("0003", "v6.1.25", None, "retract_page_tables() rewritten"),
        Case("0003", "v4.4", None, "no retract_page_tables() at all"),
    ]


# --- running a tool in a checkout ---------------------------------------------------------------


def sh(args: list[str], cwd: Path, stdin: bytes | None = None) -> int:
    return subprocess.run(
        args, cwd=cwd, env=ENV, input=stdin, capture_output=True, check=False
    ).returncode


def reset(work: Path, ref: str) -> None:
    for args in (["git", "cherry-pick", "--abort"], ["git", "am", "--abort"]):
        sh(args, work)
    subprocess.run(
        ["git", "checkout", "-q", "-f", "--detach", ref],
        cwd=work,
        env=ENV,
        check=True,
        capture_output=True,
    )
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=work, env=ENV, check=True)
    subprocess.run(["git", "clean", "-qfdx"], cwd=work, env=ENV, check=True)


def khugepaged(work: Path) -> Path:
    p = work / "mm" / "khugepaged.c"
    return p if p.exists() else work / "mm" / "huge_memory.c"


def run_tool(
    tool: str, case: Case, work: Path, repo: Path, fix_sha: str, out: Path
) -> tuple[bool, bytes]:
    """(tool reported success, the khugepaged file afterwards)."""
    reset(work, case.ref)
    patch = PATCHES[case.fix]
    if tool == "git cherry-pick":
        ok = sh(["git", "cherry-pick", "-n", fix_sha], work) == 0
    elif tool == "git apply -3":
        ok = sh(["git", "apply", "-3", str(patch)], work) == 0
    elif tool == "patch --fuzz=3":
        ok = (
            sh(
                [
                    "patch",
                    "-p1",
                    "-N",
                    "--fuzz=3",
                    "--no-backup-if-mismatch",
                    "-r",
                    "-",
                    "-s",
                    "-i",
                    str(patch),
                ],
                work,
            )
            == 0
        )
    elif tool == "spatch":
        ok = (
            sh(
                [
                    "spatch",
                    "--very-quiet",
                    "--in-place",
                    "--sp-file",
                    str(COCCI[case.fix]),
                    str(khugepaged(work)),
                ],
                work,
            )
            == 0
        )
    else:
        cmd = [
            sys.executable,
            "-c",
            "from reviewbot.cli import main; main()",
            "backport",
            "--repo",
            str(repo),
            "--onto",
            case.ref,
            "--output-dir",
            str(out),
            "--format",
            "json",
        ]
        cmd += ["--commit", fix_sha] if case.fix == "0001" else ["--patch", str(patch)]
        proc = subprocess.run(
            cmd, env={**ENV, "PYTHONPATH": str(ROOT)}, capture_output=True, check=False, text=True
        )
        import json

        doc = json.loads(proc.stdout)
        (t,) = doc["targets"]
        ok = t["status"] == "generated"
        if ok:
            ok = sh(["git", "apply", t["patch"]], work) == 0
    data = khugepaged(work).read_bytes()
    return ok, data


def _code(data: bytes) -> str:
    text = re.sub(rb"/\*.*?\*/", b" ", data, flags=re.S).decode()
    return " ".join(text.split())


TOOLS = ["reviewbot", "git cherry-pick", "git apply -3", "patch --fuzz=3", "spatch"]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--runs", type=int, default=3, help="timing runs per tool (outcomes come from the first)"
    )
    ap.add_argument(
        "--work",
        type=Path,
        default=None,
        help="where to build the demo history (default: a temp dir)",
    )
    args = ap.parse_args()
    tmp = Path(args.work or tempfile.mkdtemp(prefix="backport-bench-"))
    repo = tmp / "linux.git"
    if not repo.exists():
        named = populate(HistoryBuilder(repo, bare=True))
        (tmp / "named").write_text(named["fix"])
    fix_sha = (tmp / "named").read_text().strip()
    work = tmp / "work"
    if not work.exists():
        subprocess.run(["git", "clone", "-q", str(repo), str(work)], check=True, env=ENV)
    all_cases = cases()
    rows: dict[str, list[tuple[Case, bool, bytes]]] = {t: [] for t in TOOLS}
    times: dict[str, list[float]] = {t: [] for t in TOOLS}
    for r in range(args.runs):
        for tool in TOOLS:  # alternate tools inside each run so machine noise hits all alike
            mine = [c for c in all_cases if tool != "git cherry-pick" or c.fix == "0001"]
            out = tmp / f"out-{r}"
            t0 = time.perf_counter()
            for c in mine:
                ok, data = run_tool(tool, c, work, repo, fix_sha, out)
                if r == 0:
                    rows[tool].append((c, ok, data))
            times[tool].append((time.perf_counter() - t0) / len(mine))
    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"{subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.strip()}, "
        f"{subprocess.run(['spatch', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}, "
        f"{subprocess.run(['patch', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}."
    )
    print(
        f"Command: `python bench/backport_bench.py --runs {args.runs}`. Outcomes from the first run; "
        f"times are medians of {args.runs} runs, per target, whole process, including the checkout reset.\n"
    )
    print(
        "| tool | targets | applied | identical to stable | same code | correct | wrong | missed | median s/target |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for tool in TOOLS:
        res = rows[tool]
        applied = [(c, d) for c, ok, d in res if ok and d != fixture_text_for(c, work)]
        identical = sum(1 for c, d in applied if c.expected is not None and d == c.expected)
        same = sum(
            1 for c, d in applied if c.expected is not None and _code(d) == _code(c.expected)
        )
        refused_ok = sum(
            1
            for c, ok, d in res
            if c.expected is None and (not ok or d == fixture_text_for(c, work))
        )
        wrong = sum(1 for c, d in applied if c.expected is None or _code(d) != _code(c.expected))
        missed = sum(
            1
            for c, ok, d in res
            if c.expected is not None and (not ok or d == fixture_text_for(c, work))
        )
        print(
            f"| {tool} | {len(res)} | {len(applied)} | {identical} | {same} | {identical + refused_ok} | {wrong} | {missed} | "
            f"{statistics.median(times[tool]):.2f} |"
        )
    inproc = in_process(repo, fix_sha, all_cases, args.runs)
    print(
        f"\nreviewbot in-process, after start-up (decide, place, write the mail, validate it): "
        f"median {inproc * 1000:.0f} ms per target."
    )
    print(
        "\nPer target (I identical, C same code but not identical, W wrong, - refused/no change, · refused where a change was expected):\n"
    )
    print("| fix | target | expected | " + " | ".join(TOOLS) + " |")
    print("|---|---|---|" + "---|" * len(TOOLS))
    for k, c in enumerate(all_cases):
        cells = []
        for tool in TOOLS:
            hit = next((x for x in rows[tool] if x[0] == c), None)
            if hit is None:
                cells.append("n/a")
                continue
            _, ok, d = hit
            changed = ok and d != fixture_text_for(c, work)
            if not changed:
                cells.append("-" if c.expected is None else "·")
            elif c.expected is not None and d == c.expected:
                cells.append("I")
            elif c.expected is not None and _code(d) == _code(c.expected):
                cells.append("C")
            else:
                cells.append("W")
        print(f"| {c.fix} | {c.ref} | {c.why} | " + " | ".join(cells) + " |")
        del k
    if args.work is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def in_process(repo_path: Path, fix_sha: str, all_cases: list[Case], runs: int) -> float:
    """Median seconds per target for backport_one() in-process (no output written)."""
    from reviewbot.backport.generate import backport_one
    from reviewbot.backport.validate import upstream_from_commit, upstream_from_mail
    from reviewbot.diffs.patches import read_mail
    from reviewbot.git.repository import Repository
    from reviewbot.rules.spec import builtin_rules

    repo = Repository(repo_path)
    rules = builtin_rules()
    ups = {"0001": upstream_from_commit(repo, repo.resolve(fix_sha))}
    for k in ("0002", "0003"):
        ups[k] = upstream_from_mail(repo, read_mail(PATCHES[k].read_bytes()))
    revs = {c.ref: repo.resolve(c.ref) for c in all_cases}
    backport_one(repo, ups["0001"], revs["v5.10.178"], rules)  # warm-up: imports, queries
    samples = []
    for _ in range(runs):
        for c in all_cases:
            t0 = time.perf_counter()
            backport_one(repo, ups[c.fix], revs[c.ref], rules)
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


_ORIG: dict[str, bytes] = {}


def fixture_text_for(c: Case, work: Path) -> bytes:
    """The target's khugepaged file before any tool ran (read once per ref)."""
    if c.ref not in _ORIG:
        for path in ("mm/khugepaged.c", "mm/huge_memory.c"):
            proc = subprocess.run(
                ["git", "show", f"{c.ref}:{path}"], cwd=work, capture_output=True, check=False
            )
            if proc.returncode == 0:
                _ORIG[c.ref] = proc.stdout
                break
    return _ORIG[c.ref]


if __name__ == "__main__":
    raise SystemExit(main())
