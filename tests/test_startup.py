"""Start-up path: commands that do not need tree-sitter or GitPython do not import them.

The git hooks and `--help` must start fast; the heavy imports belong inside the commands that
read git objects or parse C (measured in bench/hook_bench.py; this test keeps it from rotting).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from gitenv import isolate_git, kernel_repo

PROBE = """
import sys
sys.argv = ["reviewbot", *{args!r}]
from reviewbot.cli.app import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in ("git", "tree_sitter", "tree_sitter_c", "unidiff", "rich") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


def heavy_after(args: list[str]) -> set[str]:
    p = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True
    )
    line = [x for x in p.stderr.splitlines() if x.startswith("HEAVY=")][-1]
    return {m for m in line[6:].split(",") if m}


@pytest.mark.parametrize("args", [["--help"], ["rules"], ["hook", "--help"]])
def test_light_commands_import_no_parser_and_no_gitpython(args):
    assert not heavy_after(args) & {"git", "tree_sitter", "tree_sitter_c", "unidiff"}


@pytest.mark.slow
def test_hook_install_and_uninstall_stay_light(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo = kernel_repo(tmp_path)
    for args in (
        ["hook", "install", "--repo", str(repo)],
        ["hook", "uninstall", "--repo", str(repo)],
    ):
        assert not heavy_after(args) & {"git", "tree_sitter", "tree_sitter_c", "unidiff"}, args


def test_the_probe_can_see_heavy_imports(tmp_path):
    p = tmp_path / "x.c"
    p.write_bytes(b"int x;\n")
    assert "tree_sitter" in heavy_after(["check", str(p)])
