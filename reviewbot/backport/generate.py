"""Generate stable backports: a ``git am``-ready mail per target, or an honest reason why not.

For each target ref: decide whether it needs the fix at all (:func:`_need`: not affected,
already fixed, or needs a backport), place every hunk with the ladder in :mod:`relocate`
(exact -> relocated -> transformed), write the mail the stable way (``commit <sha> upstream.``,
the upstream message and trailers, a bracketed note for every deviation, the committer's
Signed-off-by from ``git config``), validate it with :mod:`validate` exactly like a proposed
backport, and only then write it. A target that cannot be done is ``failed`` with the hunk, the
missing function or anchor statement, the nearest candidate, and possible dependencies: commits
between the target and the fix that touched the missing lines or symbols.

Nothing here writes to the repository; output goes only under the output directory, each file
written atomically, byte-identical on a second run.
The answer types (status, result per target, the run's report) are :mod:`outcome`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from reviewbot import __version__
from reviewbot.backport.ctokens import idents, tokens
from reviewbot.backport.homes import leave_out, retarget, target_path, without_files
from reviewbot.backport.outcome import (
    BackportRun,
    Dependency,
    TargetId,
    TargetResult,
    TargetStatus,
)
from reviewbot.backport.places import Failure
from reviewbot.backport.readings import unused_new_helpers
from reviewbot.backport.relocate import METHODS, Method, Placed, relocate_file
from reviewbot.backport.validate import (
    Need,
    NeedStatus,
    ancestor_note,
    intent,
    need,
    param_lookup,
    results_for,
    tree_lookup,
    validate_files,
)
from reviewbot.diffs.mailfmt import diffstat, file_diff, mail, minimal, slug
from reviewbot.diffs.patches import (
    ApplyFailure,
    Mail,
    apply_file,
    parse_mail,
    upstream_refs,
)
from reviewbot.git.repository import Repository, Revision
from reviewbot.history.sweep import version_at
from reviewbot.history.upstream import UpstreamFix
from reviewbot.model.errors import InputError, RepoError, ReviewbotError
from reviewbot.model.versions import KernelVersion
from reviewbot.rules.records import Rule

# --- targets ------------------------------------------------------------------------------


def signer(repo: Repository) -> str | None:
    """``Name <email>`` from the repository's git config (read only)."""
    return repo.identity()


def _prefix(template: str | None, version: str | None) -> str:
    series = KernelVersion.parse(version).series if version else ""
    if template is None:
        return f"PATCH {series}" if series else "PATCH"
    return " ".join(template.replace("{series}", series).split())


def _need(
    repo: Repository,
    upstream: UpstreamFix,
    rev: Revision,
    rules: tuple[Rule, ...],
    targets: dict[str, bytes],
    paths: dict[str, str],
    version,
) -> Need:
    """Does ``rev`` need the fix? The structural verdicts, cross-checked with ``fixes.branch_status``.

    The structure decides first: never add a guard that is already there, never backport to a
    tree the checks do not apply to. ``branch_status`` adds what history knows (the fix recorded
    by ancestry, an upstream marker or a patch-id; the ``Fixes:`` commit missing from the branch;
    a recorded fix whose guard is gone). It judges only the checks this fix turns from missing to
    present (``intent``): a different change in the same function is not "already fixed".
    """
    pre = [
        r for tp in paths.values() for r in results_for(targets[tp], tp, rules, version, rev.name)
    ]
    keys = intent(rules, upstream.mail, upstream.pre)
    present = bool(paths) and all(
        not isinstance(apply_file(targets[paths[fp.source]], fp.reversed()), ApplyFailure)
        for fp in upstream.mail.files
        if fp.source in paths
    )
    structural = need(
        pre, keys, ancestor_note(repo, upstream.sha if upstream.in_repo else None, rev), present
    )
    if structural.status == NeedStatus.NOT_AFFECTED:
        return structural
    st = _branch_status(repo, upstream, rev, rules, keys)
    if st is None:
        return structural
    if structural.status == NeedStatus.ALREADY_FIXED:
        recorded = tuple(
            e.detail for e in st.evidence if e.kind in ("greg", "sasha", "cherry-pick", "patch-id")
        )
        return Need(NeedStatus.ALREADY_FIXED, structural.evidence + recorded)
    if st.status == "not-affected":
        return Need(
            NeedStatus.NOT_AFFECTED,
            tuple(e.detail for e in st.evidence if e.kind in ("introduced", "applicability"))
            or structural.evidence,
        )
    if st.status == "fixed":
        strong = [
            e.detail
            for e in st.evidence
            if e.kind in ("ancestor", "greg", "sasha", "cherry-pick", "patch-id")
        ]
        if strong:
            return Need(NeedStatus.ALREADY_FIXED, tuple(strong) + tuple(st.disagreements))
    if st.status == "regressed":
        return Need(
            NeedStatus.NEEDS_BACKPORT,
            tuple(f"regressed: {d}" for d in st.disagreements) + structural.evidence,
        )
    return structural


