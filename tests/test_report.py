"""``reviewbot report`` and fixes.branch_status: every recognition signal, on real git histories."""

from __future__ import annotations

import json
import subprocess

import pytest
from stable_history import EXPECTED, FIX_SUBJECT, build_stable
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.git.repository import Repository
from reviewbot.history.fixes import branch_status, fix_targets
from reviewbot.history.upstream import load_fix
from reviewbot.rules.spec import builtin_rules

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return build_stable(tmp_path_factory.mktemp("report") / "linux")


@pytest.fixture(scope="module")
def patch_file(history, tmp_path_factory):
    """The fix as a format-patch mail (what a maintainer gets from the list)."""
    path, shas = history
    out = subprocess.run(
        ["git", "-C", str(path), "format-patch", "-1", "--stdout", shas["fix"]],
        capture_output=True,
        check=True,
    ).stdout
    p = tmp_path_factory.mktemp("mail") / "0001-fix.patch"
    p.write_bytes(out)
    return p


def statuses(history, spec):
    path, _ = history
    repo = Repository(path)
    fix = load_fix(repo, spec)
    return {b: branch_status(repo, fix, b, builtin_rules()) for b in EXPECTED}


@pytest.fixture(scope="module")
def by_sha(history):
    return statuses(history, history[1]["fix"])


@pytest.mark.parametrize("branch", sorted(EXPECTED))
def test_status_per_branch(by_sha, branch):
    assert by_sha[branch].status == EXPECTED[branch]


def kinds(st):
    return [e.kind for e in st.evidence]


def test_three_message_forms_are_recognised(by_sha, history):
    _, shas = history
    assert (
        "greg" in kinds(by_sha["linux-5.10.y"]) and by_sha["linux-5.10.y"].fixed_by == shas["bp510"]
    )
    assert (
        "sasha" in kinds(by_sha["linux-5.15.y"])
        and by_sha["linux-5.15.y"].fixed_by == shas["bp515"]
    )
    assert (
        "cherry-pick" in kinds(by_sha["linux-6.1-cp.y"])
        and by_sha["linux-6.1-cp.y"].fixed_by == shas["bp61cp"]
    )


def test_fixed_in_is_the_release_that_brought_it(by_sha):
    st = by_sha["linux-5.10.y"]
    assert st.fixed_in == "v5.10.179" and st.tip == "v5.10.179" and st.tip_version == "5.10.179"
    assert st.cve_range == f"5.6:{st.evidence[0].sha[:12]}:5.10.179:{st.fixed_by[:12]}"


def test_equal_patch_id_without_any_marker(by_sha, history):
    st = by_sha["linux-6.2.y"]
    assert kinds(st) == ["introduced", "patch-id", "structural"]
    assert st.fixed_by == history[1]["bp62"] and st.fixed_in == "v6.2.13"
    assert st.disagreements == ()


def test_not_affected_before_the_fixes_commit(by_sha):
    st = by_sha["linux-5.4.y"]
    intro = [e for e in st.evidence if e.kind == "introduced"]
    assert intro and "predates the bug" in intro[0].detail
    assert st.cve_range is None and st.fixed_by is None


def test_regressed_is_shouted_about(by_sha, history):
    st = by_sha["linux-5.10-lost.y"]
    assert st.fixed_by == history[1]["bplost"]
    assert any("guard is missing" in d for d in st.disagreements)
    structural = [e for e in st.evidence if e.kind == "structural"]
    assert structural and "isolate missing" in structural[0].detail


def test_needs_backport_has_evidence_and_cve_range(by_sha):
    st = by_sha["linux-6.1.y"]
    assert st.fixed_by is None and st.cve_range.endswith(":0:0")
    assert any(e.kind == "structural" and "isolate missing" in e.detail for e in st.evidence)


@pytest.mark.slow
def test_patch_file_gives_the_same_answers(history, patch_file, by_sha):
    from_mail = statuses(history, str(patch_file))
    assert {b: s.status for b, s in from_mail.items()} == {b: s.status for b, s in by_sha.items()}


