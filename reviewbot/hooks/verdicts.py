"""What a hook concludes: how each check's verdict moved between two trees, and the lines to print.

Shared by both hooks (``precommit`` for the index, ``gate`` for mailed patches); light on
purpose (the checker and the rules, no GitPython, no diff parser), because the pre-commit hook
pays for every import on every commit that stages a guarded file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reviewbot.checker.check import check_first_present
from reviewbot.model.results import CheckResult, FileResult, Status, VersionInfo
from reviewbot.rules.records import Rule

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


def compare_trees(
    rules: tuple[Rule, ...],
    touched: set[str],
    before: Blobs,
    after: Blobs,
    version: VersionInfo,
    labels: tuple[str | None, str | None],
) -> list[Change]:
    """The changes of every rule whose files the change touches, only about touched files."""
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


def hook_lines(
    reports: Sequence[GateReport], bypass: str, strict: bool, fail_closed: bool
) -> tuple[list[str], bool]:
    """The lines a hook prints on stderr for its reports, and whether it refuses.

    ``bypass`` says how to go ahead anyway (``git commit --no-verify``).
    """
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
