"""What the git hooks run: does a commit or a mailed patch lose a uffd-wp guard?

``gate_commit`` (pre-commit) compares the *staged* blobs — read with ``git ls-files -s`` and the
object database, which honours ``GIT_INDEX_FILE`` (git commit -a / git commit PATH use a
temporary index) and never looks at the worktree — with HEAD. ``gate_patch``
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
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewbot.checker.check import check_first_present
from reviewbot.diffs.patches import ApplyFailure, FilePatch, Mail, apply_file, read_mails
from reviewbot.git.repository import Repository, Revision
from reviewbot.history.sweep import version_at
from reviewbot.hooks.install import covered_paths
from reviewbot.model.errors import InputError, RepoError
from reviewbot.model.fileio import read_file
from reviewbot.model.results import CheckResult, FileResult, Status, VersionInfo
from reviewbot.model.versions import version_from_makefile
from reviewbot.rules.spec import Rule

Blobs = Mapping[str, bytes | None]


@dataclass(frozen=True)
class Change:
    """How one check's verdict moved between the two sides."""

    rule: str
    key: str  # "isolate", "file/retract"
    kind: str  # lost | still-missing | missing | restored
    before: CheckResult | None
    after: CheckResult | None
    guard: str = "guard"  # the rule's word for it ("uffd-wp guard"): its [vocabulary] guard

    def blocks(self, strict: bool) -> bool:
        """Does this change refuse the commit or patch?"""
        return self.kind == "lost" or (strict and self.kind in ("still-missing", "missing"))

    def describe(self, before_name: str, actor: str, after_where: str) -> str:
        """One line naming the rule, the check, the function and where the guard was."""
        b, a = self.before, self.after
        where = f"{self.rule} {self.key}"
        after_msg = (
            a.message if a is not None else f"none of the rule's files is left {after_where}"
        )
        if self.kind == "lost":
            fn = b.function if b is not None else "?"
            line = (
                f"{b.path}:{b.line}"
                if b is not None and b.line
                else (b.path if b is not None else "?")
            )
            return f"{where}: {actor} loses the {self.guard} of {fn}() (at {line} in {before_name}): {after_msg}"
        if self.kind == "restored":
            return f"{where}: {actor} adds the {self.guard} missing in {before_name}: {after_msg}"
        fn = (a.function if a is not None else None) or (b.function if b is not None else None)
        subject = f"{fn}()" if fn else "the guarded function"
        already = f" (nor in {before_name})" if self.kind == "still-missing" else ""
        return (
            f"{where}: warning: {subject} has no {self.guard} {after_where}{already}: {after_msg}"
        )


@dataclass(frozen=True)
class GateReport:
    """The verdict on one commit or one patch."""

    subject: str  # "the staged changes", "0001-x.patch", "0001-x.patch (patch 2)"
    before_name: str  # "HEAD", "the patch's parent 1234abcd5678", "HEAD without the patch"
    actor: str  # "the staged version", "the patch"
    after_where: str  # "in the staged version", "after the patch"
    strict: bool
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()
    unchecked: bool = False  # the change could not be checked (does not apply ...)
    rejected_by: tuple[str, ...] = field(default=())  # backport-validation reasons that refuse
    fail_closed: bool = False  # git config reviewbot.failClosed: what cannot be checked is refused

    @property
    def blocked(self) -> bool:
        """True when the commit/patch must be refused."""
        return (
            any(c.blocks(self.strict) for c in self.changes)
            or bool(self.rejected_by)
            or ((self.strict or self.fail_closed) and self.unchecked)
        )

    def lines(self) -> list[str]:
        """Human-readable lines (empty when there is nothing to say)."""
        out = [c.describe(self.before_name, self.actor, self.after_where) for c in self.changes]
        out += self.notes
        out += [f"backport validation rejects it: {r}" for r in self.rejected_by]
        return out


# --- comparing verdicts ---------------------------------------------------------------


def check_blobs(
    blobs: Blobs, rule: Rule, version: VersionInfo, label: str | None
) -> FileResult | None:
    """Check ``rule`` on a tree given as path -> bytes (None: no such file), like ``sweep.check_ref``.

    The first of the rule's paths that exists is checked; later ones are searched only for
    functions not found in it. None when none of the rule's files exists.
    """
    checked = check_first_present(blobs.get, rule, version, label)
    return checked.result if checked is not None else None


