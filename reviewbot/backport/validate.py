"""Validate a proposed backport against the target tree (and the upstream fix when known).

Six checks, each with its own verdict (``pass``, ``fail`` or ``skip``):

1. ``applies`` — the patch applies to the blobs at the ref exactly (offsets, never fuzz); if not,
   which hunk and which context line differs;
2. ``parses`` — the patched file has no new parse errors in the functions it touches;
3. ``guards`` — with the checker's full semantics, every guard the fix is meant to add is
   present after applying, and no guard that was present is lost;
4. ``scope`` — the changes stay in the functions the upstream fix touched (mapped to the target);
5. ``equivalence`` — added and removed statements equal upstream's modulo whitespace, renamed
   identifiers and rewrites learned from the two trees; differences are shown like range-diff;
6. ``need`` — the target is affected (the check applies) and lacks the fix.

A patch is accepted when no check fails. ``scope`` and ``equivalence`` are skipped without an
upstream fix (both in :mod:`reviewbot.backport.upstreamchecks`). :func:`validate_files` works
on bytes; :func:`validate` reads a repository.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from reviewbot.backport.arity import ParamCount, Params, declared_params
from reviewbot.backport.homes import leave_out, retarget, target_path
from reviewbot.backport.includes import HeaderReader
from reviewbot.backport.relocate import Placed, relocate_file
from reviewbot.backport.targetfn import section_function
from reviewbot.backport.upstreamchecks import equivalence, no_op, scope, with_deviations
from reviewbot.backport.verdicts import Need, NeedStatus, Validation, Verdict, VerdictStatus
from reviewbot.checker.check import check_source
from reviewbot.ctree import syntax
from reviewbot.diffs.patches import ApplyFailure, FilePatch, Mail, apply_file
from reviewbot.git.repository import Repository, Revision
from reviewbot.history.sweep import version_at
from reviewbot.history.upstream import UpstreamFix, upstream_from_commit, upstream_from_mail
from reviewbot.model.errors import InputError, PatchError, RepoError
from reviewbot.model.results import CheckResult, FileResult, Status, VersionInfo
from reviewbot.rules.records import Rule

CHECK_IDS = ("applies", "parses", "guards", "scope", "equivalence", "need")
INTENT_VERSION = VersionInfo("999.0.0", "flag", "every check applies when judging what a fix adds")


# --- upstream and the tree ---------------------------------------------------------------


def tree_lookup(repo: Repository, rev: Revision) -> Callable[[str], bool]:
    """A cached ``name -> bool``: does the name occur as a word in any C file at ``rev``?"""
    cache: dict[str, bool] = {}

    def has(name: str) -> bool:
        if name not in cache:
            cache[name] = repo.has_word(rev, name, ("*.c", "*.h"))
        return cache[name]

    return has


def param_lookup(repo: Repository, rev: Revision) -> ParamCount:
    """A cached ``function -> parameters`` from its declarations (or function-like macro
    definition) at ``rev`` (headers first); None when none is found or they disagree."""
    cache: dict[str, Params | None] = {}

    def count(name: str) -> Params | None:
        if name not in cache:
            files = sorted(
                repo.files_defining(rev, name, ("*.h", "*.c"), macros=True),
                key=lambda f: not f.endswith(".h"),
            )
            seen = set()
            for f in files[:4]:
                data = repo.blob(rev, f)
                n = declared_params(data, f, name) if data is not None else None
                seen.add(n)
            cache[name] = seen.pop() if len(seen) == 1 else None
        return cache[name]

    return count


def header_reader(repo: Repository, rev: Revision) -> HeaderReader:
    """A cached ``path -> text`` of the files at ``rev`` (None: no such file)."""
    cache: dict[str, str | None] = {}

    def read(path: str) -> str | None:
        if path not in cache:
            try:
                data = repo.blob(rev, path)
            except (RepoError, InputError):
                data = None
            cache[path] = data.decode("utf-8", "replace") if data is not None else None
        return cache[path]

    return read


def ancestor_note(repo: Repository, sha: str | None, rev: Revision) -> str | None:
    """ "fix X is an ancestor of REF" when the fix commit is in the target's history."""
    if not sha:
        return None
    try:
        if repo.is_ancestor(sha, rev.sha):
            return f"the fix {sha[:12]} is an ancestor of {rev.name}"
    except Exception:  # noqa: BLE001 - an unknown sha simply is not an ancestor
        return None
    return None


