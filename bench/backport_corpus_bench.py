#!/usr/bin/env python3
"""Bench: backports stable really shipped (bench/backport_corpus.json), reviewbot against its peers.

    python bench/backport_corpus_bench.py [--only ID ...] [--verbose] [--json FILE]
                                          [--bare-trees] [--trees-from DIR]

Targets. By default every entry is ported inside a real stable tree: the nearest Debian
``linux-source`` extract of the entry's series (closest to and not newer than its ``base_version``
when there is one, else the nearest newer one; the table's ``tree`` column says which) with the
entry's exact stable pre-image files (bench/work/backports/<id>/pre/) on top, so a tool that looks
up a macro in include/ or a helper in another mm/ file finds it as in a maintainer's checkout.
The extracts have no top-level Makefile, so the target gets one declaring the entry's base
version (what reviewbot reads a tree's version from). bench/corpus_trees.py builds those trees
once into a shared bare repository under bench/work/corpus-bench/ and reuses them across runs.
``--bare-trees`` keeps the old target, a repository holding only the pre-image files, for
comparison. Every tool runs on the same target. An entry whose data is not there (pre/, post/,
upstream.patch, stable.patch) is skipped and counted; a tool that crashes is recorded as such
and the run goes on.

Tools, each porting the upstream patch (bench/work/backports/<id>/upstream.patch):

- ``reviewbot``: ``backport.generate.backport_one`` (library call, the same ladder as
  ``reviewbot backport``) with the upstream patch read as a mail (quilt-style sections accepted);
  its generated mail is applied to the target to score it;
- ``git am -3``: the upstream patch as a mail, the way a maintainer takes a posted patch. git am
  takes the quilt-style diffs (no ``diff --git``) as they are; only a file git am refuses as a
  mail ("Patch format detection failed": no From/Subject header, e.g. a bare diff under a
  ``Source:`` note) is converted by the bench, by putting a From: and a Subject: (the corpus
  subject) in front of the unchanged text; the ``am`` column marks those entries ``conv``;
- ``git apply -3``: the cherry-pick equivalent for a patch that is not a commit of the repository;
- ``patch -p1 -N --fuzz=3``: GNU patch, the classic fuzzy apply;
- Coccinelle: no column. spatch applies a semantic patch, and no general conversion of an
  upstream diff into one exists: the tools that infer semantic patches (spdiff, Spinfer) learn
  from whole before/after files of several examples, not from one diff, and are not packaged. A
  hunk is not a semantic patch either: 57 of the corpus's 110 upstream hunks do not even balance
  their braces (they start or end inside a block), and a pure addition has no minus code to
  anchor it, so a mechanical conversion must pick an anchor statement and SmPL then inserts on
  every control-flow path that reaches it; the scores would measure the converter, not
  Coccinelle. bench/cocci/ holds semantic patches written by hand for the three demo fixes,
  which is where Coccinelle is feasible.

What ``-3`` can and cannot do here: a three-way fallback needs the pre-image blob an ``index``
line names (the upstream file before the fix) in the repository, to merge upstream's change
into the stable file. Most corpus upstream patches carry no ``index`` line (quilt and
mm-commits formats), and those that do name mainline blobs that a stable tree does not hold (the
``-3 blobs`` column counts how many of those blobs the target repository has). So in this bench
``git am -3`` and ``git apply -3`` can only do a plain apply (git apply's exact-context rules,
no fuzz); with a clone that also holds mainline history they could merge, and would likely
reproduce more of the clean backports. That setting is not measured here.

Scoring: a result is *reproduced* when the files stable's patch changes equal stable's
post-image byte for byte and no other file of the tree changed (deleted, added or modified),
*different* when the tool changed something else, *refused* when it changed nothing. The summary
also groups reviewbot's refusal reasons by their first words (identifiers, paths and quoted code
blanked), to show which class of refusal is most common, and lists the entries a peer
reproduces and reviewbot does not, with reviewbot's reason.

``validate`` is scored on the patch stable shipped (should be accepted with ``--upstream``) and on
broken copies generated from it by script (should all be rejected): one added statement dropped,
an added condition negated, an added statement moved into another block, an added exit changed.
A copy a patch has no material for (no added condition to negate, ...) is ``n/a``.

Timing: the median seconds per entry of each tool and of the five validate runs. The target's
whole-tree look-ups (``git grep`` over a commit) are remembered per entry by ``Repository``
itself, as in any run of reviewbot that asks them more than once.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus_trees import (  # noqa: E402
    DEBIAN_TREES,
    WORK,
    DebianTree,
    TreeStore,
    debian_trees,
    git,
    nearest_tree,
)

from reviewbot.backport.generate import TargetStatus, backport_one  # noqa: E402
from reviewbot.backport.validate import validate  # noqa: E402
from reviewbot.diffs.patches import ApplyFailure, apply_file, parse_mail, read_mail  # noqa: E402
from reviewbot.git.repository import Repository  # noqa: E402
from reviewbot.history.upstream import upstream_from_mail  # noqa: E402
from reviewbot.model.errors import ReviewbotError  # noqa: E402
from reviewbot.rules.records import Rule  # noqa: E402
from reviewbot.rules.spec import builtin_rules  # noqa: E402

CORPUS = ROOT / "bench" / "backport_corpus.json"
DATA = ROOT / "bench" / "work" / "backports"
T = TypeVar("T")
COCCINELLE = (
    "Coccinelle: no column: no general conversion of an upstream diff into a semantic patch"
    " exists (see this file's docstring)"
)

# path -> new bytes (None: deleted) for every file of the tree a tool changed
Changes = dict[str, bytes | None]


def files_under(d: Path) -> dict[str, bytes]:
    """Relative path -> bytes for every file under ``d``."""
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def make_bare_repo(where: Path, pre: dict[str, bytes]) -> tuple[Path, str]:
    """``--bare-trees``: a git repository whose only commit is the pre-image."""
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    git(where, "init", "-q", "-b", "master")
    for rel, data in pre.items():
        (where / rel).parent.mkdir(parents=True, exist_ok=True)
        (where / rel).write_bytes(data)
    git(where, "add", "-A")
    git(where, "commit", "-q", "-m", "pre-image")
    return where, git(where, "rev-parse", "HEAD").stdout.decode().strip()


def score(changed: Changes | None, pre: dict[str, bytes], post: dict[str, bytes]) -> str:
    """reproduced (stable's changes and nothing else) / different / refused (no change)."""
    if not changed:
        return "refused"
    want: Changes = {p: b for p, b in post.items() if pre.get(p) != b}
    want.update({p: None for p in pre if p not in post})
    return "reproduced" if changed == want else "different"


def mismatch(changed: Changes, pre: dict[str, bytes], post: dict[str, bytes]) -> list[str]:
    """A unified diff from stable's post-image to a tool's result, file by file."""
    out: list[str] = []
    for path in sorted(set(changed) | {p for p in post if pre.get(p) != post[p]}):
        got = changed.get(path, pre.get(path)) or b""
        want = post.get(path) or b""
        if got != want:
            out += difflib.unified_diff(
                want.decode(errors="replace").splitlines(),
                got.decode(errors="replace").splitlines(),
                f"stable/{path}",
                f"tool/{path}",
                n=2,
                lineterm="",
            )
    return out


def restore(wt: Path, target: str) -> None:
    """Put the worktree, index and HEAD back to ``target``."""
    git(wt, "am", "--abort", check=False)
    git(wt, "reset", "-q", "--hard", target)
    git(wt, "clean", "-qfdx")


def tree_changes(wt: Path, target: str) -> Changes:
    """Every file the tool changed against ``target`` (worktree, index or a new commit)."""
    git(wt, "add", "-A", "-f")
    out = git(wt, "diff", "--cached", "--no-renames", "--name-status", "-z", target).stdout
    fields = out.decode(errors="surrogateescape").split("\0")
    return {
        path: None if status == "D" else (wt / path).read_bytes()
        for status, path in zip(fields[0::2], fields[1::2], strict=False)
        if path
    }


def run_git_apply(wt: Path, target: str, patch: Path) -> Changes | None:
    """``git apply -3``: None when it fails."""
    ok = git(wt, "apply", "-3", str(patch), check=False).returncode == 0
    got = tree_changes(wt, target) if ok else None
    restore(wt, target)
    return got


def as_mail(text: bytes, subject: str) -> bytes:
    """The upstream patch with a From: and Subject: in front, for a file git am cannot read."""
    m = re.search(rb"^From: (.+)$", text, re.M)
    author = m.group(1) if m else b"Upstream <upstream@example.org>"
    return b"From: " + author + b"\nSubject: " + subject.encode() + b"\n\n" + text


def run_git_am(wt: Path, target: str, patch: Path, subject: str) -> tuple[Changes | None, bool]:
    """``git am -3`` of the upstream mail: the changes (None when it fails), converted or not."""
    proc = git(wt, "am", "-3", str(patch), check=False)
    converted = b"Patch format detection failed" in proc.stderr
    if converted:
        restore(wt, target)
        proc = git(wt, "am", "-3", check=False, data=as_mail(patch.read_bytes(), subject))
    got = tree_changes(wt, target) if proc.returncode == 0 else None
    restore(wt, target)
    return got, converted


def run_patch(wt: Path, target: str, patch: Path) -> Changes | None:
    """``patch -p1 -N --fuzz=3``: None when any hunk fails."""
    p = subprocess.run(
        ["patch", "-p1", "-N", "--fuzz=3", "--no-backup-if-mismatch", "-i", str(patch)],
        cwd=wt,
        stdin=subprocess.DEVNULL,  # a question ("File to patch:") gets no answer, never a hang
        capture_output=True,
        check=False,
        timeout=120,
    )
    got = tree_changes(wt, target) if p.returncode == 0 else None
    restore(wt, target)
    return got


def run_reviewbot(
    repo: Repository, wt: Path, target: str, upstream_bytes: bytes, rules: tuple[Rule, ...]
) -> tuple[Changes | None, str]:
    """backport_one on the target; the generated changes (None when it refuses) and why."""
    try:
        up = upstream_from_mail(repo, read_mail(upstream_bytes, "upstream.patch"))
        r = backport_one(repo, up, repo.resolve(target), rules)
    except ReviewbotError as e:
        return None, f"error: {e}"
    if r.status != TargetStatus.GENERATED or not r.text:
        return None, f"{r.status}: {r.reason or '; '.join(r.evidence)}"
    out: Changes = {}
    for fp in parse_mail(r.text, "generated").files:
        old = wt / fp.path
        got = apply_file(old.read_bytes() if old.is_file() else b"", fp)
        if isinstance(got, ApplyFailure):
            return None, f"generated patch does not apply: {got}"
        if got.data != (old.read_bytes() if old.is_file() else b""):
            out[fp.path] = got.data
    why = "generated" + (f" ({'; '.join(r.deviations)})" if r.deviations else "")
    # what a maintainer does with the mail: git am it; say so when that gives something else
    text = r.text.encode() if isinstance(r.text, str) else r.text
    am = git(wt, "am", check=False, data=text)
    if am.returncode:
        err = am.stderr.decode(errors="replace").strip().splitlines()
        why += f" [git am refuses the generated mail: {err[0] if err else am.returncode}]"
    elif tree_changes(wt, target) != out:
        why += " [git am of the generated mail gives another tree]"
    restore(wt, target)
    return out, why


def index_blobs(wt: Path, patch: bytes) -> tuple[int, int]:
    """How many of the pre-image blobs the patch's ``index`` lines name the repository holds."""
    names = re.findall(rb"^index ([0-9a-f]{7,40})\.\.", patch, re.M)
    have = sum(
        git(wt, "cat-file", "-e", f"{n.decode()}^{{blob}}", check=False).returncode == 0
        for n in names
    )
    return have, len(names)


_CODE = re.compile(r"`[^`]*`|\(similar:[^)]*\)")


def reason_class(why: str) -> str:
    """A refusal reason's first words with its specifics blanked, to group similar refusals."""
    text = re.sub(r"^(failed|refused|error|[a-z-]+): ", "", why)
    text = re.sub(r"^hunk #\d+: ", "", text)
    words: list[str] = []
    for w in _CODE.sub(" ", text).split():
        w = "X" if re.search(r"[_/.()~,]|\d", w.rstrip(",;:.")) else w
        if not (w == "X" and words and words[-1] == "X"):
            words.append(w)
    return " ".join(words[:6])


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


def _post_image(lines: list[str]) -> list[str]:
    """The hunk lines' code after the change (context and added lines, whitespace-insensitive,
    comment lines aside: a statement passing only a comment stays where it was)."""
    code = [" ".join(x[1:].split()) for x in lines if x[:1] in (" ", "+")]
    return [x for x in code if x and not x.startswith(("/*", "*", "//"))]


def move_statement(lines: list[str]) -> list[str] | None:
    """Move an added statement into the next (or previous) block the hunk's context opens."""
    for i in [r for r in _added_code(lines) if lines[r].rstrip().endswith(";")]:
        for j in list(range(i + 1, len(lines))) + list(range(i - 1, -1, -1)):
            if HUNK.match(lines[j]) or lines[j].startswith(("---", "+++")):
                break
            if lines[j].startswith(" ") and lines[j].rstrip().endswith("{"):
                body = lines[j][1:]
                indent = body[: len(body) - len(body.lstrip())] + "\t"
                moved = "+" + indent + lines[i][1:].strip()
                out = list(lines)
                if j > i:
                    out.insert(j + 1, moved)
                    del out[i]
                else:
                    del out[i]
                    out.insert(j + 1, moved)
                if _post_image(out) == _post_image(lines):
                    break  # it only passed the removed lines: the same place, not a move
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

TOOLS = ("reviewbot", "git am -3", "git apply -3", "patch --fuzz=3")
SHORT = {"reproduced": "R", "different": "D", "refused": "-"}
NEEDED = ("pre", "post", "upstream.patch", "stable.patch")


@dataclass
class Row:
    """One corpus entry's results."""

    id: str
    adapted: bool
    tree: str
    am: str = ""
    blobs: str = ""
    cells: dict[str, str] = field(default_factory=dict)
    why: str = ""
    shipped: str = ""  # "accepted", "rejected: <checks>" or "error: ..."
    accepted: bool = False
    deviations: list[str] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    verdict_lines: list[str] = field(default_factory=list)
    # how reviewbot's result differs from stable's post-image (when it is "different")
    mismatch: list[str] = field(default_factory=list)


def crash(e: BaseException) -> str:
    return f"crash: {type(e).__name__}: {e}".splitlines()[0][:300]


def timed(row: Row, name: str, fn: Callable[[], T]) -> T:
    t0 = time.monotonic()
    try:
        return fn()
    finally:
        row.seconds[name] = row.seconds.get(name, 0.0) + time.monotonic() - t0


def run_entry(
    e: dict, store: TreeStore | None, trees: list[DebianTree], rules: tuple[Rule, ...]
) -> Row:
    """Every tool and validate on one entry (a tool's crash is recorded, never raised)."""
    d = DATA / e["id"]
    pre, post = files_under(d / "pre"), files_under(d / "post")
    deb = nearest_tree(e["base_version"], trees) if trees else None
    row = Row(e["id"], bool(e["adapted"]), deb.name if deb and store else "bare")
    t0 = time.monotonic()
    if store is not None and deb is not None:
        wt, target = store.target(deb, e["id"], pre, e["base_version"].split()[0])
    else:
        wt, target = make_bare_repo(WORK / "bare" / e["id"], pre)
    row.seconds["target"] = time.monotonic() - t0
    ups = d / "upstream.patch"
    res: dict[str, Changes | None] = {}
    runs: dict[str, Callable[[], Changes | None]] = {
        "git apply -3": lambda: run_git_apply(wt, target, ups),
        "patch --fuzz=3": lambda: run_patch(wt, target, ups),
    }
    try:
        res["git am -3"], converted = timed(
            row, "git am -3", lambda: run_git_am(wt, target, ups, e["subject"])
        )
        row.am = "conv" if converted else "as is"
    except Exception as x:  # a peer's failure is the bench's, never the run's
        restore(wt, target)
        res["git am -3"], row.am = None, crash(x)
    for name, fn in runs.items():
        try:
            res[name] = timed(row, name, fn)
        except Exception:
            restore(wt, target)
            res[name] = None
    repo = Repository(wt)
    try:
        res["reviewbot"], row.why = timed(
            row, "reviewbot", lambda: run_reviewbot(repo, wt, target, ups.read_bytes(), rules)
        )
    except Exception as x:
        res["reviewbot"], row.why = None, crash(x)
    row.cells = {t: score(res[t], pre, post) for t in TOOLS}
    if row.cells["reviewbot"] == "different":
        row.mismatch = mismatch(res["reviewbot"] or {}, pre, post)
    have, named = index_blobs(wt, ups.read_bytes())
    row.blobs = f"{have}/{named}"
    timed(row, "validate", lambda: run_validate(row, repo, target, d, rules))
    return row


def run_validate(row: Row, repo: Repository, target: str, d: Path, rules: tuple[Rule, ...]) -> None:
    """validate --upstream on the shipped patch and on each broken copy of it."""
    onto = repo.resolve(target)
    up_mail = read_mail((d / "upstream.patch").read_bytes(), "upstream.patch")
    shipped = (d / "stable.patch").read_text(errors="surrogateescape")
    try:
        v = validate(
            repo,
            read_mail(shipped.encode(errors="surrogateescape"), "stable.patch"),
            onto,
            rules,
            upstream=up_mail,
        )
        row.accepted = v.accepted
        row.shipped = "accepted" if v.accepted else "rejected: " + ", ".join(x.id for x in v.failed)
        row.verdict_lines = v.lines()
        row.deviations = [x for x in row.verdict_lines if "adjusted" in x or "deviation" in x]
    except ReviewbotError as x:
        row.shipped = f"rejected: {x}".splitlines()[0][:200]
    except Exception as x:
        row.shipped = crash(x)
    lines = shipped.split("\n")
    for k, fn in BREAKERS.items():
        b = fn(lines)
        if b is None:
            row.broken[k] = "n/a"
            continue
        try:
            bm = read_mail("\n".join(b).encode(errors="surrogateescape"), f"broken-{k}")
            bv = validate(repo, bm, onto, rules, upstream=up_mail)
            row.broken[k] = "ACCEPTED" if bv.accepted else "rejected"
        except ReviewbotError:
            row.broken[k] = "rejected"
        except Exception as x:
            row.broken[k] = crash(x)


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else 0.0


def report(rows: list[Row], skipped: list[str], wall: float, where: str) -> None:
    """The per-entry table, the totals, the refusal histogram, validate's score and timing."""
    print(
        "| entry | adapted | tree | am | -3 blobs | "
        + " | ".join(TOOLS)
        + " | validate shipped | broken copies |"
    )
    print("|---|---|---|---|---|" + "---|" * len(TOOLS) + "---|---|")
    for r in rows:
        bc = " ".join(f"{k}:{'ok' if s == 'rejected' else s}" for k, s in r.broken.items())
        print(
            f"| {r.id} | {'yes' if r.adapted else 'no'} | {r.tree} | {r.am} | {r.blobs} | "
            + " | ".join(SHORT[r.cells[t]] for t in TOOLS)
            + f" | {r.shipped} | {bc} |"
        )
    n = len(rows)
    print()
    print(f"| tool ({n} entries) | reproduced | different | refused |")
    print("|---|---|---|---|")
    for t in TOOLS:
        c = Counter(r.cells[t] for r in rows)
        print(f"| {t} | {c['reproduced']} | {c['different']} | {c['refused']} |")
    print()
    print(COCCINELLE)
    print()
    refusals = Counter(reason_class(r.why) for r in rows if r.cells["reviewbot"] == "refused")
    print("reviewbot refusals by reason:")
    for why, k in refusals.most_common():
        print(f"  {k:3d}  {why}")
    peers = [
        r
        for r in rows
        if r.cells["reviewbot"] != "reproduced"
        and any(r.cells[t] == "reproduced" for t in TOOLS[1:])
    ]
    if peers:
        print()
        print("a peer reproduces, reviewbot does not:")
        for r in peers:
            who = ", ".join(t for t in TOOLS[1:] if r.cells[t] == "reproduced")
            print(f"  {r.id} ({who}): reviewbot {r.cells['reviewbot']}: {r.why}")
    print()
    acc = sum(r.accepted for r in rows)
    errs = sum(r.shipped.startswith("crash") for r in rows)
    print(
        f"validate: shipped backports accepted {acc}/{n}" + (f" ({errs} crashed)" if errs else "")
    )
    for kind in BREAKERS:
        got = [r.broken[kind] for r in rows if r.broken.get(kind, "n/a") != "n/a"]
        bad = sum(x.startswith("crash") for x in got)
        print(
            f"validate: broken copies ({kind}) rejected {got.count('rejected')}/{len(got)}"
            + (f" ({bad} crashed)" if bad else "")
        )
    allb = [x for r in rows for x in r.broken.values() if x != "n/a"]
    print(f"validate: broken copies (all) rejected {allb.count('rejected')}/{len(allb)}")
    for r in rows:
        wrong = [k for k, x in r.broken.items() if x == "ACCEPTED"]
        if wrong:
            print(f"  broken copy accepted: {r.id} ({', '.join(wrong)})")
    for r in rows:
        if not r.accepted:
            print(f"  shipped backport not accepted: {r.id}: {r.shipped}")
    print()
    if skipped:
        print(f"skipped: {len(skipped)} entries without data or target ({', '.join(skipped)})")
    names = ["target", *TOOLS, "validate"]
    print(
        "median seconds per entry: "
        + ", ".join(
            f"{k} {median([r.seconds[k] for r in rows if k in r.seconds]):.2f}" for k in names
        )
    )
    print(f"wall: {wall:.1f} s for {n} entries ({where})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--manifest",
        type=Path,
        action="append",
        help="a corpus manifest (repeatable; default bench/backport_corpus.json)",
    )
    ap.add_argument("--only", action="append", help="a corpus id (repeatable)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", type=Path, help="write per-entry results here")
    ap.add_argument(
        "--bare-trees",
        action="store_true",
        help="target a repository holding only the pre-image files (the old behaviour)",
    )
    ap.add_argument(
        "--trees-from",
        type=Path,
        default=DEBIAN_TREES,
        help="folder of extracted Debian trees, linux-source-<series>_<version>/",
    )
    args = ap.parse_args()
    t_start = time.monotonic()
    corpus = [e for m in args.manifest or [CORPUS] for e in json.loads(m.read_text())]
    if args.only:
        unknown = set(args.only) - {e["id"] for e in corpus}
        if unknown:
            ap.error(f"not in the corpus: {', '.join(sorted(unknown))}")
        corpus = [e for e in corpus if e["id"] in args.only]
    rules = builtin_rules()
    trees = [] if args.bare_trees else debian_trees(args.trees_from)
    store = None if args.bare_trees else TreeStore()
    rows: list[Row] = []
    skipped = []
    for e in corpus:
        d = DATA / e["id"]
        if not all((d / x).exists() for x in NEEDED):
            skipped.append(e["id"])
            continue
        try:
            row = run_entry(e, store, trees, rules)
        except Exception as x:  # the bench's own failure on one entry (its data, its target)
            skipped.append(f"{e['id']} [{crash(x)}]")
            continue
        rows.append(row)
        if args.verbose:
            print(f"## {row.id} on {row.tree}: {row.why}", file=sys.stderr)
            for line in row.verdict_lines:
                print("   " + line, file=sys.stderr)
            for line in row.mismatch[:60]:
                print("   | " + line, file=sys.stderr)
    where = "bare trees" if store is None else f"Debian trees from {args.trees_from}"
    report(rows, skipped, time.monotonic() - t_start, where)
    if args.json:
        args.json.write_text(
            json.dumps(
                [{**asdict(r), "skipped": False} for r in rows]
                + [{"id": i, "skipped": True} for i in skipped],
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
