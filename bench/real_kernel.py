#!/usr/bin/env python3
"""Bench on real kernel sources (never committed): verdicts, mutations, and a real backport.

    python bench/real_kernel.py KERNEL_TREE...   # e.g. Debian's linux-source-5.10/6.1/6.12 extracts

For each tree (its top-level Makefile gives the version):
1. `check` its mm/khugepaged.c (expected: every applicable guard present — these releases have
   both fixes);
2. remove or break each guard (drop the isolate guard, make it `continue`, make it only set
   `result`, drop the scan guard, negate the collapse-site VMA check) and check again: each
   mutation must turn exactly that check to missing, with the reason;
3. rebuild the upstream dd47ac428c3f diff from the first tree given (guard removed = pre-image)
   and run `reviewbot backport` onto every tree with its isolate guard removed; the generated
   patch, applied with `git am`, must give back the tree's real file byte for byte (that file
   carries what stable shipped).
Prints a Markdown block for bench/RESULTS.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GUARD = "\t\tif (pte_uffd_wp(pteval)) {\n\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}\n"
MESSAGE = """From dd47ac428c3f5f3bcabe845f36be870fe6c20784 Mon Sep 17 00:00:00 2001
From: Peter Xu <peterx@redhat.com>
Date: Wed, 5 Apr 2023 11:51:20 -0400
Subject: [PATCH] mm/khugepaged: check again on anon uffd-wp during isolation

Check the uffd-wp bit of present PTEs again in __collapse_huge_page_isolate(): the
locks were dropped after the scan (message abridged for the bench).

