#!/usr/bin/env python3
"""Bench: backports stable really shipped (bench/backport_corpus.json), reviewbot against its peers.

    python bench/backport_corpus_bench.py [--only ID] [--verbose]

For every corpus entry the exact stable pre-image (bench/work/backports/<id>/pre/) becomes one
commit of a temporary git repository under bench/work/corpus-bench/, and each tool ports the
upstream patch onto it:

- ``reviewbot``: ``backport.generate.backport_one`` (library call, the same ladder as
  ``reviewbot backport``) with the upstream patch read as a mail (quilt-style sections accepted);
- ``git apply -3``: the cherry-pick equivalent for a patch that is not a commit of the repository
  (the corpus upstream patches carry no ``index`` lines, so -3 falls back to a plain apply);
- ``patch -p1 -N --fuzz=3``: GNU patch, the classic fuzzy apply;
- Coccinelle: not run. A semantic patch is only feasible when written by hand for one change
  (bench/cocci/ does so for the three demo fixes); the 29 corpus fixes are heterogeneous
  (comment rewording, lock reordering, new helpers, API conversions), so no general semantic
  patch exists to compare with.

A result is *reproduced* when every file equals stable's post-image byte for byte, *different*
when the tool produced a change that differs, *refused* when it produced nothing.

``validate`` is scored on the patch stable shipped (should be accepted with ``--upstream``) and on
broken copies generated from it by script (should all be rejected): one added statement dropped,
an added condition negated, an added statement moved into another block, an added exit changed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.backport.generate import TargetStatus, backport_one  # noqa: E402
from reviewbot.backport.validate import validate  # noqa: E402
from reviewbot.diffs.patches import ApplyFailure, apply_file, parse_mail, read_mail  # noqa: E402
from reviewbot.git.repository import Repository  # noqa: E402
from reviewbot.history.upstream import upstream_from_mail  # noqa: E402
from reviewbot.model.errors import ReviewbotError  # noqa: E402
from reviewbot.rules.spec import builtin_rules  # noqa: E402

CORPUS = ROOT / "bench" / "backport_corpus.json"
DATA = ROOT / "bench" / "work" / "backports"
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run git in ``cwd``."""
    proc = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, check=False)
    if check and proc.returncode:
        raise RuntimeError(
            f"git {' '.join(args)} in {cwd}: {proc.stderr.decode(errors='replace').strip()}"
        )
    return proc


def files_under(d: Path) -> dict[str, bytes]:
    """Relative path -> bytes for every file under ``d``."""
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def make_repo(where: Path, pre: dict[str, bytes]) -> Path:
    """A git repository whose only commit is the pre-image."""
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    git(where, "init", "-q", "-b", "master")
    for rel, data in pre.items():
        (where / rel).parent.mkdir(parents=True, exist_ok=True)
        (where / rel).write_bytes(data)
    git(where, "add", "-A")
    git(where, "commit", "-q", "-m", "pre-image")
    git(where, "tag", "target")
    return where


def score(result: dict[str, bytes] | None, pre: dict[str, bytes], post: dict[str, bytes]) -> str:
    """reproduced / different / refused."""
    if result is None or all(result.get(k) == v for k, v in pre.items()):
        return "refused"
    return "reproduced" if all(result.get(k) == v for k, v in post.items()) else "different"


def worktree_state(repo: Path, pre: dict[str, bytes]) -> dict[str, bytes]:
    """The files of interest as the tool left them; then reset the worktree."""
    out = {k: (repo / k).read_bytes() if (repo / k).exists() else b"" for k in pre}
    git(repo, "reset", "-q", "--hard", "target")
    git(repo, "clean", "-qfdx")
    return out


def run_git_apply(repo: Path, patch: Path, pre: dict[str, bytes]) -> dict[str, bytes] | None:
    """``git apply -3``: None when it fails."""
    ok = git(repo, "apply", "-3", str(patch), check=False).returncode == 0
    state = worktree_state(repo, pre)
    return state if ok else None


