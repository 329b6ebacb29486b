"""What the git hooks run: does a commit or a mailed patch lose a uffd-wp guard?

``gate_commit`` (pre-commit, :mod:`reviewbot.hooks.precommit`) compares the *staged* blobs —
read with ``git diff-index --cached`` and ``git cat-file``, which honour ``GIT_INDEX_FILE`` (git
commit -a / git commit PATH use a temporary index) and never look at the worktree — with HEAD.
``gate_patch``
(sendemail-validate) applies each patch in memory to its base (the parent of the commit named in
its ``From <sha>`` line when the repository has it, else HEAD; a patch already committed at
HEAD is reverse-applied) and compares before with after. Both run the rule's checks
(``check.check_source``) on the two sides with the kernel version of the base (``sweep.version_at``)
and report, per check:

- ``lost`` — present before, missing after: the change is refused (exit 1);
- ``still-missing`` / ``missing`` — missing after and not present before: a warning, refused only
  with ``git config reviewbot.strict true`` (or ``--strict``);
- ``restored`` — missing before, present after (said, never refused).

A patch carrying ``Cc: stable`` that touches a rule file is also validated like a backport by
``reviewbot.validate`` when that module is available (a separate issue); otherwise the step is
skipped with a note. Nothing here writes to the repository.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from reviewbot.diffs.patches import ApplyFailure, FilePatch, Mail, apply_file, read_mails
from reviewbot.git.repository import Repository, Revision
from reviewbot.history.sweep import version_at
from reviewbot.hooks.install import covered_paths
from reviewbot.hooks.precommit import gate_index, run_precommit
from reviewbot.hooks.verdicts import (
    Change,
    GateReport,
    check_blobs,
    compare,
    compare_trees,
    hook_lines,
)
from reviewbot.model.errors import InputError, RepoError
from reviewbot.model.fileio import read_file
from reviewbot.model.results import VersionInfo
from reviewbot.rules.records import Rule

Blobs = Mapping[str, bytes | None]

__all__ = [
    "Change",
    "GateReport",
    "check_blobs",
    "compare",
    "gate_commit",
    "gate_patch",
    "run_hook",
]


def gate_commit(repo: Repository, rules: tuple[Rule, ...], strict: bool = False) -> GateReport:
    """pre-commit: the staged blobs of every rule file against HEAD's verdicts (``precommit``)."""
    return gate_index(repo.top, rules, strict)


# --- sendemail-validate ---------------------------------------------------------------


def _touched(mail: Mail, paths: list[str]) -> set[str]:
    return {p for f in mail.files for p in (f.source, f.target) if p in paths}


def _apply(blobs: Blobs, files: list[FilePatch]) -> dict[str, bytes | None] | str:
    """Apply ``files`` to ``blobs`` in memory; a string says why it does not apply."""
    out = dict(blobs)
    for fp in files:
        if fp.source is None:
            if fp.target is not None and out.get(fp.target) is not None:
                return f"{fp.target}: the patch creates it, but it exists"
            original = b""
        else:
            existing = out.get(fp.source)
            if existing is None:
                return f"{fp.source}: no such file"
            original = existing
        res = apply_file(original, fp)
        if isinstance(res, ApplyFailure):
            return f"{fp.path}: {res}"
        if fp.source is not None and fp.source != fp.target:
            out[fp.source] = None
        if fp.target is not None:
            out[fp.target] = res.data
    return out


@dataclass(frozen=True)
class _Sides:
    before: Blobs
    after: Blobs
    base: Revision | None  # where the patch applies (None: unknown / empty tree)
    before_name: str


def _from_commit(repo: Repository, mail: Mail) -> Revision | None:
    """The parent of the commit in the mail's ``From <sha>`` line, when the repository has it."""
    if not mail.from_sha:
        return None
    try:
        commit = repo.resolve(mail.from_sha)
    except RepoError:
        return None
    if not commit.commit.parents:
        return None  # a root commit, or the boundary of a shallow clone
    try:
        return repo.resolve(f"{mail.from_sha}^")
    except RepoError:
        return None


def _sides(repo: Repository, mail: Mail, paths: list[str]) -> _Sides | str:
    files = [f for f in mail.files if f.source in paths or f.target in paths]
    head = repo.head()
    bases: list[tuple[Revision | None, str]] = []
    parent = _from_commit(repo, mail)
    if parent is not None:
        bases.append((parent, f"the patch's parent {parent.sha[:12]}"))
    bases.append((head, "HEAD"))
    failures = []
    for rev, name in bases:
        blobs = {p: (repo.blob(rev, p) if rev is not None else None) for p in paths}
        applied = _apply(blobs, files)
        if not isinstance(applied, str):
            return _Sides(blobs, applied, rev, name)
        failures.append(f"{name}: {applied}")
    if head is not None:  # already committed at HEAD (git format-patch of the last commits)
        blobs = {p: repo.blob(head, p) for p in paths}
        undone = _apply(blobs, [f.reversed() for f in reversed(files)])
        if not isinstance(undone, str):
            return _Sides(undone, blobs, None, "HEAD without the patch")
    return "; ".join(failures)


