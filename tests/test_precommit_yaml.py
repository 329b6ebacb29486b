"""``.pre-commit-hooks.yaml``: the pre-commit framework's entry runs our hook on the rule files."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from reviewbot.hooks.install import covered_paths
from reviewbot.rules.spec import builtin_rules

YAML = Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml"


def _field(text: str, key: str) -> str:
    m = re.search(rf"^  {key}: (.*)$", text, re.M)
    assert m, key
    return m.group(1).strip()


def test_files_pattern_matches_exactly_the_rule_paths():
    text = YAML.read_text()
    pattern = re.compile(_field(text, "files"))  # pre-commit uses re.search on each staged path
    for path in covered_paths(builtin_rules()):
        assert pattern.search(path), path
    for other in ("mm/memory.c", "xmm/khugepaged.c", "mm/khugepaged.c.orig", "Makefile"):
        assert not pattern.search(other), other


def test_entry_is_the_hook_command_and_takes_no_file_names():
    text = YAML.read_text()
    assert shlex.split(_field(text, "entry")) == ["reviewbot", "hook", "run", "pre-commit"]
    assert _field(text, "pass_filenames") == "false"
    assert _field(text, "language") == "python"