# --- what a fix is meant to do --------------------------------------------------------------


def results_for(
    data: bytes, path: str, rules: tuple[Rule, ...], version: VersionInfo, ref: str | None = None
) -> list[FileResult]:
    """Verdicts of the rules that cover ``path`` (none for other files)."""
    applicable = tuple(r for r in rules if path in r.paths)
    return check_source(data, path, applicable, version, ref=ref) if applicable else []


def _statuses(results: list[FileResult]) -> dict[str, CheckResult]:
    return {f"{r.rule}:{c.key}": c for r in results for c in r.checks}


def intent(rules: tuple[Rule, ...], mail: Mail, pre: dict[str, bytes]) -> set[str]:
    """Rule checks (``rule:key``) the fix turns from missing to present.

    With the pre-image, decided by running the checker before and after; without it, the
    checks whose site function a hunk touches and whose predicate the added lines name.
    """
    keys: set[str] = set()
    for fp in mail.files:
        data = pre.get(fp.source or "")
        if data is not None:
            post = apply_file(data, fp)
            if isinstance(post, ApplyFailure):
                continue
            before = _statuses(results_for(data, fp.path, rules, INTENT_VERSION))
            after = _statuses(results_for(post.data, fp.path, rules, INTENT_VERSION))
            keys |= {
                k
                for k, c in after.items()
                if c.status is Status.PRESENT
                and before.get(k) is not None
                and before[k].status is Status.MISSING
            }
            continue
        for rule in rules:
            if fp.path not in rule.paths:
                continue
            for spec in rule.checks:
                for site in spec.sites:
                    names = set(spec.predicates) | set(spec.vma_predicates)
                    for h in fp.hunks:
                        fn = section_function(h)
                        # a new test of the predicate, not one moved or reworded
                        gained = sum(x.count(n) for x in h.added for n in names) > sum(
                            x.count(n) for x in h.removed for n in names
                        )
                        if fn in site.functions and gained:
                            keys.add(f"{rule.id}:{spec.id}" + (f"/{site.id}" if site.id else ""))
    return keys


def need(
    pre: list[FileResult], keys: set[str], ancestor: str | None = None, present: bool = False
) -> Need:
    """Is the target affected and still without the fix? (structural verdicts, ancestry)."""
    # integrate fixes.branch_status: recorded backports, patch-ids and regressions (issue 3)
    if ancestor:
        return Need(NeedStatus.ALREADY_FIXED, (ancestor,))
    checks = _statuses(pre)
    mine = {k: checks[k] for k in sorted(keys) if k in checks}
    if mine:
        if all(c.status is Status.NOT_APPLICABLE for c in mine.values()):
            return Need(
                NeedStatus.NOT_AFFECTED,
                tuple(f"{k.split(':', 1)[1]}: {c.message}" for k, c in mine.items()),
            )
        if all(c.status is not Status.MISSING for c in mine.values()):
            return Need(
                NeedStatus.ALREADY_FIXED,
                tuple(f"{k.split(':', 1)[1]}: {c.message}" for k, c in mine.items()),
            )
        return Need(
            NeedStatus.NEEDS_BACKPORT,
            tuple(
                f"{k.split(':', 1)[1]}: {c.message}"
                for k, c in mine.items()
                if c.status is Status.MISSING
            ),
        )
    if present:
        return Need(NeedStatus.ALREADY_FIXED, ("the change is already in the target",))
    return Need(
        NeedStatus.NEEDS_BACKPORT,
        ("no rule check covers this change; assuming the target needs it",),
    )


# --- the checks -------------------------------------------------------------------------------


def _changed(fp: FilePatch, offsets: tuple[int, ...]) -> tuple[set[int], set[int]]:
    """0-based pre-image and post-image lines the patch removes / adds."""
    pre_rows: set[int] = set()
    post_rows: set[int] = set()
    delta = 0
    for h, off in zip(fp.hunks, offsets, strict=True):
        i = h.start_index + off
        j = i + delta
        for kind, _ in h.lines:
            if kind == " ":
                i += 1
                j += 1
            elif kind == "-":
                pre_rows.add(i)
                i += 1
            else:
                post_rows.add(j)
                j += 1
        delta += len(h.after) - len(h.before)
    return pre_rows, post_rows