Fixes: e1e267c7928f ("khugepaged: skip collapse if uffd-wp detected")
Signed-off-by: Peter Xu <peterx@redhat.com>
Cc: <stable@vger.kernel.org>
---
"""


def isolate_pre(src: str) -> str:
    i = src.index("__collapse_huge_page_isolate(struct vm_area_struct")
    j = src.index(GUARD, i)
    return src[:j] + src[j + len(GUARD) :]


def mutations(src: str) -> dict[str, tuple[str, str]]:
    """name -> (mutated source, the check that must turn missing)."""
    out = {"isolate guard removed": (isolate_pre(src), "isolate")}
    i = src.index("__collapse_huge_page_isolate(struct vm_area_struct")
    j = src.index(GUARD, i)
    out["isolate guard continues"] = (
        src[:j] + "\t\tif (pte_uffd_wp(pteval))\n\t\t\tcontinue;\n" + src[j + len(GUARD) :],
        "isolate",
    )
    out["isolate guard only sets result"] = (
        src[:j]
        + "\t\tif (pte_uffd_wp(pteval))\n\t\t\tresult = SCAN_PTE_UFFD_WP;\n"
        + src[j + len(GUARD) :],
        "isolate",
    )
    for name in ("hpage_collapse_scan_pmd(struct", "khugepaged_scan_pmd(struct"):
        if name in src:
            k = src.index("\t\tif (pte_uffd_wp(pteval)) {", src.index(name))
            end = src.index("\t\t}\n", src.index("goto out_unmap;", k)) + 4
            out["scan guard removed"] = (src[:k] + src[end:], "scan")
            break
    for old in (
        "\tif (userfaultfd_wp(vma))\n\t\treturn SCAN_PTE_UFFD_WP;\n",
        "\tif (userfaultfd_wp(vma))\n\t\treturn;\n",
    ):
        if old in src:
            out["collapse-site check negated"] = (
                src.replace(old, old.replace("(userfaultfd_wp", "(!userfaultfd_wp"), 1),
                "file",
            )
    return out


def main() -> int:
    from reviewbot.checker.check import check_source
    from reviewbot.model.results import VersionInfo
    from reviewbot.model.versions import version_from_makefile
    from reviewbot.rules.spec import builtin_rules

    trees = [Path(a) for a in sys.argv[1:]]
    if not trees:
        print(__doc__)
        return 2
    rules = builtin_rules()
    rows, bp_rows = [], []
    for t in trees:
        v = str(version_from_makefile((t / "Makefile").read_bytes()))
        src = (t / "mm/khugepaged.c").read_text()
        times = []
        for _ in range(8):  # the first run compiles the queries: keep the median of the rest
            t0 = time.perf_counter()
            results = check_source(
                src.encode(), "mm/khugepaged.c", rules, VersionInfo(v, "makefile")
            )
            times.append(time.perf_counter() - t0)
        checks = [c for r in results for c in r.checks]  # one result per rule that applies
        ms = sorted(times[1:])[3] * 1000
        base = ", ".join(f"{c.key} {c.status}" for c in checks)
        rows.append(f"| {v} | {src.count(chr(10))} | {base} | {ms:.1f} ms |")
        for name, (mutated, check_id) in mutations(src).items():
            mchecks = [
                c
                for m in check_source(
                    mutated.encode(), "mm/khugepaged.c", rules, VersionInfo(v, "makefile")
                )
                for c in m.checks
            ]
            turned = sorted({c.key for c in mchecks if str(c.status) == "missing"})
            ok = turned and all(k.split("/")[0] == check_id for k in turned)
            why = next(c.message for c in mchecks if str(c.status) == "missing") if turned else "-"
            rows.append(
                f"| {v} | | {name}: {'ok' if ok else 'WRONG'} ({', '.join(turned) or 'nothing missing'}): {why.split(' (upstream')[0]} | |"
            )

    # The real backport: upstream diff rebuilt from the first tree, applied to every tree.
    work = Path(tempfile.mkdtemp(prefix="reviewbot-real-"))
    try:
        first = (trees[0] / "mm/khugepaged.c").read_text()
        (work / "a/mm").mkdir(parents=True)
        (work / "b/mm").mkdir(parents=True)
        (work / "a/mm/khugepaged.c").write_text(isolate_pre(first))
        (work / "b/mm/khugepaged.c").write_text(first)
        diff = (
            subprocess.run(
                ["git", "diff", "--no-index", "a/mm/khugepaged.c", "b/mm/khugepaged.c"],
                cwd=work,
                capture_output=True,
                text=True,
            )
            .stdout.replace("a/a/mm", "a/mm")
            .replace("b/b/mm", "b/mm")
        )
        (work / "fix.patch").write_text(MESSAGE + diff + "-- \n2.39.1\n")
        repo = work / "repo"
        git = [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.org",
        ]
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        tags = []
        for t in trees:
            v = str(version_from_makefile((t / "Makefile").read_bytes()))
            (repo / "mm").mkdir(exist_ok=True)
            (repo / "include/uapi/linux").mkdir(parents=True, exist_ok=True)
            shutil.copy(t / "Makefile", repo / "Makefile")
            shutil.copy(
                t / "include/uapi/linux/userfaultfd.h", repo / "include/uapi/linux/userfaultfd.h"
            )
            (repo / "mm/khugepaged.c").write_text(isolate_pre((t / "mm/khugepaged.c").read_text()))
            subprocess.run(git + ["add", "-A"], check=True)
            subprocess.run(git + ["commit", "-qm", f"{v} without the isolate guard"], check=True)
            subprocess.run(git + ["tag", f"pre-{v}"], check=True)
            tags.append((f"pre-{v}", t))
        exe = shutil.which("reviewbot") or str(Path(sys.executable).parent / "reviewbot")
        args = [
            exe,
            "backport",
            "--repo",
            str(repo),
            "--patch",
            str(work / "fix.patch"),
            "--output-dir",
            str(work / "out"),
            "--format",
            "json",
        ]
        for tag, _ in tags:
            args += ["--onto", tag]
        import json

        doc = json.loads(subprocess.run(args, capture_output=True, text=True).stdout)
        for target, (tag, t) in zip(doc["targets"], tags, strict=True):
            same = "-"
            if target["status"] == "generated":
                subprocess.run(git + ["checkout", "-q", tag], check=True)
                am = subprocess.run(git + ["am", "-q", target["patch"]], capture_output=True)
                same = (
                    "identical"
                    if am.returncode == 0
                    and (repo / "mm/khugepaged.c").read_bytes()
                    == (t / "mm/khugepaged.c").read_bytes()
                    else "DIFFERENT"
                )
            bp_rows.append(
                f"| {tag} | {target['status']} | {target.get('method') or '-'} | {same} |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"### Real kernel sources — {time.strftime('%Y-%m-%d')}\n")
    print(
        f"Command: `python bench/real_kernel.py {' '.join(str(t) for t in trees)}` (Debian linux-source packages).\n"
    )
    print(
        "| kernel | lines | verdicts (then each mutation) | check time (median of 7, in-process) |\n|---|---|---|---|"
    )
    print("\n".join(rows))
    print(
        "\nBackport of dd47ac428c3f (rebuilt from the first tree) onto each tree with its isolate guard removed;"
        " `identical` = after `git am`, the file equals the real release's, which carries the fix stable shipped.\n"
    )
    print("| target | status | method | after git am |\n|---|---|---|---|")
    print("\n".join(bp_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
