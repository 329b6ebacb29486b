"""Where the code of an upstream file lives in the target tree (the file moved or was split).

Shared by ``backport`` (the mail patches the file where the code is) and ``validate`` (the
upstream fix is compared with a backport on that file).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import PurePosixPath

from reviewbot.backport.ctokens import tokens
from reviewbot.backport.includes import declares
from reviewbot.backport.targetfn import section_function, section_prefix
from reviewbot.diffs.patches import FilePatch
from reviewbot.git.repository import Repository, Revision
from reviewbot.history.upstream import UpstreamFix
from reviewbot.rules.records import Rule


def target_path(
    repo: Repository, rev: Revision, fp: FilePatch, rules: tuple[Rule, ...]
) -> str | None:
    """Where the file ``fp`` patches lives at ``rev``.

    The same path; else another path of a rule that names it (the file moved); else the one
    file of the same directory (then of the same top-level folder) that defines the functions
    the hunks change — code that upstream later split out into a new file (``mm/mm_init.c``
    from ``mm/page_alloc.c``) is still in the old file in older trees.
    """
    path = fp.source
    assert path is not None
    names = list(dict.fromkeys(n for h in fp.hunks if (n := section_function(h)) is not None))
    cut = list(dict.fromkeys(n for h in fp.hunks if (n := section_prefix(h)) is not None))
    if repo.blob_id(rev, path) is not None:
        if not names or any(repo.files_defining(rev, n, (path,)) for n in names):
            return path
        # the file exists but holds none of the functions (5.10's small mm/mm_init.c while
        # alloc_large_system_hash() is still in mm/page_alloc.c): look where they are
        return _defining(repo, rev, path, names) or path
    for rule in rules:
        if path in rule.paths:
            for other in rule.paths:
                if other != path and repo.blob_id(rev, other) is not None:
                    return other
    if not names and not cut:
        return None
    return _defining(repo, rev, path, names, cut)


def _defining(
    repo: Repository, rev: Revision, path: str, names: list[str], cut: Sequence[str] = ()
) -> str | None:
    """The one file of ``path``'s directory (then top-level folder) defining most of ``names``
    (and of functions whose names start with one of ``cut``, names the ``@@`` line cut off);
    else the one file of the tree that alone defines each of ``names``."""
    parts = PurePosixPath(path)
    ext = parts.suffix or ".c"
    wanted = [(n, False) for n in names] + [(n, True) for n in cut]
    for scope in (parts.parent, PurePosixPath(parts.parts[0])):
        if str(scope) in ("", "."):
            continue
        count: dict[str, int] = {}
        for n, prefix in wanted:
            for f in repo.files_defining(rev, n, (f"{scope}/*{ext}",), prefix=prefix):
                count[f] = count.get(f, 0) + 1
        if count:
            best = max(count.values())
            top = [f for f, c in count.items() if c == best]
            return top[0] if len(top) == 1 else None
    # anywhere else (6.1 has userfaultfd_must_wait() in fs/userfaultfd.c, upstream in
    # mm/userfaultfd.c): only the one file that defines every function the hunks change
    if names and not cut:
        found = [set(repo.files_defining(rev, n, (f"*{ext}",))) for n in names]
        common = set.intersection(*found)
        if len(common) == 1 and all(len(f) == 1 for f in found):
            return common.pop()
    return None


def left_out(
    repo: Repository, rev: Revision, fp: FilePatch, others: Sequence[FilePatch]
) -> str | None:
    """Why upstream's change to ``fp``, which has no home at ``rev``, may be left out of the
    backport: the target lacks the whole folder (``rust/`` before 6.1, a subsystem that came
    later), and no other file of the fix uses a name the change adds there. None otherwise."""
    assert fp.source is not None
    folder = repo.missing_folder(rev, fp.source)
    if folder is None:
        return None
    new = declares("\n".join(x for h in fp.hunks for x in h.added), fp.source)
    used = {t for o in others for h in o.hunks for t in tokens(h.added)}
    if new & used:
        return None
    return f"{fp.source}: left out, {folder}/ is not in the tree"


def leave_out(
    repo: Repository, rev: Revision, upstream: UpstreamFix, homed: Collection[str]
) -> tuple[UpstreamFix, tuple[str, ...]]:
    """The upstream fix without the files :func:`left_out` lets go (``homed``: the upstream
    paths that have a home in the target), and a note for each; the fix as it is when none
    goes or when no file would be left."""
    others = [fp for fp in upstream.mail.files if fp.source in homed]
    if not others:
        return upstream, ()
    gone: dict[str, str] = {}
    for fp in upstream.mail.files:
        if fp.source is not None and fp.source not in homed:
            why = left_out(repo, rev, fp, others)
            if why is not None:
                gone[fp.source] = why
    if not gone:
        return upstream, ()
    return without_files(upstream, gone), tuple(gone.values())


def without_files(upstream: UpstreamFix, gone: Collection[str]) -> UpstreamFix:
    """The upstream fix without the files whose upstream paths are ``gone``."""
    files = tuple(fp for fp in upstream.mail.files if fp.source not in gone)
    pre = {k: v for k, v in upstream.pre.items() if k not in gone}
    return UpstreamFix(replace(upstream.mail, files=files), upstream.sha, pre)


def retarget(upstream: UpstreamFix, paths: dict[str, str]) -> UpstreamFix:
    """The upstream fix with its paths renamed to where the files live in the target."""
    if all(a == b for a, b in paths.items()):
        return upstream
    files = tuple(
        fp
        if fp.source is None
        else replace(
            fp, source=paths.get(fp.source, fp.source), target=paths.get(fp.source, fp.target)
        )
        for fp in upstream.mail.files
    )
    pre = {paths.get(k, k): v for k, v in upstream.pre.items()}
    return UpstreamFix(replace(upstream.mail, files=files), upstream.sha, pre)
