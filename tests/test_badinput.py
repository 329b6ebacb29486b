"""Bad input gets one line on stderr and exit 2: no traceback, nothing on stdout, no files left.

``BAD`` holds, per command registered in the app, inputs that must be refused, with a word the
message must contain. A command without an entry fails ``test_every_command_has_bad_input_rows``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gitenv import PATCH, _tree_digest, git, isolate_git, kernel_repo
from test_readonly import registered_commands
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.demo import fixture_text

FIX = Path(__file__).resolve().parent.parent / "fixtures"
GOOD = PATCH.read_bytes()
SRC = fixture_text("v6.1.26.c")

# name -> bytes written to {tmp}/<name> before the run (bad patches and sources)
FILES: dict[str, bytes] = {
    "crlf.patch": GOOD.replace(b"\n", b"\r\n"),
    "latin1.patch": GOOD.replace(b"Demo Author", b"D\xe9mo Author"),
    "nul.patch": GOOD.replace(b"goto out;\n", b"goto out;\0\n", 1),
    "gitbinary.patch": GOOD[: GOOD.index(b"diff --git")]
    + b"diff --git a/mm/khugepaged.c b/mm/khugepaged.c\nindex 1..2 100644\nGIT binary patch\nliteral 3\nKcmV+\n\n",
    "truncated.patch": GOOD[: GOOD.index(b"+\t\tif (pte_uffd_wp") + 5],
    "dotdot.patch": GOOD.replace(b"a/mm/khugepaged.c", b"a/../../outside.c"),
    "absolute.patch": GOOD.replace(b"+++ b/mm/khugepaged.c", b"+++ /tmp/outside.c"),
    "nodiff.patch": GOOD[: GOOD.index(b"diff --git")],
    "empty.patch": b"",
    "badhunk.patch": b"--- a/mm/khugepaged.c\n+++ b/mm/khugepaged.c\n@@ -x,y +1 @@\n-a\n+b\n",
    "binary.c": SRC[:400] + b"\0\0\0" + SRC[400:],
    "good.c": SRC,
    "file": b"not a directory\n",
}

BAD: dict[str, list[tuple[list[str], str]]] = {
    "check": [
        (["check", "{tmp}/missing.c"], "no such file"),
        (["check", "{tmp}"], "is a directory"),
        (["check", "{tmp}/binary.c"], "binary"),
        (["check", "--repo", "{plain}"], "not a git repository"),
        (["check", "--repo", "{tmp}/missing-dir"], "no such directory"),
        (["check", "--repo", "{repo}", "--rev", "no-such-ref"], "unknown revision"),
        (["check", "--repo", "{repo}", "--rev", "HEAD:README"], "unknown revision"),
        (["check", "--repo", "{repo}", "--rev", "0" * 40], "unknown revision"),
        (["check", "--repo", "{repo}", "../outside.c"], "outside the repository"),
        (["check", "--repo", "{repo}", "/etc/passwd"], "outside the repository"),
        (["check", "--repo", "{repo}", "--rev", "v6.1.25", "mm/nothing-*.c"], "exists at"),
        (["check", "--repo", "{shallow}", "--rev", "v6.1.25"], "shallow"),
        (["check", "--format", "bogus", "{tmp}/good.c"], "--format"),
        (["check", "--kernel-version", "banana", "{tmp}/good.c"], "not a kernel version"),
        (["check", "--rule", "nope", "{tmp}/good.c"], "unknown rule"),
        (["check", "--no-such-flag"], "no-such-flag"),
    ],
    "rules": [(["rules", "--format", "bogus"], "--format"), (["rules", "extra"], "extra")],
    "rules test": [
        (["rules", "test", "--rules", "{tmp}/missing.toml"], "does not exist"),
        (["rules", "test", "--rules", "{tmp}/binary.c"], "not valid TOML"),
        (["rules", "test", "--rule", "no-such-rule"], "unknown rule"),
    ],
    "sweep": [
        (["sweep", "--repo", "{repo}", "--tags", "["], "bad pattern"),
        (["sweep", "--repo", "{repo}", "--branches", "[a-"], "bad pattern"),
        (["sweep", "--repo", "{repo}", "--tags", "nomatch*"], "matches"),
        (["sweep", "--repo", "{shallow}", "--tags", "v6.1.25"], "shallow"),
        (["sweep", "--repo", "{repo}", "--since", "banana"], "not a kernel version"),
        (["sweep", "--repo", "{repo}", "--since", "9.9"], "at or after"),
        (["sweep", "--repo", "{plain}"], "not a git repository"),
        (["sweep", "--repo", "{repo}", "--no-cache", "-o", "{tmp}/file/out.html"], "cannot write"),
        (["sweep", "--repo", "{repo}", "--format", "pdf"], "--format"),
    ],
    "report": [
        (["report", "--repo", "{repo}"], "--fix"),
        (["report", "--repo", "{repo}", "--fix", "no-such-commit"], "unknown revision"),
        (["report", "--repo", "{repo}", "--fix", "{tmp}/missing.patch"], "no such file"),
        (["report", "--repo", "{repo}", "--fix", "{tmp}/crlf.patch"], "CRLF"),
        (["report", "--repo", "{repo}", "--fix", "{tmp}/nul.patch"], "binary"),
        (["report", "--repo", "{repo}", "--fix", "{tmp}/truncated.patch"], "truncated"),
        (["report", "--repo", "{repo}", "--fix", "{tmp}/dotdot.patch"], "leaves the repository"),
        (["report", "--repo", "{repo}", "--fix", "v6.1.26", "--branches", "["], "bad pattern"),
        (["report", "--repo", "{plain}", "--fix", "v6.1.26"], "not a git repository"),
    ],
    "backport": [
        (["backport", "--repo", "{repo}"], "exactly one of"),
        (["backport", "--repo", "{repo}", "--patch", "{tmp}/good.c"], "no target given"),
        (
            ["backport", "--repo", "{repo}", "--commit", "no-such-commit", "--onto", "v6.1.25"],
            "unknown revision",
        ),
        (
            ["backport", "--repo", "{repo}", "--patch", "{tmp}/missing.patch", "--onto", "v6.1.25"],
            "no such file",
        ),
        (
            ["backport", "--repo", "{repo}", "--patch", "{tmp}/crlf.patch", "--onto", "v6.1.25"],
            "CRLF",
        ),
        (
            ["backport", "--repo", "{repo}", "--patch", "{tmp}/latin1.patch", "--onto", "v6.1.25"],
            "not UTF-8",
        ),
        (
            ["backport", "--repo", "{repo}", "--patch", "{tmp}/nul.patch", "--onto", "v6.1.25"],
            "binary",
        ),
        (
            [
                "backport",
                "--repo",
                "{repo}",
                "--patch",
                "{tmp}/gitbinary.patch",
                "--onto",
                "v6.1.25",
            ],
            "binary patch",
        ),
        (
            [
                "backport",
                "--repo",
                "{repo}",
                "--patch",
                "{tmp}/truncated.patch",
                "--onto",
                "v6.1.25",
            ],
            "truncated",
        ),
        (
            ["backport", "--repo", "{repo}", "--patch", "{tmp}/dotdot.patch", "--onto", "v6.1.25"],
            "leaves the repository",
        ),
        (
            ["backport", "--repo", "{repo}", "--patch", "{tmp}/nodiff.patch", "--onto", "v6.1.25"],
            "no diff",
        ),
        (
            ["backport", "--repo", "{repo}", "--patch", "{tmp}/empty.patch", "--onto", "v6.1.25"],
            "empty",
        ),
        (
            [
                "backport",
                "--repo",
                "{repo}",
                "--commit",
                "v6.1.26",
                "--onto",
                "v6.1.25",
                "--onto",
                "nope",
            ],
            "unknown revision",
        ),
        (
            ["backport", "--repo", "{repo}", "--commit", "v6.1.26", "--branches", "nomatch*"],
            "no branch matches",
        ),
        (
            [
                "backport",
                "--repo",
                "{repo}",
                "--commit",
                "v6.1.26",
                "--onto",
                "v6.1.25",
                "--output-dir",
                "{tmp}/file",
            ],
            "not a directory",
        ),
        (
            [
                "backport",
                "--repo",
                "{repo}",
                "--commit",
                "v6.1.26",
                "--onto",
                "v6.1.25",
                "--format",
                "sarif",
            ],
            "sarif",
        ),
        (
            ["backport", "--repo", "{plain}", "--commit", "v6.1.26", "--onto", "v6.1.25"],
            "not a git repository",
        ),
        (["backport", "--commit", "v6.1.26", "--onto", "v6.1.25"], "--repo"),
    ],
    "validate": [
        (["validate", "--repo", "{repo}", "--onto", "v6.1.25"], "--patch"),
        (
            ["validate", "--repo", "{repo}", "--patch", "{tmp}/missing.patch", "--onto", "v6.1.25"],
            "no such file",
        ),
        (
            ["validate", "--repo", "{repo}", "--patch", "{tmp}", "--onto", "v6.1.25"],
            "is a directory",
        ),
        (
            ["validate", "--repo", "{repo}", "--patch", "{tmp}/crlf.patch", "--onto", "v6.1.25"],
            "CRLF",
        ),
        (
            ["validate", "--repo", "{repo}", "--patch", "{tmp}/nul.patch", "--onto", "v6.1.25"],
            "binary",
        ),
        (
            [
                "validate",
                "--repo",
                "{repo}",
                "--patch",
                "{tmp}/truncated.patch",
                "--onto",
                "v6.1.25",
            ],
            "truncated",
        ),
        (
            [
                "validate",
                "--repo",
                "{repo}",
                "--patch",
                "{tmp}/absolute.patch",
                "--onto",
                "v6.1.25",
            ],
            "leaves the repository",
        ),
        (
            ["validate", "--repo", "{repo}", "--patch", "{tmp}/badhunk.patch", "--onto", "v6.1.25"],
            "patch",
        ),
        (
            [
                "validate",
                "--repo",
                "{repo}",
                "--patch",
                "{tmp}/crlf.patch",
                "--onto",
                "no-such-ref",
            ],
            "CRLF",
        ),
        (
            [
                "validate",
                "--repo",
                "{repo}",
                "--patch",
                "{tmp}/truncated.patch",
                "--onto",
                "v6.1.25",
                "--upstream",
                "{tmp}/good.c",
            ],
            "truncated",
        ),
        (
            ["validate", "--repo", "{repo}", "--patch", "{tmp}/empty.patch", "--onto", "v6.1.25"],
            "empty",
        ),
        (
            ["validate", "--repo", "{plain}", "--patch", "{tmp}/empty.patch", "--onto", "v6.1.25"],
            "not a git repository",
        ),
        (
            [
                "validate",
                "--repo",
                "{repo}",
                "--patch",
                "{tmp}/empty.patch",
                "--onto",
                "v6.1.25",
                "--format",
                "html",  # validate offers text, json and sarif (issue 11): html is refused
            ],
            "'html' is not one of 'text', 'json', 'sarif'",
        ),
    ],
    "demo": [
        (["demo", "--dir", "{tmp}/file"], "not a directory"),
        (["demo", "--dir", "{nonempty}"], "not a reviewbot demo"),
    ],
    "hook install": [
        (["hook", "install", "--repo", "{plain}"], "not a git repository"),
        (["hook", "install", "--repo", "{tmp}/missing-dir"], "no such directory"),
        (["hook", "install", "--repo", "{repo}", "--hooks", "pre-push"], "unknown hook"),
    ],
    "hook uninstall": [(["hook", "uninstall", "--repo", "{plain}"], "not a git repository")],
    "hook run": [
        (["hook", "run", "post-commit"], "post-commit"),
        (["hook", "run", "pre-commit", "--repo", "{plain}"], "not a git repository"),
        (["hook", "run", "pre-commit", "{tmp}/good.c", "--repo", "{repo}"], "takes no FILE"),
        (["hook", "run", "sendemail-validate", "--repo", "{repo}"], "needs the patch"),
        (
            ["hook", "run", "sendemail-validate", "{tmp}/missing.patch", "--repo", "{repo}"],
            "no such file",
        ),
        (["hook", "run", "sendemail-validate", "{tmp}", "--repo", "{repo}"], "is a directory"),
        (["hook", "run", "sendemail-validate", "{tmp}/crlf.patch", "--repo", "{repo}"], "CRLF"),
        (
            ["hook", "run", "sendemail-validate", "{tmp}/latin1.patch", "--repo", "{repo}"],
            "not UTF-8",
        ),
        (["hook", "run", "sendemail-validate", "{tmp}/nul.patch", "--repo", "{repo}"], "binary"),
        (
            ["hook", "run", "sendemail-validate", "{tmp}/gitbinary.patch", "--repo", "{repo}"],
            "binary patch",
        ),
        (
            ["hook", "run", "sendemail-validate", "{tmp}/truncated.patch", "--repo", "{repo}"],
            "truncated",
        ),
        (
            ["hook", "run", "sendemail-validate", "{tmp}/dotdot.patch", "--repo", "{repo}"],
            "leaves the repository",
        ),
        (
            ["hook", "run", "sendemail-validate", "{tmp}/absolute.patch", "--repo", "{repo}"],
            "leaves the repository",
        ),
        (
            ["hook", "run", "sendemail-validate", "{tmp}/nodiff.patch", "--repo", "{repo}"],
            "no diff",
        ),
        (["hook", "run", "sendemail-validate", "{tmp}/empty.patch", "--repo", "{repo}"], "empty"),
        (["hook", "run", "sendemail-validate", "{tmp}/badhunk.patch", "--repo", "{repo}"], "patch"),
        (["hook", "run", "pre-commit", "--repo", "{repo}", "--strict", "maybe"], "takes no FILE"),
    ],
}


def test_every_command_has_bad_input_rows():
    missing = sorted(set(registered_commands()) - set(BAD))
    assert not missing, f"commands without bad-input rows in tests/test_badinput.py: {missing}"


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A repository, a shallow clone of it, a plain directory and the bad files."""
    isolate_git(monkeypatch, tmp_path)
    repo = kernel_repo(tmp_path)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    plain = tmp_path / "plain"
    plain.mkdir()
    nonempty = tmp_path / "nonempty"
    nonempty.mkdir()
    (nonempty / "keep.txt").write_text("mine\n")
    files = tmp_path / "in"
    files.mkdir()
    for name, data in FILES.items():
        (files / name).write_bytes(data)
    return {"repo": repo, "shallow": shallow, "plain": plain, "nonempty": nonempty, "tmp": files}


