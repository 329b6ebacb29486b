"""Run a rule's own examples (``[[tests]]`` in its file), as ast-grep and semgrep test rules.

Each example is checked with exactly the engine ``reviewbot check`` uses; it passes when every
verdict it names is the expected one (and every message fragment it names appears).
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.checker.check import check_source
from reviewbot.model.errors import ReviewbotError
from reviewbot.model.results import CheckResult, VersionInfo, worst
from reviewbot.model.versions import KernelVersion
from reviewbot.rules.records import Example, Rule


@dataclass(frozen=True)
class ExampleOutcome:
    """What one example of one rule gave: passed, or each way it differs from its expectation."""

    rule: str
    example: Example
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """No expectation was contradicted."""
        return not self.failures


def _matches(c: CheckResult, key: str) -> bool:
    return key in (c.id, c.site, f"{c.id}/{c.site}")


def run_example(rule: Rule, example: Example) -> ExampleOutcome:
    """Check ``example.code`` with ``rule`` and compare with its expected verdicts."""
    if example.kernel_version is not None:
        kv = str(KernelVersion.parse(example.kernel_version))
        version = VersionInfo(kv, "flag", "the example's kernel_version")
    else:
        version = VersionInfo(None, "unknown")
    try:
        (result,) = check_source(example.code, example.path, (rule,), version)
    except ReviewbotError as e:
        return ExampleOutcome(rule.id, example, (f"cannot be checked: {e}",))
    failures = []
    for key, expected in example.expect:
        got = [c for c in result.checks if _matches(c, key)]
        status = worst(c.status for c in got)
        if status is None or str(status) != str(expected):
            detail = "; ".join(c.message for c in got if c.message) or "no such verdict"
            failures.append(f"{key}: expected {expected}, got {status or 'nothing'} ({detail})")
    for key, fragment in example.message:
        got = [c for c in result.checks if _matches(c, key)]
        if not any(fragment in c.message for c in got):
            said = "; ".join(c.message for c in got) or "no such verdict"
            failures.append(f"{key}: message lacks {fragment!r} ({said})")
    return ExampleOutcome(rule.id, example, tuple(failures))


def run_examples(rules: tuple[Rule, ...]) -> list[ExampleOutcome]:
    """Every example of every rule, in rule then file order."""
    return [run_example(rule, ex) for rule in rules for ex in rule.examples]