def _functions_at(unit: syntax.Unit, rows: set[int]) -> set[str]:
    out = set()
    for row in rows:
        hit = None
        for name, defs in unit.functions.items():
            if any(f.node.start_point[0] <= row <= f.node.end_point[0] for f in defs):
                hit = name
                break
        out.add(hit or "<file scope>")
    return out


def _leaving_out(eq: Verdict, left_out: tuple[str, ...], strict: bool) -> Verdict:
    """Equivalence with upstream's changes to files the target lacks left out: a deviation
    (refused under ``strict``)."""
    if not left_out or eq.status == VerdictStatus.FAIL:
        return eq
    if strict:
        return Verdict(
            "equivalence",
            VerdictStatus.FAIL,
            "the backport leaves out files of the upstream fix (strict)",
            left_out,
        )
    message = eq.message
    if not message.startswith("accepted, with deviations"):
        message = "accepted, with deviations: " + message
    return replace(eq, message=message, details=eq.details + tuple(f"[ {x} ]" for x in left_out))


def validate_files(
    targets: Mapping[str, bytes | None],
    patch: Mail,
    rules: tuple[Rule, ...],
    version: VersionInfo,
    *,
    ref: str | None = None,
    upstream: UpstreamFix | None = None,
    tree: Callable[[str], bool | None] | None = None,
    ancestor: str | None = None,
    placed: dict[str, Placed] | None = None,
    strict: bool = False,
    header: HeaderReader | None = None,
    params: ParamCount | None = None,
    left_out: tuple[str, ...] = (),
) -> Validation:
    """Validate ``patch`` against target blobs by path (no repository needed).

    ``left_out``: why files of the upstream fix (already taken out of ``upstream``) have no
    place in the target (:func:`homes.leave_out`); each is a deviation.

    Without ``strict``, a backport whose change differs from upstream's only by the drift between
    the trees (:mod:`reviewbot.backport.drift`) is "accepted, with deviations", each deviation
    listed; ``strict`` refuses any deviation.

    ``params`` gives a function's parameter count in the target tree (a call upstream passes
    a later parameter is fitted, :mod:`reviewbot.backport.arity`). ``header`` reads a file of
    the target tree by path (an ``#include`` the backport adds is
    judged by what the header declares). ``placed`` may carry :func:`relocate_file` results of the upstream fix on these blobs (the
    reference the equivalence check compares with) when the caller already computed them.
    """
    where = ref or "the target"
    verdicts: list[Verdict] = []
    post: dict[str, bytes] = {}
    applied: dict[str, tuple[int, ...]] = {}
    problems = []
    for fp in patch.files:
        data = targets.get(fp.source or fp.path)
        if fp.source is None or fp.target is None:
            problems.append(
                f"{fp.path}: creates or deletes a file; only modifications are validated"
            )
            continue
        if data is None:
            problems.append(f"{fp.source}: not in {where}")
            continue
        r = apply_file(data, fp)
        if isinstance(r, ApplyFailure):
            problems.append(f"{fp.path}: {r}")
        else:
            post[fp.path] = r.data
            applied[fp.path] = r.offsets
    if problems:
        verdicts.append(
            Verdict(
                "applies",
                VerdictStatus.FAIL,
                f"does not apply to {where} without fuzz",
                tuple(problems),
            )
        )
    else:
        moved = [
            f"{p}: hunks at offsets {', '.join(str(o) for o in off)}"
            for p, off in applied.items()
            if any(off)
        ]
        verdicts.append(
            Verdict(
                "applies",
                VerdictStatus.PASS,
                f"applies to {where} exactly" + (" (with offsets)" if moved else ""),
                tuple(moved),
            )
        )
    pre_res = [
        r
        for fp in patch.files
        if (d := targets.get(fp.source or fp.path)) is not None
        for r in results_for(d, fp.path, rules, version, ref)
    ]
    keys = intent(rules, upstream.mail, upstream.pre) if upstream else set()
    if not keys:
        keys = intent(rules, patch, {})
    if upstream is not None and not upstream.pre and not keys:
        keys = intent(rules, upstream.mail, {})
    if problems:
        for cid in ("parses", "guards", "scope", "equivalence"):
            verdicts.append(Verdict(cid, VerdictStatus.SKIP, "the patch does not apply"))
    else:
        touched: dict[str, set[str]] = {}
        parse_errs: list[str] = []
        for fp in patch.files:
            if fp.path not in post:
                continue
            data = targets[fp.source or fp.path]
            assert data is not None  # the patch applied to it
            pre_u, post_u = syntax.parse(data, fp.path), syntax.parse(post[fp.path], fp.path)
            rows_pre, rows_post = _changed(fp, applied[fp.path])
            names = _functions_at(pre_u, rows_pre) | _functions_at(post_u, rows_post)
            touched[fp.path] = names
            for name in sorted(names - {"<file scope>"}):
                fn_post, fn_pre = post_u.function(name), pre_u.function(name)
                after = len(post_u.errors_in(fn_post.node)) if fn_post else 0
                before = len(pre_u.errors_in(fn_pre.node)) if fn_pre else 0
                if after > before:
                    assert fn_post is not None  # it has errors
                    lines = sorted({syntax.line(e) for e in post_u.errors_in(fn_post.node)})
                    parse_errs.append(
                        f"{name}(): {after - before} new parse error(s) (lines {', '.join(map(str, lines[:5]))})"
                    )
        shown = "; ".join(f"{p}: {', '.join(sorted(n))}" for p, n in sorted(touched.items()))
        verdicts.append(
            Verdict(
                "parses",
                VerdictStatus.FAIL if parse_errs else VerdictStatus.PASS,
                "new parse errors in the touched functions"
                if parse_errs
                else f"parses cleanly ({shown})",
                tuple(parse_errs),
            )
        )
        verdicts.append(_guards(patch, post, pre_res, rules, version, ref, keys))
        if upstream is None:
            # a named upstream sha that could not be read is not the same as no upstream at all
            named = ", ".join(sha[:12] for _, sha in patch.upstream)
            why = (
                f"upstream commit {named} (named in the patch) is not in this repository: give the fix with --upstream FILE"
                if named
                else "no upstream fix given (--upstream, or a 'commit <sha> upstream.' line)"
            )
            verdicts.append(Verdict("scope", VerdictStatus.SKIP, why))
            verdicts.append(
                Verdict(
                    "equivalence",
                    VerdictStatus.SKIP,
                    why if named else "no upstream fix given",
                )
            )
        else:
            placed = placed or {
                fp.path: relocate_file(
                    fp,
                    data,
                    fp.source,
                    upstream_pre=upstream.pre.get(fp.source),
                    rules=rules,
                    tree=tree,
                    where=where,
                    params=params,
                )
                for fp in upstream.mail.files
                if fp.source is not None and (data := targets.get(fp.source)) is not None
            }
            sc, eq = (
                scope(upstream, placed, touched),
                equivalence(upstream, patch, placed, targets),
            )
            sc, eq = with_deviations(sc, eq, upstream, patch, targets, tree, strict, header)
            eq = _leaving_out(eq, left_out, strict)
            if eq.status != VerdictStatus.FAIL and no_op(patch, post, targets, upstream):
                eq = Verdict(
                    "equivalence",
                    VerdictStatus.FAIL,
                    "the patch changes nothing but whitespace; upstream's fix changes code",
                    ("its added lines are the lines it removes, at the same place",),
                )
            verdicts += [sc, eq]
    # the fix is already there when every file of it that the target has already carries it
    # (one file that happens to read as upstream's result is not the fix)
    carried = [
        not isinstance(apply_file(d, fp.reversed()), ApplyFailure)
        for fp in (upstream.mail.files if upstream else patch.files)
        if (d := targets.get(fp.target or fp.path)) is not None
    ]
    present = bool(carried) and all(carried)
    n = need(pre_res, keys, ancestor, present)
    verdicts.append(
        Verdict(
            "need",
            VerdictStatus.PASS if n.status == NeedStatus.NEEDS_BACKPORT else VerdictStatus.FAIL,
            {
                NeedStatus.NEEDS_BACKPORT: "the target is affected and lacks the fix",
                NeedStatus.ALREADY_FIXED: f"{where} already has the fix",
                NeedStatus.NOT_AFFECTED: f"{where} is not affected",
            }[n.status],
            n.evidence,
        )
    )
    return Validation(ref, tuple(verdicts), upstream.label if upstream else None)