CASES = [(name, args, needle) for name, rows in BAD.items() for args, needle in rows]


@pytest.mark.slow
@pytest.mark.parametrize("name, args, needle", CASES, ids=[" ".join(a) for _, a, _ in CASES])
def test_bad_input_is_one_line_and_exit_2(name, args, needle, world, tmp_path, monkeypatch):
    monkeypatch.chdir(world["plain"])
    argv = [a.format(**world) for a in args]
    before = _tree_digest(
        tmp_path, ("home",)
    )  # home: the verdict cache may be written, it is no output
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 2, (r.exit_code, r.stdout, r.stderr, r.exception)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("reviewbot: error: "), r.stderr
    assert needle.lower() in lines[0].lower(), r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert r.stdout == ""
    assert _tree_digest(tmp_path, ("home",)) == before, "bad input left or changed files"


def test_a_path_leaving_the_repository_is_refused_before_any_blob_is_read(world, monkeypatch):
    from reviewbot.git import repository as source

    def boom(*a, **k):
        raise AssertionError("a blob was read")

    monkeypatch.setattr(source.Repository, "blob", boom)
    for name in ("dotdot.patch", "absolute.patch"):
        r = CliRunner().invoke(
            app,
            [
                "hook",
                "run",
                "sendemail-validate",
                str(world["tmp"] / name),
                "--repo",
                str(world["repo"]),
            ],
        )
        assert r.exit_code == 2 and "leaves the repository" in r.stderr
    assert not (world["repo"].parent / "outside.c").exists()