@pytest.mark.slow
def test_patch_file_whose_commits_are_not_in_the_repo(history, tmp_path):
    """A mail from the list: no such sha, no such Fixes: commit — subject, applicability, structure."""
    path, shas = history
    text = subprocess.run(
        ["git", "-C", str(path), "format-patch", "-1", "--stdout", shas["fix"]],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    text = text.replace(shas["fix"], "f" * 40).replace(shas["scanfix"][:12], "e1e267c7928f")
    p = tmp_path / "list.patch"
    p.write_text(text)
    repo = Repository(path)
    fix = load_fix(repo, str(p))
    assert not fix.in_repo and fix.sha == "f" * 40 and fix.fixes[0][0] == "e1e267c7928f"
    assert fix_targets(repo, fix, builtin_rules()) == ("isolate",)
    got = {b: branch_status(repo, fix, b, builtin_rules()) for b in EXPECTED}
    # 5.4: the Fixes: commit is unknown, so affectedness comes from applicability (anon from 5.7).
    assert got["linux-5.4.y"].status == "not-affected"
    assert any(e.kind == "applicability" for e in got["linux-5.4.y"].evidence)
    # Greg's branch records the real sha, which this mail does not carry: the subject matches.
    assert got["linux-5.10.y"].status == "fixed" and "subject" in kinds(got["linux-5.10.y"])
    assert any("only the subject matches" in d for d in got["linux-5.10.y"].disagreements)
    # Equal patch-id still works without the sha.
    assert got["linux-6.2.y"].status == "fixed" and "patch-id" in kinds(got["linux-6.2.y"])
    assert got["linux-6.1.y"].status == "needs-backport"
    assert got["linux-6.1.y"].cve_range == "5.7:e1e267c7928f:0:0"


def test_guard_present_without_a_record_is_a_disagreement(history):
    path, shas = history
    repo = Repository(path)
    fix = load_fix(repo, shas["fix"])
    st = branch_status(repo, fix, "v6.2.13", builtin_rules())  # a tag works as the target too
    assert st.status == "fixed"
    # A subject match is not needed: patch-id alone. Now a tree with the guard and no record:
    st = branch_status(repo, load_fix(repo, shas["bp62"]), "linux-5.10.y", builtin_rules())
    assert st.status == "fixed" and any("no commit records the fix" in d for d in st.disagreements)


@pytest.mark.slow
def test_report_markdown_is_a_stable_list_reply(history):
    path, shas = history
    r = run("report", "--repo", str(path), "--fix", shas["fix"][:12], "--format", "md")
    assert r.exit_code == 1, r.output  # a branch needs the backport
    md = r.stdout
    assert md.startswith(f"# {FIX_SUBJECT}")
    assert "| linux-6.1.y | v6.1.25 | **needs-backport** |" in md
    assert "## linux-6.1.y (v6.1.25): needs-backport" in md
    # a local branch: checked out, not fetched; the pick signs off, no separate commit -s
    assert f"git cherry-pick -x -s {shas['fix']}" in md and "git commit -s" not in md
    assert "--subject-prefix 'PATCH 6.1.y'" in md and "git checkout linux-6.1.y" in md
    assert "git fetch" not in md and "FETCH_HEAD" not in md
    assert "**Signals disagree:**" in md  # the regressed branch


def test_report_json_contract(history):
    path, shas = history
    r = run(
        "report",
        "--repo",
        str(path),
        "--fix",
        shas["fix"],
        "--branches",
        "linux-5.10.y",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema"] == "reviewbot/1"
    assert doc["fix"]["sha"] == shas["fix"] and doc["fix"]["targets"] == ["isolate"]
    assert doc["fix"]["fixes"][0]["subject"] == "khugepaged: skip collapse if uffd-wp detected"
    (b,) = doc["branches"]
    assert {k: b[k] for k in ("branch", "tip", "status", "fixed_by", "fixed_in")} == {
        "branch": "linux-5.10.y",
        "tip": "v5.10.179",
        "status": "fixed",
        "fixed_by": shas["bp510"],
        "fixed_in": "v5.10.179",
    }
    assert {"kind": "greg", "sha": shas["bp510"], "ref": "v5.10.179"}.items() <= next(
        e for e in b["evidence"] if e["kind"] == "greg"
    ).items()
    states = {x["ref"]: x["state"] for x in b["releases"]}
    assert states == {
        "v5.10": "missing",
        "v5.10.9": "missing",
        "v5.10.10": "missing",
        "v5.10.179": "present",
    }


@pytest.mark.slow
def test_report_html_is_self_contained(history, tmp_path):
    path, shas = history
    out = tmp_path / "r.html"
    r = run("report", "--repo", str(path), "--fix", shas["fix"], "--format", "html", "-o", str(out))
    assert r.exit_code == 1 and r.stdout == ""
    page = out.read_text()
    assert "<svg" in page and 'class="sortable"' in page and "needs-backport" in page
    assert "src=" not in page and "<link" not in page and "url(" not in page


def test_report_text(history):
    path, shas = history
    r = run(
        "report",
        "--repo",
        str(path),
        "--fix",
        shas["fix"],
        "--branches",
        "linux-5.4.y",
        "--branches",
        "linux-5.15.y",
    )
    assert r.exit_code == 0
    assert "linux-5.4.y (v5.4.200): not-affected" in r.stdout
    assert "linux-5.15.y (v5.15.109): fixed by" in r.stdout and "sasha" in r.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--fix", "deadbeef0000"], "unknown revision 'deadbeef0000'"),
        (["--fix", "nope/0001.patch"], "no such file"),
        (["--fix", "FIX", "--branches", "linux-9.*"], "no ref in"),
        (["--fix", "FIX", "--branches", "linux-[9"], "bad pattern"),
    ],
)
def test_report_bad_input_exit_2(history, args, needle):
    path, shas = history
    args = [shas["fix"] if a == "FIX" else a for a in args]
    r = run("report", "--repo", str(path), *args)
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


