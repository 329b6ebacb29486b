"""The checks of a backport against the upstream fix: ``scope`` (the change stays in the
functions upstream touches, mapped to the target) and ``equivalence`` (the change equals
upstream's placed on the target, line by line; else modulo the drift between the trees,
:mod:`reviewbot.backport.drift`, "accepted, with deviations" unless strict).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import replace

from reviewbot.backport import drift, statements
from reviewbot.backport.includes import HeaderReader
from reviewbot.backport.relocate import Placed
from reviewbot.backport.verdicts import Verdict, VerdictStatus
from reviewbot.ctree import syntax
from reviewbot.diffs.patches import FilePatch, Mail
from reviewbot.history.upstream import UpstreamFix


def _code(lines: list[str]) -> tuple[str, ...]:
    side = statements.fragment(lines) if lines else None
    return statements.texts(statements.code(side.toks(side.unit.root))) if side else ()


def _comments(lines: list[str]) -> tuple[str, ...]:
    side = statements.fragment(lines) if lines else None
    return tuple(t.text for t in side.toks(side.unit.root) if t.kind == "comment") if side else ()


def _show(lines: list[str]) -> list[str]:
    return [" ".join(x.split()) for x in lines if x.strip()]


def _compare(label: str, expected: list[str], got: list[str], details: list[str]) -> bool:
    if _code(expected) == _code(got):
        if _comments(expected) != _comments(got):
            details.append(f"{label}: comments differ from upstream (not a code change)")
        return True
    details.append(f"{label} differ from upstream:")
    for row in difflib.unified_diff(
        _show(expected), _show(got), "upstream", "backport", lineterm="", n=1
    ):
        if not row.startswith(("---", "+++")):
            details.append("    " + row)
    return False


def _defined_by(fp: FilePatch) -> set[str]:
    """Functions whose whole definition a patch adds (a new static helper)."""
    out: set[str] = set()
    for h in fp.hunks:
        added = "\n".join(h.added)
        if "{" in added:
            out |= set(syntax.parse(added.encode(), fp.path).functions)
    return out


def scope(
    upstream: UpstreamFix, placed: dict[str, Placed], touched: dict[str, set[str]]
) -> Verdict:
    """``scope``: the functions the patch touches (``touched``, per path) are among those the
    upstream fix touches where it is placed in the target, or that the fix itself adds."""
    expected: dict[str, set[str]] = {}
    for fp in upstream.mail.files:
        p = placed.get(fp.path)
        names = {t or "<file scope>" for _, _, t in p.functions} if p else set()
        # a helper the fix itself adds is in scope wherever the target takes it
        names |= _defined_by(fp)
        expected[fp.path] = names
    extra = []
    for path, names in sorted(touched.items()):
        if path not in expected:
            extra.append(f"{path}: the upstream fix does not touch this file")
            continue
        for n in sorted(names - expected[path]):
            extra.append(
                f"{path}: {n}"
                + ("()" if not n.startswith("<") else "")
                + " is not touched by the upstream fix"
            )
    want = "; ".join(f"{p}: {', '.join(sorted(n))}" for p, n in sorted(expected.items()))
    if extra:
        return Verdict(
            "scope",
            VerdictStatus.FAIL,
            f"changes outside the functions the upstream fix touches ({want})",
            tuple(extra),
        )
    return Verdict("scope", VerdictStatus.PASS, f"changes stay in {want}")


def no_op(
    patch: Mail,
    post: Mapping[str, bytes],
    targets: Mapping[str, bytes | None],
    upstream: UpstreamFix,
) -> bool:
    """Does the patch leave every file as it was, whitespace aside, while upstream's fix does
    not (a statement removed and added back at the same place is no fix)?"""

    def words(data: bytes | None) -> list[bytes]:
        return data.split() if data is not None else []

    if not post or any(
        words(post.get(fp.path)) != words(targets.get(fp.source or fp.path)) for fp in patch.files
    ):
        return False
    return any(
        " ".join(h.before).split() != " ".join(h.after).split()
        for fp in upstream.mail.files
        for h in fp.hunks
    )


def equivalence(
    upstream: UpstreamFix,
    patch: Mail,
    placed: dict[str, Placed],
    targets: Mapping[str, bytes | None],
) -> Verdict:
    """``equivalence``, line by line: the patch adds and removes upstream's lines as placed on
    the target (or upstream's own lines where it could not be placed), whitespace and comments
    aside."""
    details: list[str] = []
    ok = True
    notes = []
    for fp in upstream.mail.files:
        mine = patch.file(fp.path)
        got_add = [x for h in mine.hunks for x in h.added] if mine else []
        got_del = [x for h in mine.hunks for x in h.removed] if mine else []
        p = placed.get(fp.path)
        if p is not None and p.ok:
            data = targets[fp.source or ""]
            assert data is not None  # the fix was placed on it
            lines = data.decode("utf-8", "replace").split("\n")
            exp_add = [x for e in p.edits for x in e.add]
            exp_del = [x for e in p.edits for x in lines[e.start : e.start + e.remove]]
            if p.renames:
                notes.append(f"{fp.path}: renamed {', '.join(f'{a} -> {b}' for a, b in p.renames)}")
            if p.rewrites:
                notes.append(f"{fp.path}: rewrote {'; '.join(p.rewrites)}")
        else:
            exp_add = [x for h in fp.hunks for x in h.added]
            exp_del = [x for h in fp.hunks for x in h.removed]
            if p is not None:
                notes.append(
                    f"{fp.path}: compared with upstream's own lines (reviewbot could not place the fix: "
                    f"{p.failures[0].reason if p.failures else p.method})"
                )
        ok &= _compare(f"{fp.path}: added lines", exp_add, got_add, details)
        ok &= _compare(f"{fp.path}: removed lines", exp_del, got_del, details)
    for fp in patch.files:
        if upstream.mail.file(fp.path) is None:
            ok = False
            details.append(f"{fp.path}: not in the upstream fix")
    if ok:
        return Verdict(
            "equivalence",
            VerdictStatus.PASS,
            "the change equals upstream's modulo whitespace"
            + (" and the renames/rewrites between the trees" if notes else ""),
            tuple(notes + details),
        )
    return Verdict(
        "equivalence",
        VerdictStatus.FAIL,
        "the change differs from upstream's",
        tuple(details + notes),
    )


def with_deviations(
    sc: Verdict,
    eq: Verdict,
    upstream: UpstreamFix,
    patch: Mail,
    targets: Mapping[str, bytes | None],
    tree: Callable[[str], bool | None] | None,
    strict: bool,
    header: HeaderReader | None = None,
) -> tuple[Verdict, Verdict]:
    """Scope and equivalence re-judged modulo the drift between the trees (non-strict mode).

    Either mode refuses an added statement upstream puts under another block (a guard in another
    branch), which the line comparison cannot see.
    """
    texts = {k: v.decode("utf-8", "replace") for k, v in targets.items() if v is not None}
    d = drift.compare(
        upstream.mail, patch, texts, lambda n: bool(tree(n)) if tree else False, header
    )
    if eq.status != VerdictStatus.FAIL and d.moved:
        return sc, Verdict(
            "equivalence",
            VerdictStatus.FAIL,
            "an added statement sits in another block than upstream's",
            d.moved,
        )
    if strict or VerdictStatus.FAIL not in (sc.status, eq.status):
        return sc, eq
    if not d.equivalent:
        if eq.status == VerdictStatus.FAIL:
            eq = replace(
                eq, details=eq.details + tuple(f"meaning differs: {x}" for x in d.differences)
            )
        elif d.differences:
            eq = Verdict(
                "equivalence",
                VerdictStatus.FAIL,
                "the change differs from upstream's",
                tuple(f"meaning differs: {x}" for x in d.differences),
            )
        return sc, eq
    notes = tuple(f"[ {x} ]" for x in d.deviations)
    if sc.status == VerdictStatus.FAIL:
        sc = Verdict(
            "scope",
            VerdictStatus.PASS,
            "accepted, with deviations: the equivalent change sits where the target has the code",
            sc.details,
        )
    if eq.status == VerdictStatus.FAIL:
        eq = Verdict(
            "equivalence",
            VerdictStatus.PASS,
            "accepted, with deviations: equals upstream's change modulo the drift between the trees",
            notes,
        )
    return sc, eq
