"""The upstream fix: one value for what ``report`` tracks and what ``backport``/``validate`` port.

A fix is a patch mail (parsed from ``git format-patch`` of a commit in the repository, or from a
format-patch/mbox file), plus what the repository knows about it: its sha, whether the commit is
there, its ``git patch-id --stable`` and the pre-image blobs its hunks apply to.

Two readings of a commit exist on purpose, and keep their own constructors:

- :func:`load_fix` (``reviewbot report``) reads the commit the way ``git format-patch`` shows it
  and takes its patch-id, so a stable branch's copy of it is recognised;
- :func:`upstream_from_commit` (``backport``, ``validate``) reads it with ``--no-renames`` and
  keeps the parent's blobs, so every hunk names the path its pre-image lives at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.diffs.patches import ApplyFailure, Mail, apply_file, parse_mail, read_mail
from reviewbot.git.repository import Repository, Revision
from reviewbot.model.errors import InputError, PatchError, RepoError


@dataclass(frozen=True)
class UpstreamFix:
    """The upstream fix: its mail, its sha when known, and what the repository holds of it."""

    mail: Mail
    sha: str | None = None  # full sha (in the repo, or the mail's ``From <sha>`` line)
    # the pre-image blobs by path, when available; not part of the hash (a dict is unhashable)
    pre: dict[str, bytes] = field(default_factory=dict, hash=False)
    in_repo: bool = False  # the commit ``sha`` exists in the repository
    patch_id: str | None = None  # ``git patch-id --stable``, when it was taken
    origin: str = ""  # what the user gave: a sha/ref or a file path

    @property
    def subject(self) -> str:
        """The mail's subject, without its ``[PATCH ...]`` prefix."""
        return self.mail.subject

    @property
    def author(self) -> str | None:
        """The mail's ``From:``."""
        return self.mail.author

    @property
    def fixes(self) -> tuple[tuple[str, str | None], ...]:
        """``Fixes:`` tags: (abbreviated sha, subject)."""
        return tuple(self.mail.fixes)

    @property
    def short(self) -> str:
        """The sha abbreviated to 12 digits, or ``(no sha)``."""
        return self.sha[:12] if self.sha else "(no sha)"

    @property
    def label(self) -> str:
        """``<sha12> ("subject")``, or the quoted subject alone without a sha."""
        return f'{self.sha[:12]} ("{self.mail.subject}")' if self.sha else f'"{self.mail.subject}"'

    @property
    def paths(self) -> tuple[str, ...]:
        """Files the fix changes."""
        return tuple(sorted({f.path for f in self.mail.files}))


# --- the report's reading ------------------------------------------------------------------


def load_fix(repo: Repository, spec: str) -> UpstreamFix:
    """A fix from a sha/ref in the repository, or from a format-patch/mbox file (one patch)."""
    p = Path(spec).expanduser()
    if p.is_file():
        try:
            data = p.read_bytes()
        except OSError as e:
            raise InputError(f"{p}: cannot read: {e.strerror}") from None
        mail = read_mail(data, str(p))
        full = repo.commit_exists(mail.from_sha) if mail.from_sha else None
        return UpstreamFix(
            mail=mail,
            sha=full or mail.from_sha,
            patch_id=repo.patch_id_of(mail.diff),
            in_repo=full is not None,
            origin=spec,
        )
    if p.is_dir():
        raise InputError(f"{spec}: is a directory", "give a commit or a format-patch file")
    full = repo.commit_exists(spec)
    if full is None:
        if "/" in spec or spec.endswith((".patch", ".mbox", ".eml", ".diff")):
            raise InputError(f"{spec}: no such file")
        hint = (
            "the clone is shallow: fetch more history"
            if repo.shallow
            else "give the patch file when the repository lacks the commit"
        )
        raise RepoError(f"unknown revision {spec!r} in {repo.path}", hint)
    _one_parent(repo.resolve(spec))
    text = repo.format_patch(full)
    try:
        mail = read_mail(text.encode("utf-8", "surrogateescape"), f"commit {full[:12]}")
    except PatchError as e:
        raise InputError(
            f"commit {full[:12]} has no usable diff ({e.message})",
            "give the fix commit itself, not a merge",
        ) from None
    return UpstreamFix(
        mail=mail, sha=full, patch_id=repo.patch_id_of(text), in_repo=True, origin=spec
    )


# --- the backport's reading ----------------------------------------------------------------


def _one_parent(rev: Revision) -> None:
    """Refuse a root commit (it adds a whole tree: formatting an imported kernel as a "fix"
    would diff gigabytes) and a merge (no single diff): a fix has exactly one parent."""
    if len(rev.commit.parents) != 1:
        raise RepoError(
            f"{rev.name} is a {'root' if not rev.commit.parents else 'merge'} commit; give the fix commit itself"
        )


def upstream_from_commit(repo: Repository, rev: Revision) -> UpstreamFix:
    """The fix as ``git format-patch`` writes it, with its parent's blobs as the pre-image."""
    _one_parent(rev)
    text = repo.format_patch(rev.sha, renames=False)
    mail = parse_mail(text + ("\n" if not text.endswith("\n") else ""), f"commit {rev.sha[:12]}")
    parent = Revision(rev.sha + "^", rev.commit.parents[0].hexsha, rev.commit.parents[0])
    pre = {
        fp.source: b
        for fp in mail.files
        if fp.source and (b := repo.blob(parent, fp.source)) is not None
    }
    return UpstreamFix(mail, rev.sha, pre, True)


def upstream_from_mail(repo: Repository | None, mail: Mail) -> UpstreamFix:
    """An upstream fix given as a mail: find its commit or its pre-image blobs in ``repo``."""
    if repo is None:
        return UpstreamFix(mail, mail.from_sha)
    if mail.from_sha and set(mail.from_sha) != {"0"}:
        try:
            rev = repo.resolve(mail.from_sha)
            if len(rev.commit.parents) == 1:
                up = upstream_from_commit(repo, rev)
                return UpstreamFix(mail, rev.sha, up.pre, True)
        except RepoError:
            pass
    pre = {}
    for fp in mail.files:
        if fp.source and fp.index:
            data = repo.blob_by_prefix(fp.index[0])
            if data is not None and not isinstance(apply_file(data, fp), ApplyFailure):
                pre[fp.source] = data
    sha = mail.from_sha if mail.from_sha and set(mail.from_sha) != {"0"} else None
    return UpstreamFix(mail, sha, pre)


def upstream_from_spec(
    repo: Repository, commit: str | None, mail: Mail | None, option: str | None = None
) -> UpstreamFix:
    """The upstream fix from a patch mail when given, else from a commit of the repository.

    ``option`` names a flag that takes either (``--upstream``): an unknown commit is then
    reported as "neither a file nor a commit".
    """
    if mail is not None:
        return upstream_from_mail(repo, mail)
    assert commit is not None, "give the fix as a commit or as a mail"
    try:
        return upstream_from_commit(repo, repo.resolve(commit))
    except RepoError:
        if option is None:
            raise
        raise InputError(
            f"{option} {commit!r} is neither a file nor a commit in the repository"
        ) from None