def compare(
    rule: str, before: FileResult | None, after: FileResult | None, guard: str = "guard"
) -> list[Change]:
    """The changes between two verdict sets of one rule, sorted by check key (``guard``: the
    rule's word for what a check looks for)."""
    b = {c.key: c for c in before.checks} if before else {}
    a = {c.key: c for c in after.checks} if after else {}
    out = []
    for key in sorted(set(b) | set(a)):
        old, new = b.get(key), a.get(key)
        new_missing = new is None or new.status is Status.MISSING
        if new_missing and old is not None and old.status is Status.PRESENT:
            out.append(Change(rule, key, "lost", old, new, guard))
        elif new is not None and new.status is Status.MISSING:
            kind = (
                "still-missing" if old is not None and old.status is Status.MISSING else "missing"
            )
            out.append(Change(rule, key, kind, old, new, guard))
        elif (
            new is not None
            and new.status is Status.PRESENT
            and old is not None
            and old.status is Status.MISSING
        ):
            out.append(Change(rule, key, "restored", old, new, guard))
    return out


def _compare_trees(
    rules: tuple[Rule, ...],
    touched: set[str],
    before: Blobs,
    after: Blobs,
    version: VersionInfo,
    labels: tuple[str | None, str | None],
) -> list[Change]:
    changes: list[Change] = []
    for rule in rules:
        if not touched & set(rule.paths):
            continue
        b = check_blobs(before, rule, version, labels[0])
        a = check_blobs(after, rule, version, labels[1])
        # only about files the change touches: an edit of one file says nothing of another's guard
        changes += [
            c for c in compare(rule.id, b, a, rule.vocabulary.guard) if _in_touched(c, touched)
        ]
    return changes


def _in_touched(change: Change, touched: set[str]) -> bool:
    where = {r.path for r in (change.before, change.after) if r is not None and r.path}
    return not where or bool(where & touched)


# --- pre-commit -----------------------------------------------------------------------


def _version_without_head(blobs: Blobs) -> VersionInfo:
    mk = blobs.get("Makefile")
    kv = version_from_makefile(mk) if mk else None
    if kv is None:
        return VersionInfo(None, "unknown", "no commit yet")
    return VersionInfo(str(kv), "makefile", "staged Makefile")


def gate_commit(repo: Repository, rules: tuple[Rule, ...], strict: bool = False) -> GateReport:
    """pre-commit: the staged blobs of every rule file against HEAD's verdicts."""
    paths = covered_paths(rules)
    staged = repo.staged(paths)
    report = GateReport(
        "the staged changes", "HEAD", "the staged version", "in the staged version", strict
    )
    if not staged:
        return report
    head = repo.head()
    after = repo.index_blobs(paths)
    if head is None:
        before: dict[str, bytes | None] = dict.fromkeys(paths)
        version = _version_without_head(repo.index_blobs(["Makefile"]))
    else:
        before = {p: repo.blob(head, p) for p in paths}
        version = version_at(repo, head, rules)
    changes = _compare_trees(rules, set(staged), before, after, version, ("HEAD", None))
    return replace(report, changes=tuple(changes))


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
    changes = _compare_trees(
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
        reports = [gate_commit(repo, rules, strict)]
        bypass = "commit refused; to commit anyway: git commit --no-verify"
    else:
        if not files:
            raise InputError("sendemail-validate needs the patch FILE")
        reports = gate_patch(repo, read_file(files[0], "patch"), files[0].name, rules, strict)
        bypass = "patch refused; to send anyway: git send-email --no-validate"
    reports = [replace(r, fail_closed=fail_closed) for r in reports]
    out: list[str] = []
    blocked = False
    for report in reports:
        prefix = f"reviewbot: {report.subject}: " if len(reports) > 1 else "reviewbot: "
        out += [prefix + line for line in report.lines()]
        blocked |= report.blocked
    if blocked:
        if strict and not any(c.kind == "lost" for r in reports for c in r.changes):
            out.append(
                "reviewbot: strict mode (reviewbot.strict / --strict) refuses missing guards too"
            )
        if fail_closed and not strict and any(r.unchecked for r in reports):
            out.append("reviewbot: reviewbot.failClosed refuses what cannot be checked")
        out.append(f"reviewbot: {bypass}")
    return out, blocked