def run_patch(repo: Path, patch: Path, pre: dict[str, bytes]) -> dict[str, bytes] | None:
    """``patch -p1 -N --fuzz=3``: None when any hunk fails."""
    p = subprocess.run(
        ["patch", "-p1", "-N", "--fuzz=3", "--no-backup-if-mismatch", "-i", str(patch)],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    state = worktree_state(repo, pre)
    return state if p.returncode == 0 else None


def run_reviewbot(
    repo_path: Path, upstream_bytes: bytes, pre: dict[str, bytes], rules
) -> tuple[dict[str, bytes] | None, str]:
    """backport_one on the target; the generated files (None when it refuses) and why."""
    repo = Repository(repo_path)
    try:
        up = upstream_from_mail(repo, read_mail(upstream_bytes, "upstream.patch"))
        r = backport_one(repo, up, repo.resolve("target"), rules)
    except ReviewbotError as e:
        return None, f"error: {e}"
    if r.status != TargetStatus.GENERATED or not r.text:
        return None, f"{r.status}: {r.reason or '; '.join(r.evidence)}"
    out = dict(pre)
    for fp in parse_mail(r.text, "generated").files:
        got = apply_file(pre[fp.path], fp)
        if isinstance(got, ApplyFailure):
            return None, f"generated patch does not apply: {got}"
        out[fp.path] = got.data
    return out, "generated" + (f" ({'; '.join(r.deviations)})" if r.deviations else "")


# --- broken copies of the shipped patch ------------------------------------------------------------

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")


def _recount(lines: list[str]) -> list[str]:
    """Fix every hunk header's counts after lines were edited."""
    out = list(lines)
    i = 0
    while i < len(out):
        m = HUNK.match(out[i])
        if not m:
            i += 1
            continue
        j, old, new = i + 1, 0, 0
        while j < len(out) and out[j][:1] in (" ", "+", "-", "\\") and not out[j].startswith("-- "):
            if out[j].startswith("---") and j + 1 < len(out) and out[j + 1].startswith("+++"):
                break
            c = out[j][:1]
            old += c in (" ", "-")
            new += c in (" ", "+")
            j += 1
        out[i] = f"@@ -{m.group(1)},{old} +{m.group(3)},{new} @@{m.group(5)}"
        i = j
    return out


def _added_code(lines: list[str]) -> list[int]:
    """Indices of added lines that hold code (not comments, braces or blank)."""
    rows = []
    for i, x in enumerate(lines):
        if not x.startswith("+") or x.startswith("+++"):
            continue
        s = x[1:].strip()
        if not s or s in ("{", "}", "} else {") or s.startswith(("/*", "*", "//", "#")):
            continue
        rows.append(i)
    return rows


def drop_statement(lines: list[str]) -> list[str] | None:
    """Drop the first added statement line."""
    rows = [i for i in _added_code(lines) if lines[i].rstrip().endswith(";")]
    return _recount(lines[: rows[0]] + lines[rows[0] + 1 :]) if rows else None


def negate_condition(lines: list[str]) -> list[str] | None:
    """Negate the first added ``if (``/``while (`` condition."""
    for i in _added_code(lines):
        m = re.search(r"\b(if|while) \(", lines[i])
        if m:
            out = list(lines)
            out[i] = lines[i][: m.end()] + "!" + lines[i][m.end() :]
            return out
    return None


def move_statement(lines: list[str]) -> list[str] | None:
    """Move an added statement into the next (or previous) block the hunk's context opens."""
    for i in [r for r in _added_code(lines) if lines[r].rstrip().endswith(";")]:
        for j in list(range(i + 1, len(lines))) + list(range(i - 1, -1, -1)):
            if HUNK.match(lines[j]) or lines[j].startswith(("---", "+++")):
                break
            if lines[j].startswith(" ") and lines[j].rstrip().endswith("{"):
                indent = re.match(r"\s*", lines[j][1:]).group(0) + "\t"
                moved = "+" + indent + lines[i][1:].strip()
                out = list(lines)
                if j > i:
                    out.insert(j + 1, moved)
                    del out[i]
                else:
                    del out[i]
                    out.insert(j + 1, moved)
                return _recount(out)
    return None


EXITS = [
    (re.compile(r"\bgoto \w+;"), "return 0;"),
    (re.compile(r"\breturn\b[^;]*;"), "goto out;"),
    (re.compile(r"\bcontinue;"), "break;"),
    (re.compile(r"\bbreak;"), "continue;"),
]


def change_exit(lines: list[str]) -> list[str] | None:
    """Replace the first added exit (goto/return/continue/break) with a different one."""
    for i in _added_code(lines):
        for pat, repl in EXITS:
            if pat.search(lines[i]):
                out = list(lines)
                out[i] = pat.sub(repl, lines[i], count=1)
                if out[i] == lines[i]:
                    continue
                return out
    return None


BREAKERS: dict[str, Callable[[list[str]], list[str] | None]] = {
    "drop": drop_statement,
    "negate": negate_condition,
    "move": move_statement,
    "exit": change_exit,
}


# --- the run -----------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="one corpus id")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", type=Path, help="write per-entry results here")
    args = ap.parse_args()
    corpus = json.loads(CORPUS.read_text())
    if args.only:
        corpus = [e for e in corpus if e["id"] == args.only]
    rules = builtin_rules()
    work = ROOT / "bench" / "work" / "corpus-bench"
    tools = ("reviewbot", "git apply -3", "patch --fuzz=3")
    tally: dict[str, dict[str, int]] = {t: {} for t in tools}
    val = {"shipped": [0, 0], **{k: [0, 0] for k in BREAKERS}}
    rows = []
    for e in corpus:
        d = DATA / e["id"]
        pre, post = files_under(d / "pre"), files_under(d / "post")
        repo = make_repo(work / e["id"], pre)
        ups = d / "upstream.patch"
        res = {
            "git apply -3": run_git_apply(repo, ups, pre),
            "patch --fuzz=3": run_patch(repo, ups, pre),
        }
        rb, why = run_reviewbot(repo, ups.read_bytes(), pre, rules)
        res["reviewbot"] = rb
        cells = {t: score(res[t], pre, post) for t in tools}
        for t in tools:
            tally[t][cells[t]] = tally[t].get(cells[t], 0) + 1
        up_mail = read_mail(ups.read_bytes(), "upstream.patch")
        r = Repository(repo)
        onto = r.resolve("target")
        shipped = (d / "stable.patch").read_text()
        v = validate(r, read_mail(shipped.encode(), "stable.patch"), onto, rules, upstream=up_mail)
        val["shipped"][0] += v.accepted
        val["shipped"][1] += 1
        broken = {}
        lines = shipped.split("\n")
        for k, fn in BREAKERS.items():
            b = fn(lines)
            if b is None:
                broken[k] = "n/a"
                continue
            try:
                bm = read_mail("\n".join(b).encode(), f"broken-{k}")
                bv = validate(r, bm, onto, rules, upstream=up_mail)
                rejected = not bv.accepted
            except ReviewbotError:
                rejected = True
            val[k][0] += rejected
            val[k][1] += 1
            broken[k] = "rejected" if rejected else "ACCEPTED"
        rows.append((e, cells, v, broken, why))
        if args.verbose:
            print(f"## {e['id']}: {why}", file=sys.stderr)
            for line in v.lines():
                print("   " + line, file=sys.stderr)
    short = {"reproduced": "R", "different": "D", "refused": "-"}
    print("| entry | adapted | " + " | ".join(tools) + " | validate shipped | broken copies |")
    print("|---|---|" + "---|" * len(tools) + "---|---|")
    for e, cells, v, broken, _ in rows:
        bc = " ".join(f"{k}:{'ok' if s == 'rejected' else s}" for k, s in broken.items())
        print(
            f"| {e['id']} | {'yes' if e['adapted'] else 'no'} | "
            + " | ".join(short[cells[t]] for t in tools)
            + f" | {'accepted' if v.accepted else 'rejected: ' + ', '.join(x.id for x in v.failed)}"
            + f" | {bc} |"
        )
    print()
    print("| tool | reproduced | different | refused |")
    print("|---|---|---|---|")
    for t in tools:
        c = tally[t]
        print(
            f"| {t} | {c.get('reproduced', 0)} | {c.get('different', 0)} | {c.get('refused', 0)} |"
        )
    print("| Coccinelle | not run: no general semantic patch for these 29 fixes | | |")
    print()
    print(f"validate: shipped backports accepted {val['shipped'][0]}/{val['shipped'][1]}")
    for k in BREAKERS:
        print(f"validate: broken copies ({k}) rejected {val[k][0]}/{val[k][1]}")
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "id": e["id"],
                        "tools": cells,
                        "reviewbot": why,
                        "validate": v.to_json(),
                        "broken": broken,
                    }
                    for e, cells, v, broken, why in rows
                ],
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