def _branch_status(
    repo: Repository, upstream: UpstreamFix, rev: Revision, rules: tuple[Rule, ...], keys: set[str]
):
    from reviewbot.history.fixes import branch_status

    m = upstream.mail
    fix = replace(
        upstream,
        patch_id=repo.patch_id_of(m.diff) if m.diff else None,
        origin=upstream.sha or m.subject,
    )
    targets = tuple(sorted(k.split(":", 1)[1] for k in keys))
    try:
        return branch_status(repo, fix, rev.name, rules, targets=targets)
    except RepoError:
        return None  # a shallow clone: history cannot tell; the structure already did


def dependencies(
    repo: Repository,
    rev: Revision,
    upstream: UpstreamFix,
    failures: list[Failure],
    paths: list[str],
    mainline: str | None,
) -> tuple[Dependency, ...]:
    """Commits between the target and the fix that changed the text the target lacks."""
    needles = list(dict.fromkeys(n for f in failures for n in f.needles))[:4]
    if not needles:
        return ()
    if upstream.sha and upstream.in_repo:
        span = [f"{rev.sha}..{upstream.sha}^"]
    elif mainline:
        # mainline since the target's base, up to the fix (its author date, when the mail has one)
        span = [f"{rev.sha}..{mainline}"]
        if upstream.mail.date:
            span.insert(0, f"--until={upstream.mail.date}")
    else:
        return ()  # no mainline history: other branches' commits are no dependencies
    found: dict[str, tuple[int, str]] = {}
    for needle in needles:
        for sha, when, subject in repo.pickaxe(needle, span, paths):
            if sha != upstream.sha:
                found[sha] = (when, subject)
    ordered = sorted(found.items(), key=lambda kv: (kv[1][0], kv[0]))
    return tuple(Dependency(sha, subject) for sha, (_, subject) in ordered[:5])


# --- the mail -----------------------------------------------------------------------------


def deviations(placed: list[Placed]) -> list[str]:
    """The bracketed notes a stable maintainer writes when a backport differs from upstream."""
    notes = []
    for p in placed:
        if p.path != p.upstream_path:
            notes.append(f"[ {p.upstream_path} is {p.path} in this tree ]")
    if any(p.method != Method.EXACT and p.adjusted for p in placed):
        notes.append("[ adjusted context ]")
    renames = sorted({r for p in placed for r in p.renames})
    if renames:
        notes.append(f"[ renamed {', '.join(f'{a} -> {b}' for a, b in renames)} ]")
    for rw in dict.fromkeys(r for p in placed for r in p.rewrites):
        notes.append(f"[ rewrote {rw} ]")
    return notes