def test_report_refuses_a_shallow_clone(history, tmp_path):
    path, shas = history
    shallow = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            f"file://{path}",
            str(shallow),
        ],
        check=True,
    )
    r = run("report", "--repo", str(shallow), "--fix", "origin/master", "--branches", "*")
    assert r.exit_code == 2
    assert "shallow clone" in r.stderr and "git fetch --unshallow" in r.stderr


def test_report_on_a_bare_repository(history, tmp_path):
    path, shas = history
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(path), str(bare)], check=True)
    r = run(
        "report",
        "--repo",
        str(bare),
        "--fix",
        shas["fix"],
        "--branches",
        "linux-6.2.y",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["branches"][0]["status"] == "fixed"


@pytest.mark.slow
def test_demo_writes_the_full_report(tmp_path):
    r = run("demo", "--dir", str(tmp_path / "demo"), "--output-dir", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert "linux-5.4.y" in r.stdout and "not-affected" in r.stdout
    assert "linux-6.2.y" in r.stdout and "fixed by" in r.stdout
    html, md = tmp_path / "out" / "report.html", tmp_path / "out" / "report.md"
    assert str(html) in r.stdout and str(md) in r.stdout
    assert "<svg" in html.read_text()
    text = md.read_text()
    assert (
        "| linux-5.10.y | v5.10.179 | fixed |" in text
        and "greg" in text
        and "sasha" in text
        and "cherry-pick" in text
    )


REVERTED = (
    'commit scanfix "khugepaged: skip collapse if uffd-wp detected" tag v5.10\n'
    "  file Makefile = @makefile 5.10.0\n  file include/uapi/linux/userfaultfd.h = @uapi 5.10.0\n"
    "  file mm/khugepaged.c = @fixture v5.10.178.c\n"
    f'commit fix "{FIX_SUBJECT}"\n  file mm/khugepaged.c = @fixture v6.3.c\n'
    '  body Fixes: {sha12:scanfix} ("khugepaged: skip collapse if uffd-wp detected")\n'
    "on linux-5.10.y from v5.10\n"
    f'commit bp "{FIX_SUBJECT}"\n  file mm/khugepaged.c = @fixture v5.10.179.c\n  body commit {{sha:fix}} upstream.\n'
    f'commit rv "Revert \\"{FIX_SUBJECT}\\""\n  file mm/khugepaged.c = @fixture v5.10.178.c\n'
    "  body This reverts commit {sha:bp}.\n"
)


def test_a_reverted_backport_needs_the_backport_again(tmp_path):
    from histories import build

    path, shas = build(tmp_path / "rv", REVERTED)
    repo = Repository(path)
    st = branch_status(repo, load_fix(repo, shas["fix"]), "linux-5.10.y", builtin_rules())
    assert st.status == "needs-backport"
    rev = [e for e in st.evidence if e.kind == "revert"]
    assert rev and rev[0].sha == shas["rv"] and shas["bp"][:12] in rev[0].detail
    assert any("reverted" in d for d in st.disagreements)


def test_timeline_shows_an_unreleased_tip(history):
    path, shas = history
    r = run(
        "report",
        "--repo",
        str(path),
        "--fix",
        shas["fix"],
        "--branches",
        "linux-6.1-cp.y",
        "--format",
        "json",
    )
    (b,) = json.loads(r.stdout)["branches"]
    # the tip is one commit past v6.1, named as git describe names it (issue 11), not "v6.1"
    described = subprocess.run(
        ["git", "-C", str(path), "describe", "--tags", "linux-6.1-cp.y"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    assert described.startswith("v6.1-1-g")
    assert b["tip"] == described and b["status"] == "fixed" and b["fixed_in"] is None
    assert [(x["ref"], x["state"]) for x in b["releases"]] == [
        ("v6.1", "missing"),
        ("linux-6.1-cp.y", "present"),
    ]