@pytest.mark.slow
def test_real_processes_print_one_line_too(world):
    # Outside CliRunner: the console entry point, as a shell or a git hook sees it.
    for args in (
        ["check", "--format", "bogus", "x.c"],
        ["hook", "run", "nope"],
        ["demo", "--dir", str(world["tmp"] / "file")],
        ["check", "--repo", str(world["repo"]), "--rev", "HEAD:README"],
    ):
        p = subprocess.run(
            [sys.executable, "-m", "reviewbot", *args], capture_output=True, text=True
        )
        assert p.returncode == 2, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith(
            "reviewbot: error:"
        ), p.stderr
        assert p.stdout == ""


@pytest.mark.slow
def test_bare_invocation_prints_help(world):
    p = subprocess.run([sys.executable, "-m", "reviewbot", "hook"], capture_output=True, text=True)
    assert "install" in p.stdout + p.stderr and "Traceback" not in p.stderr


# --- Latin-1 and odd bytes in C sources are still checked --------------------------------


def latin1_era() -> bytes:
    data = fixture_text("v6.1.26.c").replace(
        b"// SPDX-License-Identifier: GPL-2.0",
        b"// SPDX-License-Identifier: GPL-2.0\n/* (c) Fran\xe7ois M\xfcller, modifi\xe9 */",
        1,
    )
    data = data.replace(
        b"\t\tif (pte_uffd_wp(pteval)) {",
        b"\t\t/* prot\xe9g\xe9e */\n\t\tif (pte_uffd_wp(pteval)) {",
        1,
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    return data


def test_check_file_with_latin1_comments(tmp_path):
    p = tmp_path / "khugepaged.c"
    p.write_bytes(latin1_era())
    r = CliRunner().invoke(app, ["check", str(p), "--kernel-version", "6.1.26", "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    checks = {
        c["id"] + (f"/{c['site']}" if c["site"] else ""): c
        for c in json.loads(r.stdout)["results"][0]["checks"]
    }
    assert {c["status"] for c in checks.values()} == {"present"}
    assert checks["isolate"]["function"] == "__collapse_huge_page_isolate"
    r = CliRunner().invoke(app, ["check", str(p), "--kernel-version", "6.1.26"])
    assert r.exit_code == 0 and "present" in r.stdout


def test_check_blob_with_latin1_comments_in_repo_mode_and_hook(world):
    repo = world["repo"]
    (repo / "mm" / "khugepaged.c").write_bytes(latin1_era())
    git(repo, "commit", "-q", "-a", "-m", "latin-1 comments")
    r = CliRunner().invoke(app, ["check", "--repo", str(repo)])
    assert r.exit_code == 0, r.output
    src = repo / "mm" / "khugepaged.c"
    src.write_bytes(src.read_bytes().replace(b"modifi\xe9", b"modifi\xe9 encore"))
    git(repo, "add", "mm/khugepaged.c")
    r = CliRunner().invoke(app, ["hook", "run", "pre-commit", "--repo", str(repo)])
    assert r.exit_code == 0 and r.stderr == ""


def test_ctrl_c_during_demo_build_leaves_no_temporary_directory(tmp_path, monkeypatch):
    from reviewbot import demo

    def interrupted(builder):
        (builder.path / "half-written").write_text("x")
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "populate", interrupted)
    target = tmp_path / "cache" / "demo"
    r = CliRunner().invoke(app, ["demo", "--dir", str(target)])
    assert r.exit_code == 130 and r.stderr.strip() == "reviewbot: error: interrupted"
    assert not target.exists()
    assert list((tmp_path / "cache").iterdir()) == []


def test_internal_errors_are_one_line_and_can_show_the_traceback(tmp_path, monkeypatch):
    from reviewbot.checker import files as check  # where the CLI reaches check_source for FILEs

    def bug(*a, **k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(check, "check_source", bug)
    p = tmp_path / "x.c"
    p.write_bytes(SRC)
    r = CliRunner().invoke(app, ["check", str(p)])
    assert r.exit_code == 2 and r.stderr.startswith(
        "reviewbot: error: internal error: ZeroDivisionError: oops"
    )
    monkeypatch.setenv("REVIEWBOT_TRACEBACK", "1")
    r = CliRunner().invoke(app, ["check", str(p)])
    assert isinstance(r.exception, ZeroDivisionError)
