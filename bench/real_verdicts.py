#!/usr/bin/env python3
"""Every built-in rule on the real release sources of bench/real_sources.json: verdict vs facts.

    python bench/real_verdicts.py [--root bench/work/real] [--facts bench/real_facts.toml]

Each version's file (mm/khugepaged.c, or mm/huge_memory.c before 4.8) is checked the way a
user checks a file in a kernel tree: reviewbot.checker.files.check_files, with the version from
the tree's Makefile and the uapi userfaultfd.h as backport evidence. The expected verdict of
each check comes from bench/real_facts.toml (when the check applies, which releases carry the
fix; vendor trees by their own source). Prints a Markdown table (version x check: verdict, and
the expected one where they differ) and the count of right verdicts; exit 1 if any is wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tomllib
from pathlib import Path

from reviewbot.checker.check import check_source
from reviewbot.checker.files import check_files, file_version
from reviewbot.model.results import Status
from reviewbot.model.versions import KernelVersion
from reviewbot.rules.spec import builtin_rules

HERE = Path(__file__).resolve().parent


def expected(facts: dict, version: str, check: str) -> str:
    """The verdict the facts give for ``check`` on release ``version``."""
    vendor = facts.get("vendor", {}).get(version)
    if vendor is not None and check in vendor:
        return str(vendor[check])
    fact = next(f[check] for f in facts["rules"].values() if check in f)
    v = KernelVersion.parse(version)
    if v < KernelVersion.parse(fact["applies"]):
        return str(Status.NOT_APPLICABLE)
    if not fact["fixed"]:
        return str(Status.PRESENT)
    for f in map(KernelVersion.parse, fact["fixed"]):
        upstream = f.patch == 0 and f.rc is None
        same_series = (f.major, f.minor) == (v.major, v.minor)
        if (upstream and v >= f) or (same_series and v >= f):
            return str(Status.PRESENT)
    return str(Status.MISSING)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=HERE / "work" / "real")
    ap.add_argument("--facts", type=Path, default=HERE / "real_facts.toml")
    ap.add_argument("--manifest", type=Path, default=HERE / "real_sources.json")
    args = ap.parse_args(argv)
    facts = tomllib.loads(args.facts.read_text())
    rules = builtin_rules()
    checks = [c.id for r in rules for c in r.checks]
    entries = sorted(
        json.loads(args.manifest.read_text()), key=lambda e: KernelVersion.parse(e["version"])
    )
    rows, right, total, wrong, absent = [], 0, 0, [], []
    mut_rows, mut_right, mut_total = [], 0, 0
    started = time.perf_counter()
    for e in entries:
        v = e["version"]
        src = next(p for p in e["files"] if p.startswith("mm/"))
        if not (args.root / v / src).is_file():
            absent.append(v)  # not fetched here: python3 bench/fetch_real_sources.py says which
            continue
        results = check_files([args.root / v / src], rules)
        got = {c: str(r.status_of(c)) for r in results for c in {x.id for x in r.checks}}
        origin = results[0].version
        cells = []
        for c in checks:
            want, have = expected(facts, v, c), got.get(c, "-")
            unc = any(x.uncertain for r in results for x in r.checks if x.id == c)
            total += 1
            if have == want:
                right += 1
                cells.append(have + ("?" if unc else ""))
            else:
                wrong.append(f"{v} {c}: got {have}, expected {want}")
                cells.append(f"**{have}** (expected {want})")
        tag = " (vendor)" if v in facts.get("vendor", {}) else ""
        rows.append(f"| {v}{tag} | {origin.version} | " + " | ".join(cells) + " |")
        # Broken copies: every test of a rule's predicate disabled (`0 && pred(`). Each check
        # that found its guard must now say missing; the others keep their verdict.
        data = (args.root / v / src).read_bytes()
        version = file_version(args.root / v / src, rules, None)
        mcells = []
        for rule in rules:
            for spec in rule.checks:
                if got.get(spec.id) != str(Status.PRESENT) or not spec.predicates:
                    continue
                names = "|".join(sorted(spec.predicates, key=len, reverse=True))
                broken = re.sub(rf"\b({names})\(".encode(), rb"0 && \1(", data)
                (res,) = check_source(broken, str(args.root / v / src), (rule,), version)
                now = str(res.status_of(spec.id))
                mut_total += 1
                ok = now == str(Status.MISSING)
                mut_right += ok
                mcells.append(f"{spec.id}: {now}" if ok else f"{spec.id}: **{now}**")
                if not ok:
                    wrong.append(
                        f"{v} {spec.id} with its guard disabled: got {now}, expected missing"
                    )
        mut_rows.append(f"| {v} | " + (", ".join(mcells) or "(no guard present)") + " |")
    elapsed = time.perf_counter() - started
    print("| version | checked as | " + " | ".join(checks) + " |")
    print("|---|---|" + "---|" * len(checks))
    print("\n".join(rows))
    print(
        f"\n{right}/{total} verdicts right over {len(entries) - len(absent)} versions x {len(checks)} checks"
        f" ({', '.join(r.id for r in rules)}); {elapsed:.1f} s"
    )
    print("\nBroken copies (every test of the check's predicate disabled with `0 && pred(`):\n")
    print("| version | verdict of each check that had found its guard |")
    print("|---|---|")
    print("\n".join(mut_rows))
    print(f"\n{mut_right}/{mut_total} broken copies reported missing")
    for w in wrong:
        print(f"- wrong: {w}")
    if absent:
        print(f"- not checked (source absent under {args.root}): {', '.join(absent)}")
    return 0 if not wrong and not absent else 1


if __name__ == "__main__":
    sys.exit(main())