def _guards(
    patch: Mail,
    post: dict[str, bytes],
    pre_res: list[FileResult],
    rules: tuple[Rule, ...],
    version: VersionInfo,
    ref: str | None,
    keys: set[str],
) -> Verdict:
    post_res = [
        r
        for fp in patch.files
        if fp.path in post
        for r in results_for(post[fp.path], fp.path, rules, version, ref)
    ]
    before, after = _statuses(pre_res), _statuses(post_res)
    if not before and not after:
        return Verdict("guards", VerdictStatus.PASS, "no rule covers the patched files")
    details, bad = [], False
    for k in sorted(keys):
        c = after.get(k)
        if c is None:
            continue
        key = k.split(":", 1)[1]
        if c.status is Status.PRESENT and not c.uncertain:
            details.append(f"{key}: present after the patch: {c.message}")
        elif c.status is Status.NOT_APPLICABLE:
            details.append(f"{key}: not applicable at the target: {c.message}")
        else:
            bad = True
            details.append(
                f"{key}: {'uncertain' if c.uncertain else 'still missing'} after the patch: {c.message}"
            )
    lost = [
        k
        for k, c in before.items()
        if c.status is Status.PRESENT and k in after and after[k].status is Status.MISSING
    ]
    for k in lost:
        bad = True
        details.append(f"{k.split(':', 1)[1]}: was present, lost by the patch: {after[k].message}")
    if bad:
        return Verdict(
            "guards",
            VerdictStatus.FAIL,
            "a guard the fix should add is not effective"
            if not lost
            else "the patch loses a guard",
            tuple(details),
        )
    msg = (
        "every guard the fix adds is present; none lost"
        if keys
        else "no guard is meant to be added; none lost"
    )
    return Verdict("guards", VerdictStatus.PASS, msg, tuple(details))