def body(upstream: UpstreamFix, notes: list[str], sign: str | None) -> str:
    """``commit <sha> upstream.``, the upstream message and trailers, notes, Signed-off-by."""
    msg = upstream.mail.message
    cited = upstream_refs(msg)
    sha = cited[0][1] if cited else upstream.sha
    for _, s in cited:  # a backport of a backport cites the original once, at the top
        msg = re.sub(rf"^.*{s}.*\n?", "", msg, count=1, flags=re.M)
    msg = msg.strip("\n")
    out = f"commit {sha} upstream.\n\n" if sha else ""
    out += msg + "\n"
    tail = list(notes)
    last = msg.splitlines()[-1] if msg else ""
    if sign and not (not notes and last == f"Signed-off-by: {sign}"):
        tail.append(f"Signed-off-by: {sign}")
    if tail:
        if not upstream.mail.trailers:
            out += "\n"
        out += "\n".join(tail) + "\n"
    return out


def _write(path: Path, text: str) -> None:
    data = text.encode()
    if path.exists() and path.read_bytes() == data:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".reviewbot-", dir=path.parent)
    except OSError as e:
        raise InputError(
            f"cannot write {path}: {e.strerror}", "choose a writable --output-dir"
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def out_path(output_dir: Path, ref: str, subject: str) -> Path:
    """``<output-dir>/<ref>/0001-<format-patch name>.patch``."""
    return Path(output_dir) / re.sub(r"[^A-Za-z0-9._-]+", "_", ref) / f"0001-{slug(subject)}.patch"


# --- one target ---------------------------------------------------------------------------


def backport_one(
    repo: Repository,
    upstream: UpstreamFix,
    rev: Revision,
    rules: tuple[Rule, ...],
    *,
    prefix: str | None = None,
    output_dir: Path | None = None,
    mainline: str | None = None,
    sign: str | None = None,
) -> TargetResult:
    """Decide, generate, validate and (with ``output_dir``) write the backport for ``rev``."""
    version = version_at(repo, rev, rules)
    base: TargetId = {"ref": rev.name, "sha": rev.sha, "kernel_version": version.version}
    paths: dict[str, str] = {}
    targets: dict[str, bytes] = {}
    missing_files = []
    for fp in upstream.mail.files:
        if fp.source is None or fp.target is None:
            return TargetResult(
                status=TargetStatus.FAILED,
                reason=f"{fp.path}: the fix creates or deletes a file; backport it by hand",
                **base,
            )
        tp = target_path(repo, rev, fp, rules)
        if tp is None:
            missing_files.append(fp.source)
            continue
        if tp in paths.values():
            other = next(k for k, v in paths.items() if v == tp)
            return TargetResult(
                status=TargetStatus.FAILED,
                reason=f"{other} and {fp.source} are both {tp} at {rev.name}; backport it by hand",
                **base,
            )
        paths[fp.source] = tp
        data = repo.blob(rev, tp)
        assert data is not None  # target_path found the blob
        targets[tp] = data
    upstream, dropped = leave_out(repo, rev, upstream, paths)
    kept = {fp.source for fp in upstream.mail.files}
    missing_files = [f for f in missing_files if f in kept]
    if missing_files:
        f = Failure(
            0,
            f"{', '.join(missing_files)} does not exist at {rev.name}",
            None,
            ", ".join(missing_files),
        )
        return TargetResult(status=TargetStatus.FAILED, reason=f.reason, failures=(f,), **base)
    n = _need(repo, upstream, rev, rules, targets, paths, version)
    if n.status != NeedStatus.NEEDS_BACKPORT:
        return TargetResult(status=TargetStatus(n.status), evidence=n.evidence, **base)
    in_tree = tree_lookup(repo, rev)
    params = param_lookup(repo, rev)

    def place_all(names: frozenset[str]) -> list[Placed]:
        assert all(fp.source is not None for fp in upstream.mail.files)  # refused above
        return [
            relocate_file(
                fp,
                targets[paths[fp.source or ""]],
                paths[fp.source or ""],
                upstream_pre=upstream.pre.get(fp.source or ""),
                rules=rules,
                tree=_with_introduced(in_tree, names),
                where=rev.name,
                params=params,
            )
            for fp in upstream.mail.files
        ]

    new_names = introduced(upstream.mail)
    placed = place_all(new_names)
    # helpers upstream adds where this tree cannot take them: the rest spelled without them
    homeless = {
        n
        for fp, p in zip(upstream.mail.files, placed, strict=True)
        if not p.ok
        for n in unused_new_helpers(fp, in_tree, set())
    }
    if homeless:
        new_names -= homeless
        placed = place_all(new_names)
        upstream, placed, unused = _without_unused_helpers(upstream, placed, in_tree)
        dropped += unused
    tree = _with_introduced(in_tree, new_names)
    warnings = tuple(dict.fromkeys(w for p in placed for w in p.warnings))
    learned = tuple(dict.fromkeys(x for p in placed for x in p.learned))
    failures = [f for p in placed for f in p.failures]
    if failures:
        deps = dependencies(
            repo, rev, upstream, failures, sorted({p.path for p in placed}), mainline
        )
        if not (upstream.sha and upstream.in_repo) and not mainline:
            warnings += (
                "possible dependencies not searched: this repository has no mainline history "
                "(no master/main branch and the fix commit is not here; use --mainline REF)",
            )
        return TargetResult(
            status=TargetStatus.FAILED,
            reason=failures[0].reason,
            failures=tuple(failures),
            dependencies=deps,
            evidence=n.evidence,
            learned=learned,
            warnings=warnings,
            **base,
        )
    if all(p.method == Method.PRESENT for p in placed):
        return TargetResult(
            status=TargetStatus.ALREADY_FIXED,
            evidence=(f"the change is already in {', '.join(p.path for p in placed)}",),
            **base,
        )
    live = [p for p in placed if p.edits]
    notes = deviations(live) + [f"[ {x} ]" for x in dropped]
    diff = ""
    stat = []
    for p in live:
        mode = None
        with contextlib.suppress(KeyError):
            mode = f"{(rev.commit.tree / p.path).mode:06o}"
        edits = minimal(targets[p.path], list(p.edits))
        try:
            diff += file_diff(p.path, targets[p.path], edits, mode)
        except ValueError as e:
            return TargetResult(
                status=TargetStatus.FAILED, reason=f"{p.path}: {e}", evidence=n.evidence, **base
            )
        stat.append((p.path, sum(len(e.add) for e in edits), sum(e.remove for e in edits)))
    method = max((p.method for p in live), key=METHODS.index)
    m = upstream.mail
    text = mail(
        subject=m.subject,
        prefix=_prefix(prefix, version.version),
        author=m.author or sign or "unknown <unknown>",
        date=m.date,
        body=body(upstream, notes, sign),
        diff=diff,
        stat=diffstat(stat),
        signature=f"reviewbot {__version__}",
        sha=upstream.sha,
    )
    generated = parse_mail(text, "generated patch")
    retargeted = retarget(upstream, paths)
    v = validate_files(
        targets,
        generated,
        rules,
        version,
        ref=rev.name,
        upstream=retargeted,
        tree=tree,
        placed={fp.path: p for fp, p in zip(retargeted.mail.files, placed, strict=True)},
        left_out=dropped,
    )
    if not v.accepted:
        why = "; ".join(
            f"{x.id}: {x.message}" + (f" ({x.details[0]})" if x.details else "") for x in v.failed
        )
        return TargetResult(
            status=TargetStatus.FAILED,
            method=method,
            reason=f"the generated patch fails its own validation: {why}",
            validation=v,
            deviations=tuple(notes),
            learned=learned,
            warnings=warnings,
            **base,
        )
    written = None
    if output_dir is not None:
        dest = out_path(output_dir, rev.name, m.subject)
        _write(dest, text)
        written = str(dest)
    if not upstream.sha and not upstream_refs(m.message):
        warnings += ("the upstream sha is unknown: the mail has no 'commit <sha> upstream.' line",)
    if sign is None:
        warnings += (
            "no user.name/user.email in git config: the mail has no Signed-off-by of yours",
        )
    return TargetResult(
        status=TargetStatus.GENERATED,
        method=method,
        patch=written,
        deviations=tuple(notes),
        learned=learned,
        evidence=n.evidence,
        validation=v,
        warnings=warnings,
        text=text,
        **base,
    )


_FILE_SCOPE_NAME = re.compile(r"^[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*(?:\(|;|=|\[)")
_NOT_A_TYPE = frozenset({"return", "goto", "if", "else", "for", "while", "switch", "case", "do"})


def introduced(mail: Mail) -> frozenset[str]:
    """Names the fix itself declares or defines at file scope (a new helper, its prototype).

    They do not exist in the target before the fix, and must not be taken for missing
    prerequisites when another hunk or file of the same fix uses them.
    """
    out = set()
    for fp in mail.files:
        for h in fp.hunks:
            for x in h.added:
                m = _FILE_SCOPE_NAME.match(x)
                if m and x.split(None, 1)[0] not in _NOT_A_TYPE:
                    out.add(m.group(1))
    return frozenset(out)


def _without_unused_helpers(
    upstream: UpstreamFix, placed: list[Placed], has: Callable[[str], bool]
) -> tuple[UpstreamFix, list[Placed], tuple[str, ...]]:
    """Leave out an upstream file that could not be placed when it only adds helpers the tree
    lacks and no line placed elsewhere calls (the backport spells what they stand for, from
    ``queries/api-renames.toml``): the fix without those files, their placements, a note each."""
    used = {n for p in placed if p.ok for e in p.edits for n in idents(tokens(e.add))}
    kept: list[Placed] = []
    gone: list[str] = []
    notes: list[str] = []
    for fp, p in zip(upstream.mail.files, placed, strict=True):
        helpers = [] if p.ok else unused_new_helpers(fp, has, used)
        if helpers and any(q.ok for q in placed):
            gone.append(fp.source or "")
            notes.append(
                f"left out {fp.path}: it only adds {', '.join(helpers[:3])}, "
                "which this backport does not use"
            )
        else:
            kept.append(p)
    if not notes:
        return upstream, placed, ()
    return without_files(upstream, gone), kept, tuple(notes)


def _with_introduced(tree: Callable[[str], bool], names: frozenset[str]) -> Callable[[str], bool]:
    """``tree`` that also knows the names the fix introduces."""
    return lambda n: n in names or tree(n)


def backport(
    repo: Repository,
    upstream: UpstreamFix,
    refs: list[str],
    rules: tuple[Rule, ...],
    *,
    prefix: str | None = None,
    output_dir: Path | None = None,
    mainline: str | None = None,
) -> BackportRun:
    """Backport ``upstream`` to every ref (resolved first, so a typo fails before any output)."""
    if not refs:
        raise InputError("no target given", "use --onto REF (repeatable) or --branches GLOB")
    revs = [repo.resolve(r) for r in dict.fromkeys(refs)]
    if mainline is None and not upstream.in_repo:
        for cand in ("origin/master", "master", "origin/main", "main"):
            try:
                mainline = repo.resolve(cand).sha
                break
            except RepoError:
                continue
    sign = signer(repo)
    results = []
    for rev in revs:
        try:
            results.append(
                backport_one(
                    repo,
                    upstream,
                    rev,
                    rules,
                    prefix=prefix,
                    output_dir=output_dir,
                    mainline=mainline,
                    sign=sign,
                )
            )
        except ReviewbotError:
            raise
        except (
            Exception
        ) as e:  # one odd target must not hide the others' results; never a traceback
            if os.environ.get("REVIEWBOT_TRACEBACK"):
                raise
            results.append(
                TargetResult(
                    ref=rev.name,
                    sha=rev.sha,
                    kernel_version=None,
                    status=TargetStatus.FAILED,
                    reason=f"internal error: {type(e).__name__}: {e} (set REVIEWBOT_TRACEBACK=1 for details)",
                )
            )
    return BackportRun(upstream, tuple(results))
