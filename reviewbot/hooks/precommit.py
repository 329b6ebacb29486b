"""The pre-commit hook: do the staged blobs of a rule's files lose a guard HEAD has?

Reads the index against HEAD with :func:`reviewbot.git.staged.read_staged` (two git processes,
``GIT_INDEX_FILE`` honoured, never the work tree) and compares the rules' verdicts on both
sides with the kernel version of HEAD (of the staged Makefile before the first commit). Only
files the change touches are reported on. Light on purpose: this runs on every commit that
stages a guarded file, so it needs neither GitPython nor the diff parser.
"""

from __future__ import annotations

import os
from dataclasses import replace

from reviewbot.checker.check import tree_version
from reviewbot.git.staged import read_staged
from reviewbot.hooks.install import covered_paths
from reviewbot.hooks.verdicts import GateReport, compare_trees, hook_lines
from reviewbot.rules.records import Rule
from reviewbot.rules.spec import evidence_headers


def gate_index(
    directory: str | os.PathLike[str], rules: tuple[Rule, ...], strict: bool = False
) -> GateReport:
    """pre-commit: the staged blobs of every rule file in ``directory``'s repository against HEAD."""
    paths = covered_paths(rules)
    report = GateReport(
        "the staged changes", "HEAD", "the staged version", "in the staged version", strict
    )
    extra = ["Makefile", *sorted(evidence_headers(rules))]
    snap = read_staged(directory, paths, extra)
    if not snap.staged:
        return report
    if snap.unborn:
        version = tree_version(snap.index.get, "the staged tree", rules)
    else:
        version = tree_version(snap.head.get, "HEAD", rules)
    before = {p: snap.head[p] for p in paths}
    changes = compare_trees(rules, set(snap.staged), before, snap.index, version, ("HEAD", None))
    return replace(report, changes=tuple(changes))


def run_precommit(
    directory: str | os.PathLike[str],
    rules: tuple[Rule, ...],
    strict: bool,
    fail_closed: bool = False,
) -> tuple[list[str], bool]:
    """The pre-commit hook: the lines to print on stderr, and whether the commit is refused."""
    report = replace(gate_index(directory, rules, strict), fail_closed=fail_closed)
    return hook_lines(
        [report], "commit refused; to commit anyway: git commit --no-verify", strict, fail_closed
    )
