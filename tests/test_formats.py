"""Every ``--format`` a command offers works (issue 11), and ``git config reviewbot.*`` is
honoured by every command that reads rules or writes files.

The choices are read from the CLI itself, so a format added later is tested without editing
this file. Runs on the bundled demo history (real git, built once per module).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import typer.main
from histories import build, era
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.demo import populate
from reviewbot.git.fastimport import HistoryBuilder

runner = CliRunner()


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "linux.git"
    named = populate(HistoryBuilder(path, bare=True))
    git("config", "user.name", "Stable Tester", cwd=path)
    git("config", "user.email", "stable-tester@example.org", cwd=path)
    patch = path.parent / "backport.patch"
    patch.write_text(
        git("format-patch", "-1", "--stdout", named["backport-linux-5.10.y"], cwd=path)
    )
    return path, named, patch


def format_choices(command: str) -> list[str]:
    cmd = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    (param,) = [p for p in cmd.params if "--format" in getattr(p, "opts", ())]
    return list(param.type.choices)


def command_args(command: str, demo, tmp_path: Path) -> list[str]:
    path, named, patch = demo
    return {
        "check": ["check", "--repo", str(path), "--rev", "v5.10.178"],
        "rules": ["rules"],
        "sweep": ["sweep", "--repo", str(path), "--no-cache"],
        "report": ["report", "--repo", str(path), "--fix", named["fix"], "--no-cache"],
        "backport": [
            "backport",
            "--repo",
            str(path),
            "--commit",
            named["fix"],
            "--onto",
            "v5.10.178",
            "--output-dir",
            str(tmp_path / "mails"),
        ],
        "validate": ["validate", "--repo", str(path), "--patch", str(patch), "--onto", "v5.10.178"],
        "demo": ["demo", "--dir", str(tmp_path / "demo"), "--output-dir", str(tmp_path / "rep")],
    }[command]


COMMANDS = ["check", "rules", "sweep", "report", "backport", "validate", "demo"]


def test_every_command_with_a_format_is_covered():
    root = typer.main.get_command(app)
    with_format = {
        name
        for name, cmd in root.commands.items()  # type: ignore[attr-defined]
        if any("--format" in getattr(p, "opts", ()) for p in cmd.params)
    }
    assert with_format == set(COMMANDS)


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_every_offered_format_works(command, demo, tmp_path):
    choices = format_choices(command)
    assert "text" in choices and "json" in choices
    for fmt in choices:
        r = runner.invoke(app, [*command_args(command, demo, tmp_path), "--format", fmt])
        assert r.exit_code in (0, 1), (command, fmt, r.stderr)
        assert "error" not in r.stderr, (command, fmt, r.stderr)
        out = r.stdout
        assert out.strip(), (command, fmt)
        if fmt == "json":
            json.loads(out)
        elif fmt == "jsonl":
            assert all(json.loads(line)["schema"] == "reviewbot/1" for line in out.splitlines())
        elif fmt == "sarif":
            doc = json.loads(out)
            assert doc["version"] == "2.1.0" and doc["runs"], (command, fmt)
            assert "schema" not in doc  # SARIF, not our JSON
        elif fmt == "md":
            assert "|" in out or out.lstrip().startswith("#"), (command, out[:200])
        elif fmt == "html":
            assert out.lstrip().lower().startswith("<!doctype html"), (command, out[:100])
        else:
            assert not out.lstrip().startswith(("{", "[")), (command, fmt)


def test_rules_offers_no_sarif():
    r = runner.invoke(app, ["rules", "-f", "sarif"])
    assert r.exit_code == 2 and r.stdout == ""
    assert "'sarif' is not one of 'text', 'json'" in r.stderr


# --- reviewbot.outputDir and reviewbot.rules ---------------------------------------------


def test_output_dir_is_relative_to_the_repository_for_sweep_and_report(tmp_path, monkeypatch):
    repo, _ = build(
        tmp_path / "linux", 'commit rel "Linux 6.1.25" tag v6.1.25\n' + era("6.1.25", "v6.1.25.c")
    )
    git("config", "reviewbot.outputDir", "out", cwd=repo)
    monkeypatch.chdir(repo / "mm")  # a subdirectory: the setting still means <repo>/out
    r = runner.invoke(app, ["sweep", "-f", "md", "-o", "sweep.md", "--no-cache"])
    assert r.exit_code == 1, r.stderr
    assert r.stdout == "" and (repo / "out/sweep.md").is_file()
    assert f"wrote {repo / 'out/sweep.md'}" in r.stderr
    absolute = tmp_path / "abs.md"
    r = runner.invoke(app, ["sweep", "-f", "md", "-o", str(absolute), "--no-cache"])
    assert absolute.is_file()  # an absolute -o is kept as given


@pytest.mark.slow
def test_backport_and_validate_honour_git_config(demo, tmp_path):
    path, named, patch = demo
    try:
        git("config", "reviewbot.outputDir", "mails", cwd=path)
        r = runner.invoke(
            app, ["backport", "--repo", str(path), "--commit", named["fix"], "--onto", "v5.10.178"]
        )
        assert r.exit_code == 0, r.stderr
        written = list((path / "mails").rglob("*.patch"))  # bare: relative to the git dir
        assert len(written) == 1 and str(written[0]) in r.stdout
        git("config", "reviewbot.rules", "no-such-rule", cwd=path)
        for args in (
            ["backport", "--repo", str(path), "--commit", named["fix"], "--onto", "v5.10.178"],
            ["validate", "--repo", str(path), "--patch", str(patch), "--onto", "v5.10.178"],
        ):
            r = runner.invoke(app, args)
            assert r.exit_code == 2 and "no-such-rule" in r.stderr, (args, r.stderr)
    finally:
        for key in ("reviewbot.outputDir", "reviewbot.rules"):
            subprocess.run(["git", "config", "--unset-all", key], cwd=path, check=False)


@pytest.mark.slow
def test_demo_sarif_uris_are_relative_to_the_demo_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    where = tmp_path / "d"
    r = runner.invoke(app, ["demo", "--dir", str(where), "-f", "sarif", "--output-dir", "rep"])
    assert r.exit_code == 0, r.stderr
    (run_,) = json.loads(r.stdout)["runs"]
    root = run_["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root.startswith(where.resolve().as_uri()), root
    uris = {
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for res in run_["results"]
    }
    assert uris and all(not u.startswith(("/", "..")) for u in uris), uris