def _validate_module():
    """``reviewbot.validate`` (issue 4) when installed; None when the module does not exist."""
    try:
        return importlib.import_module("reviewbot.backport.validate")
    except ModuleNotFoundError as e:
        if e.name != "reviewbot.backport.validate":
            raise  # the module exists but is broken: say so, do not skip silently
        return None


def _validation_step(
    repo: Repository, mail: Mail, onto: Revision, rules: tuple[Rule, ...], strict: bool = False
) -> tuple[bool | None, list[str]]:
    """Backport validation of a ``Cc: stable`` patch, with the verdict ``reviewbot validate``
    gives (``strict``: any deviation from upstream is refused, as ``validate --strict``).

    Returns (accepted, reasons); accepted is None when the step was skipped. Reasons are read
    from the result's ``reasons``/``problems``/``messages``/``findings`` (first non-empty).
    """
    validation = _validate_module()
    if validation is None:
        return None, [
            "Cc: stable: backport validation skipped (reviewbot.validate is not available)"
        ]
    result = validation.validate(repo, mail, onto, rules, strict=strict)
    reasons: list[str] = []
    for attr in ("reasons", "problems", "messages", "findings"):
        items = getattr(result, attr, None)
        if items:
            reasons = [str(x) for x in items]
            break
    return bool(result.accepted), reasons


def gate_mail(
    repo: Repository, mail: Mail, subject: str, rules: tuple[Rule, ...], strict: bool = False
) -> GateReport:
    """sendemail-validate for one patch: does applying it lose a guard?"""
    paths = covered_paths(rules)
    touched = _touched(mail, paths)
    report = GateReport(subject, "HEAD", "the patch", "after the patch", strict)
    if not touched:
        return report
    sides = _sides(repo, mail, paths)
    if isinstance(sides, str):
        return replace(
            report,
            unchecked=True,
            notes=(f"warning: the patch does not apply ({sides}); guards not checked",),
        )
    version = (
        version_at(repo, sides.base, rules)
        if sides.base is not None
        else _head_version(repo, rules)
    )
    changes = compare_trees(
        rules, touched, sides.before, sides.after, version, (sides.before_name, None)
    )
    notes: list[str] = []
    rejected: list[str] = []
    if mail.cc_stable:
        onto = sides.base
        if onto is None:
            notes.append(
                "Cc: stable: backport validation skipped (no base revision the patch applies to)"
            )
        else:
            accepted, reasons = _validation_step(repo, mail, onto, rules, strict)
            if accepted is None:
                notes += reasons
            elif not accepted:
                # the guard loss is already a change above: the validation's "guards" verdict
                # says the same thing, once is enough
                if any(c.kind == "lost" for c in changes):
                    reasons = [r for r in reasons if not r.startswith("guards:")]
                rejected = reasons or ([] if changes else ["rejected"])
    return replace(
        report,
        before_name=sides.before_name,
        changes=tuple(changes),
        notes=tuple(notes),
        rejected_by=tuple(rejected),
    )


def _head_version(repo: Repository, rules: tuple[Rule, ...]) -> VersionInfo:
    head = repo.head()
    return version_at(repo, head, rules) if head is not None else VersionInfo(None, "unknown")


def gate_patch(
    repo: Repository, data: bytes, name: str, rules: tuple[Rule, ...], strict: bool = False
) -> list[GateReport]:
    """sendemail-validate: every patch in a file (an mbox is handled one mail at a time)."""
    mails = read_mails(data, name)
    if len(mails) == 1:
        return [gate_mail(repo, mails[0], name, rules, strict)]
    return [
        gate_mail(repo, m, f"{name} (patch {i})", rules, strict) for i, m in enumerate(mails, 1)
    ]


def run_hook(
    repo: Repository,
    hook: str,
    files: list[Path],
    rules: tuple[Rule, ...],
    strict: bool,
    fail_closed: bool = False,
) -> tuple[list[str], bool]:
    """Run ``pre-commit`` or ``sendemail-validate``: the lines to print on stderr, and whether
    the commit or mail is refused (``fail_closed``: also when it could not be checked)."""
    if hook == "pre-commit":
        if files:
            raise InputError("pre-commit takes no FILE: it checks the index")
        return run_precommit(repo.top, rules, strict, fail_closed)
    if not files:
        raise InputError("sendemail-validate needs the patch FILE")
    reports = gate_patch(repo, read_file(files[0], "patch"), files[0].name, rules, strict)
    reports = [replace(r, fail_closed=fail_closed) for r in reports]
    return hook_lines(
        reports, "patch refused; to send anyway: git send-email --no-validate", strict, fail_closed
    )
