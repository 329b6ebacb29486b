"""Where the code of an upstream file lives in the target tree (the file moved or was split).

Shared by ``backport`` (the mail patches the file where the code is) and ``validate`` (the
upstream fix is compared with a backport on that file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePosixPath

from reviewbot.backport.targetfn import section_function, section_prefix
from reviewbot.diffs.patches import FilePatch
from reviewbot.git.repository import Repository, Revision
from reviewbot.history.upstream import UpstreamFix
from reviewbot.rules.spec import Rule


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
    (and of functions whose names start with one of ``cut``, names the ``@@`` line cut off)."""
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
    return None


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