def validate(
    repo: Repository,
    patch: Mail,
    onto: Revision,
    rules: tuple[Rule, ...],
    upstream: Mail | UpstreamFix | None = None,
    *,
    strict: bool = False,
) -> Validation:
    """Validate ``patch`` on ``onto``; the upstream fix comes from ``upstream`` or the patch's body.

    ``strict`` refuses any deviation from upstream (``git config reviewbot.strict``).
    """
    targets = {}
    for fp in patch.files:
        if fp.source:
            targets[fp.source] = repo.blob(onto, fp.source)
    up: UpstreamFix | None
    if isinstance(upstream, UpstreamFix):
        up = upstream
    elif isinstance(upstream, Mail):
        up = upstream_from_mail(repo, upstream)
    else:
        up = None
        for _, sha in patch.upstream:
            try:
                up = upstream_from_commit(repo, repo.resolve(sha))
                break
            except (RepoError, PatchError):
                continue
    left: tuple[str, ...] = ()
    if up is not None:
        # an upstream file is compared where its code lives (moved, split), also when the
        # target has a file of that name without the functions the fix changes
        moved = {}
        for fp in up.mail.files:
            if fp.source:
                home = target_path(repo, onto, fp, rules)
                if home is not None and home != fp.source:
                    moved[fp.source] = home
        up = retarget(up, moved) if moved else up
        # a backport file upstream does not name may be its adaptation of a missing one
        # (selftests/vm for selftests/mm): then drift pairs them, nothing is left out
        named = {fp.source for fp in up.mail.files}
        if all(fp.source in named for fp in patch.files):
            homed = {p for p in named if p and repo.blob_id(onto, p) is not None}
            up, left = leave_out(repo, onto, up, homed)
        for fp in up.mail.files:
            if fp.source and fp.source not in targets:
                targets[fp.source] = repo.blob(onto, fp.source)
    version = version_at(repo, onto, rules)
    return validate_files(
        targets,
        patch,
        rules,
        version,
        ref=onto.name,
        upstream=up,
        tree=tree_lookup(repo, onto),
        ancestor=ancestor_note(repo, up.sha if up else None, onto),
        strict=strict,
        header=header_reader(repo, onto),
        params=param_lookup(repo, onto),
        left_out=left,
    )
