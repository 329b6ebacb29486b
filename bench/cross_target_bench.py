#!/usr/bin/env python3
"""Bench: every corpus fix ported onto the other corpus pre-images of its files.

    python bench/cross_target_bench.py [--per-fix 6] [--json FILE]

The corpus (bench/backport_corpus.json, data in bench/work/backports/, never committed) holds,
per entry, an upstream patch and the exact stable pre-image it was ported onto. Each pre-image is
also a stable file at some other point of its series: this bench ports every entry's upstream
patch onto the pre-images of *other* entries that hold the same file (at most ``--per-fix`` of
them), in a repository holding only those files (like ``backport_corpus_bench.py
--bare-trees``), with ``backport.generate.backport_one``.

What it measures:

- crashes: any exception that is not a ``ReviewbotError`` (must be 0);
- outcomes: generated / failed / already-fixed / not-affected;
- agreement with stable, where it can be judged: when the corpus also holds a backport of the
  same upstream commit to the same series (``6.1.y``), the lines reviewbot's mail adds and
  removes are compared with the lines that shipped backport adds and removes (per file, in
  order, whitespace-trimmed). ``same``: identical; ``differs``: printed for a reader to judge —
  the two pre-images are different points of the series, so a difference may be right (the
  other pre-image still spells a line the older way) or wrong.

Stdlib, git, and reviewbot's library only.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.backport.generate import backport_one  # noqa: E402
from reviewbot.diffs.patches import read_mail  # noqa: E402
from reviewbot.git.repository import Repository  # noqa: E402
from reviewbot.history.upstream import upstream_from_mail  # noqa: E402
from reviewbot.model.errors import ReviewbotError  # noqa: E402
from reviewbot.rules.spec import builtin_rules  # noqa: E402

DATA = ROOT / "bench" / "work" / "backports"
CORPUS = ROOT / "bench" / "backport_corpus.json"


def series(eid: str) -> str:
    return eid.split("-")[0].rsplit(".", 1)[0]


def commit(eid: str) -> str:
    return eid.split("-", 1)[1]


def changed_lines(mail: bytes) -> dict[str, list[str]]:
    """Path -> the +/- lines of the mail's diff, whitespace-trimmed, blank ones left out."""
    out = {}
    for fp in read_mail(mail).files:
        out[fp.path] = [f"{k}{x.strip()}" for h in fp.hunks for k, x in h.lines if k in "+-"]
        out[fp.path] = [x for x in out[fp.path] if len(x) > 1]
    return out


def pre_repo(where: Path, eid: str) -> Repository:
    """A repository whose one commit holds the entry's pre-image files."""
    pre = DATA / eid / "pre"
    for p in pre.rglob("*"):
        if p.is_file():
            dest = where / p.relative_to(pre)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(p.read_bytes())
    for cmd in (["init", "-q", "-b", "master"], ["add", "-A"], ["commit", "-qm", "pre-image"]):
        subprocess.run(
            ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", *cmd],
            cwd=where,
            check=True,
            capture_output=True,
        )
    return Repository(where)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-fix", type=int, default=6, help="other pre-images per fix (default 6)")
    ap.add_argument("--json", type=Path, help="write the per-pair results here")
    args = ap.parse_args()

    corpus = [e for e in json.loads(CORPUS.read_text()) if (DATA / e["id"] / "pre").is_dir()]
    holders: dict[str, list[str]] = collections.defaultdict(list)
    for e in corpus:
        for f in e["files"]:
            holders[f["path"]].append(e["id"])
    rules = builtin_rules()
    outcomes: collections.Counter[str] = collections.Counter()
    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cross-target-") as tmp:
        repos: dict[str, Repository] = {}
        for e in corpus:
            mail = (DATA / e["id"] / "upstream.patch").read_bytes()
            paths = {fp.path for fp in read_mail(mail).files}
            others = sorted({t for p in paths for t in holders.get(p, []) if t != e["id"]})
            for t in others[: args.per_fix]:
                if t not in repos:
                    repos[t] = pre_repo(Path(tmp) / t, t)
                repo = repos[t]
                row = {"fix": e["id"], "target": t, "outcome": None, "agreement": None}
                out_dir = Path(tmp) / "out" / t / e["id"]
                try:
                    res = backport_one(
                        repo,
                        upstream_from_mail(repo, read_mail(mail)),
                        repo.resolve("master"),
                        rules,
                        output_dir=out_dir,
                    )
                    row["outcome"] = res.status.value
                except ReviewbotError as err:
                    row["outcome"] = f"error: {type(err).__name__}"
                except Exception:  # noqa: BLE001 - a crash is what this bench counts
                    row["outcome"] = "crash"
                    row["trace"] = traceback.format_exc()[-800:]
                outcomes[row["outcome"]] += 1
                shipped = [
                    s["id"]
                    for s in corpus
                    if commit(s["id"]) == commit(e["id"]) and series(s["id"]) == series(t)
                ]
                if row["outcome"] == "generated" and shipped and res.patch:
                    got = changed_lines(Path(res.patch).read_bytes())
                    want = changed_lines((DATA / shipped[0] / "stable.patch").read_bytes())
                    row["shipped"] = shipped[0]
                    row["agreement"] = "same" if got == want else "differs"
                    if got != want:
                        row["diff"] = [
                            line
                            for p in sorted(set(got) | set(want))
                            for line in difflib.unified_diff(
                                want.get(p, []), got.get(p, []), "shipped", "reviewbot", n=0
                            )
                        ][:20]
                rows.append(row)
                shutil.rmtree(out_dir, ignore_errors=True)
    wall = time.monotonic() - started
    judged = [r for r in rows if r["agreement"]]
    print(f"pairs: {len(rows)} ({len(corpus)} fixes, at most {args.per_fix} targets each)")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print(
        f"generated and judgeable against a shipped backport of the same fix to that series: "
        f"{len(judged)}; same lines as stable: {sum(r['agreement'] == 'same' for r in judged)}"
    )
    for r in judged:
        if r["agreement"] == "differs":
            print(f"\ndiffers: {r['fix']} onto {r['target']} (shipped: {r['shipped']})")
            print("\n".join("    " + x.rstrip() for x in r["diff"]))
    for r in rows:
        if r["outcome"] == "crash":
            print(f"\ncrash: {r['fix']} onto {r['target']}\n{r['trace']}")
    print(f"\nwall: {wall:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 1 if outcomes["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
