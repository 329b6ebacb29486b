"""Backports end to end on the demo history (real git): generate, ``git am``, compare with stable.

The demo history has the upstream isolate fix (dd47ac428c3f's shape) on master and stable
branches whose releases before/after the backport are the era fixtures, so "what stable
shipped" is the fixed era's file.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewbot.backport.generate import backport, body, out_path
from reviewbot.cli.app import app
from reviewbot.demo import fixture_text, populate
from reviewbot.diffs.patches import read_mail
from reviewbot.git.fastimport import HistoryBuilder
from reviewbot.git.repository import Repository
from reviewbot.history.upstream import upstream_from_commit, upstream_from_mail
from reviewbot.rules.spec import builtin_rules

PATCHES = Path(__file__).resolve().parent.parent / "fixtures" / "patches"
FIX_B = next(PATCHES.glob("0002-*.patch"))  # v7.1-era isolate change near renamed identifiers
FIX_C = next(PATCHES.glob("0003-*.patch"))  # 5.10-era retract change in the mmap_lock API
SIGNER = "Stable Tester <stable-tester@example.org>"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _identity_from_repo_config(monkeypatch):
    # conftest isolates git (no user or system config) and fixes an identity in the
    # environment; here the signer must come from the demo repository's config instead.
    for k in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "linux.git"
    named = populate(HistoryBuilder(path, bare=True))
    subprocess.run(["git", "-C", str(path), "config", "user.name", "Stable Tester"], check=True)
    subprocess.run(
        ["git", "-C", str(path), "config", "user.email", "stable-tester@example.org"], check=True
    )
    return path, named


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_COMMITTER_NAME": "Am Tester", "GIT_COMMITTER_EMAIL": "am@example.org"}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def am(demo_path: Path, ref: str, patch: str, where: Path) -> bytes:
    """``git am`` the patch on ``ref`` in a fresh clone; the patched mm/khugepaged.c."""
    clone = where / f"am-{ref}"
    git("clone", "-q", str(demo_path), str(clone), cwd=where)
    git("checkout", "-q", ref, cwd=clone)
    git("am", "-q", str(patch), cwd=clone)
    return git("show", "HEAD:mm/khugepaged.c", cwd=clone).encode()


def function_text(data: bytes, name: str) -> str:
    text = data.decode()
    start = text.index(f"{name}(")
    start = text.rindex("\n", 0, start) + 1
    return text[start : text.index("\n}\n", start) + 3]


@pytest.mark.slow
@pytest.mark.parametrize(
    "ref, fixed, method",
    [
        (
            "v5.10.178",
            "v5.10.179.c",
            "relocated",
        ),  # trailing context differs: if (unlikely(!page)) {
        ("v5.15.108", "v5.15.109.c", "relocated"),
        ("v6.1.25", "v6.1.26.c", "exact"),
        ("v6.2.12", "v6.2.13.c", "exact"),
    ],
)
def test_generated_backport_passes_git_am_and_equals_what_stable_shipped(
    demo, tmp_path, ref, fixed, method
):
    path, named = demo
    repo = Repository(path)
    up = upstream_from_commit(repo, repo.resolve(named["fix"]))
    (t,) = backport(repo, up, [ref], builtin_rules(), output_dir=tmp_path / "out").targets
    assert (t.status, t.method) == ("generated", method), t.reason
    assert t.validation is not None and t.validation.accepted
    text = Path(t.patch).read_text()
    assert f"\n\ncommit {named['fix']} upstream.\n\n" in text
    assert text.startswith(f"From {named['fix']} Mon Sep 17 00:00:00 2001\n")
    assert (
        f"Subject: [PATCH {ref[1 : ref.rindex('.')]}] mm/khugepaged: check again on anon uffd-wp during isolation\n"
        in text
    )
    assert "From: Demo Author <author@example.org>\n" in text
    assert ("[ adjusted context ]\n" in text) == (method == "relocated")
    assert text.index("Cc: <stable@vger.kernel.org>") < text.index(
        f"Signed-off-by: {SIGNER}\n---\n"
    )
    patched = am(path, ref, t.patch, tmp_path)
    assert function_text(patched, "__collapse_huge_page_isolate") == function_text(
        fixture_text(fixed), "__collapse_huge_page_isolate"
    )
    assert patched == fixture_text(fixed)  # the era pairs differ only by the fix


def test_not_affected_and_already_fixed_are_reported_with_evidence(demo, tmp_path):
    path, named = demo
    repo = Repository(path)
    up = upstream_from_commit(repo, repo.resolve(named["fix"]))
    run = backport(
        repo, up, ["v5.4.200", "v6.6.30", "v5.10.179"], builtin_rules(), output_dir=tmp_path / "out"
    )
    by = {t.ref: t for t in run.targets}
    assert by["v5.4.200"].status == "not-affected"
    assert "uffd-wp arrived in 5.7" in by["v5.4.200"].evidence[0]
    assert by["v6.6.30"].status == "already-fixed"
    assert "ancestor of v6.6.30" in by["v6.6.30"].evidence[0]
    # a stable release that has the backport: the guard is there (never add it twice)
    assert by["v5.10.179"].status == "already-fixed"
    assert "pte_uffd_wp(pteval)" in by["v5.10.179"].evidence[0]
    assert (
        by["v5.10.179"].evidence[1].endswith(f'says "commit {named["fix"]} upstream."')
    )  # and history records it
    assert not (tmp_path / "out").exists()
    assert not run.failed


@pytest.mark.slow
def test_running_twice_gives_the_same_files(demo, tmp_path):
    path, named = demo
    repo = Repository(path)
    up = upstream_from_commit(repo, repo.resolve(named["fix"]))
    refs = ["v5.10.178", "v6.1.25"]
    first = backport(repo, up, refs, builtin_rules(), output_dir=tmp_path / "out")
    snap = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    mtimes = {p: p.stat().st_mtime_ns for p in snap}
    second = backport(repo, up, refs, builtin_rules(), output_dir=tmp_path / "out")
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == snap
    assert {p: p.stat().st_mtime_ns for p in snap} == mtimes  # identical files are not rewritten
    assert [t.patch for t in first.targets] == [t.patch for t in second.targets]
    assert (
        sorted(p.name for p in (tmp_path / "out").rglob("*.patch"))
        == ["0001-mm-khugepaged-check-again-on-anon-uffd-wp-during-iso.patch"] * 2
    )


@pytest.mark.slow
def test_second_fix_relocates_with_renamed_identifiers(demo, tmp_path):
    # Written against v7.1 (addr, collapse_scan_pmd); 6.x says address/hpage_collapse_scan_pmd,
    # 5.x khugepaged_scan_pmd.
    path, _ = demo
    repo = Repository(path)
    up = upstream_from_mail(repo, read_mail(FIX_B.read_bytes()))
    run = backport(
        repo, up, ["v5.10.179", "v6.6.30", "v7.1"], builtin_rules(), output_dir=tmp_path / "out"
    )
    by = {t.ref: t for t in run.targets}
    assert by["v7.1"].method == "exact" and by["v7.1"].deviations == ()
    assert by["v6.6.30"].deviations == (
        "[ adjusted context ]",
        "[ renamed addr -> address, collapse_scan_pmd -> hpage_collapse_scan_pmd ]",
    )
    assert by["v5.10.179"].deviations == (
        "[ adjusted context ]",
        "[ renamed addr -> address, collapse_scan_pmd -> khugepaged_scan_pmd ]",
    )
    patched = am(path, "v5.10.179", by["v5.10.179"].patch, tmp_path)
    expected = fixture_text("v5.10.179.c").replace(
        b"\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}\n\t\tpage = vm_normal_page(vma, address, pteval);\n",
        b"\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}\n"
        b"\t\t/*\n\t\t * The VMA may have been split since khugepaged_scan_pmd() looked\n"
        b"\t\t * at this range with the mmap lock dropped.\n\t\t */\n"
        b"\t\tif (unlikely(address < vma->vm_start || address >= vma->vm_end)) {\n"
        b"\t\t\tresult = SCAN_ADDRESS_RANGE;\n\t\t\tgoto out;\n\t\t}\n"
        b"\t\tpage = vm_normal_page(vma, address, pteval);\n",
        1,
    )
    assert patched == expected
    am(path, "v6.6.30", by["v6.6.30"].patch, tmp_path)


def test_second_fix_fails_honestly_without_its_prerequisite(demo):
    # 5.10.178 lacks the isolate guard the second fix is written after: a dependency.
    path, named = demo
    repo = Repository(path)
    up = upstream_from_mail(repo, read_mail(FIX_B.read_bytes()))
    (t,) = backport(repo, up, ["v5.10.178"], builtin_rules()).targets
    assert t.status == "failed" and t.patch is None
    (f,) = t.failures
    assert f.hunk == 1 and f.function == "__collapse_huge_page_isolate"
    assert "the statement before the change" in f.reason and "SCAN_PTE_UFFD_WP" in f.missing
    assert f.nearest.startswith("__collapse_huge_page_isolate() line ")
    assert "page = vm_normal_page(vma, address, pteval);" in f.nearest
    assert named["fix"] in {d.sha for d in t.dependencies}


def test_no_mainline_history_means_no_dependency_guesses(demo, tmp_path):
    # A repository of stable branches only (no master/main, the fix not in it): commits of
    # other branches are no dependencies; the target says why none are listed.
    path, _ = demo
    clone = tmp_path / "stable-only.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(path), str(clone)], check=True)
    for name in ("master", "main"):
        subprocess.run(["git", "-C", str(clone), "branch", "-q", "-D", name], capture_output=True)
    repo = Repository(clone)
    mail = read_mail(FIX_B.read_bytes())
    up = upstream_from_mail(repo, mail)
    if up.in_repo:  # the demo history holds the fix: take it as a mail from elsewhere
        up = replace(up, in_repo=False)
    (t,) = backport(repo, up, ["v5.10.178"], builtin_rules()).targets
    assert t.status == "failed" and t.dependencies == ()
    assert any("no mainline history" in w for w in t.warnings), t.warnings


@pytest.mark.slow
def test_transformed_learns_the_mmap_lock_rewrite(demo, tmp_path):
    # Written against 5.10 (mmap_write_trylock/unlock); 5.4 and 5.7 spell it with mmap_sem.
    path, _ = demo
    repo = Repository(path)
    up = upstream_from_mail(repo, read_mail(FIX_C.read_bytes()))
    run = backport(
        repo, up, ["v5.4.200", "v5.10.178"], builtin_rules(), output_dir=tmp_path / "out"
    )
    old, new = run.targets
    assert (new.status, new.method) == ("generated", "exact")
    assert (old.status, old.method) == ("generated", "transformed"), old.reason
    assert "[ rewrote mmap_write_unlock(X) -> up_write(&X->mmap_sem) ]" in old.deviations
    assert "mmap_write_trylock(X) -> down_write_trylock(&X->mmap_sem)" in old.learned
    patched = am(path, "v5.4.200", old.patch, tmp_path)
    retract = function_text(patched, "retract_page_tables")
    assert (
        "\t\tif (down_write_trylock(&mm->mmap_sem)) {\n"
        "\t\t\t/*\n"
        "\t\t\t * ->anon_vma may have appeared since the racy check\n"
        "\t\t\t * above: the page table may then map anonymous pages.\n"
        "\t\t\t */\n"
        "\t\t\tif (vma->anon_vma) {\n"
        "\t\t\t\tup_write(&mm->mmap_sem);\n"
        "\t\t\t\tcontinue;\n"
        "\t\t\t}\n"
        "\t\t\tif (!khugepaged_test_exit(mm)) {\n"
    ) in retract
    assert "mmap_write" not in retract


def test_missing_function_and_rewritten_block_fail_with_reasons(demo):
    path, _ = demo
    repo = Repository(path)
    up = upstream_from_mail(repo, read_mail(FIX_C.read_bytes()))
    run = backport(repo, up, ["v4.4", "v6.1.25"], builtin_rules())
    old, new = run.targets
    assert (
        old.status == "failed"
        and "function retract_page_tables() is not in mm/huge_memory.c at v4.4" in old.reason
    )
    assert new.status == "failed"
    assert "if (mmap_write_trylock(mm)) {" in new.reason


def test_body_cites_upstream_once_and_signs_once(demo):
    path, named = demo
    repo = Repository(path)
    up = upstream_from_commit(repo, repo.resolve(named["fix"]))
    text = body(up, ["[ adjusted context ]"], SIGNER)
    assert text.startswith(f"commit {named['fix']} upstream.\n\nHugh found")
    assert text.endswith(
        f"Cc: <stable@vger.kernel.org>\n[ adjusted context ]\nSigned-off-by: {SIGNER}\n"
    )
    # like git commit -s: no second sign-off when the last trailer already is that sign-off
    own = replace(
        up,
        mail=replace(
            up.mail, message=up.mail.message.replace("Cc: <stable@vger.kernel.org>\n", "")
        ),
    )
    assert (
        body(own, [], "Demo Author <author@example.org>").count("Signed-off-by: Demo Author") == 1
    )
    assert body(up, [], "Demo Author <author@example.org>").count("Signed-off-by: Demo Author") == 2
    assert (
        out_path(Path("out"), "origin/linux-5.10.y", "a/b: c").as_posix()
        == "out/origin_linux-5.10.y/0001-a-b-c.patch"
    )


# --- the command line -------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_backport_json_contract(demo, tmp_path):
    path, named = demo
    out = tmp_path / "out"
    r = runner.invoke(
        app,
        [
            "backport",
            "--repo",
            str(path),
            "--commit",
            named["fix"][:12],
            "--onto",
            "v5.10.178",
            "--onto",
            "v5.4.200",
            "--onto",
            "v6.6.30",
            "--output-dir",
            str(out),
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    doc = json.loads(r.stdout)
    assert doc["schema"] == "reviewbot/1" and doc["upstream"]["sha"] == named["fix"]
    by = {t["ref"]: t for t in doc["targets"]}
    t = by["v5.10.178"]
    assert (
        t["status"] == "generated"
        and t["method"] == "relocated"
        and t["deviations"] == ["[ adjusted context ]"]
    )
    assert t["patch"] == str(
        out / "v5.10.178" / "0001-mm-khugepaged-check-again-on-anon-uffd-wp-during-iso.patch"
    )
    assert t["validation"]["accepted"] is True
    assert [c["id"] for c in t["validation"]["checks"]] == [
        "applies",
        "parses",
        "guards",
        "scope",
        "equivalence",
        "need",
    ]
    assert by["v5.4.200"]["status"] == "not-affected" and by["v5.4.200"]["patch"] is None
    assert by["v6.6.30"]["status"] == "already-fixed"


@pytest.mark.slow
def test_cli_backport_branches(demo, tmp_path):
    path, named = demo
    r = runner.invoke(
        app,
        [
            "backport",
            "--repo",
            str(path),
            "--patch",
            str(FIX_B),
            "--branches",
            "linux-*.y",
            "--output-dir",
            str(tmp_path / "out"),
        ],
    )
    assert r.exit_code == 1, r.output  # one branch fails
    lines = r.stdout.splitlines()
    assert lines[0].startswith("upstream: a2ee639a74a4")
    rows = {x.split()[0]: x.split()[1] for x in lines if x.startswith("linux-")}
    assert list(rows) == [
        "linux-5.4.y",
        "linux-5.10.y",
        "linux-5.15.y",
        "linux-6.0.y",
        "linux-6.1.y",
        "linux-6.2.y",
        "linux-6.6.y",
    ]
    # 5.4 predates the bug the fix's Fixes: tag names; 6.0 went end-of-life without the isolate
    # guard this fix is written after (a dependency); every other branch gets a mail
    assert rows.pop("linux-5.4.y") == "not-affected"
    assert rows.pop("linux-6.0.y") == "failed"
    assert set(rows.values()) == {"generated"}
    assert sorted(p.parent.name for p in (tmp_path / "out").rglob("*.patch")) == sorted(rows)
    block = r.stdout[r.stdout.index("\nlinux-6.0.y ") : r.stdout.index("\nlinux-6.1.y ")]
    assert "possible dependencies:" in block and named["fix"][:12] in block


@pytest.mark.slow
def test_cli_backport_failure_exits_1_and_writes_nothing_for_it(demo, tmp_path):
    path, named = demo
    r = runner.invoke(
        app,
        [
            "backport",
            "--repo",
            str(path),
            "--patch",
            str(FIX_B),
            "--onto",
            "v5.10.178",
            "--onto",
            "v5.10.179",
            "--output-dir",
            str(tmp_path / "out"),
        ],
    )
    assert r.exit_code == 1, r.output
    assert (
        "v5.10.178  failed" in r.stdout
        and "nearest candidate: __collapse_huge_page_isolate() line" in r.stdout
    )
    assert "possible dependencies:\n" in r.stdout and named["fix"][:12] in r.stdout
    assert [p.parent.name for p in (tmp_path / "out").rglob("*.patch")] == ["v5.10.179"]


def test_cli_backport_patch_from_stdin_and_subject_prefix(demo, tmp_path):
    path, _ = demo
    r = runner.invoke(
        app,
        [
            "backport",
            "--repo",
            str(path),
            "--patch",
            "-",
            "--onto",
            "v6.6.30",
            "--subject-prefix",
            "PATCH {series}.y",
            "--output-dir",
            str(tmp_path),
        ],
        input=FIX_B.read_bytes(),
    )
    assert r.exit_code == 0, r.output
    (p,) = tmp_path.rglob("*.patch")
    assert (
        "\nSubject: [PATCH 6.6.y] mm/khugepaged: recheck the VMA range of each PTE during isolation\n"
        in p.read_text()
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--onto", "v5.10.178"], "exactly one of --commit SHA or --patch FILE"),
        (["--commit", "HEAD", "--patch", "x.patch", "--onto", "v5.10.178"], "exactly one of"),
        (["--commit", "HEAD"], "no target given"),
        (["--commit", "HEAD", "--onto", "v9.99"], "unknown revision 'v9.99'"),
        (["--commit", "nope", "--onto", "v5.10.178"], "unknown revision 'nope'"),
        (["--patch", "/nonexistent.patch", "--onto", "v5.10.178"], "no such file"),
        (["--commit", "HEAD", "--branches", "nothing-*"], "no branch matches"),
        (
            ["--commit", "HEAD", "--onto", "v5.10.178", "--format", "sarif"],
            "'sarif' is not one of 'text', 'json'",
        ),
    ],
)
def test_cli_backport_bad_input_exit_2(demo, args, needle):
    path, _ = demo
    r = runner.invoke(app, ["backport", "--repo", str(path), *args])
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == "" and "Traceback" not in r.stderr


def test_cli_backport_needs_repo_outside_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["backport", "--commit", "HEAD", "--onto", "v1"])
    assert r.exit_code == 2 and "--repo is required outside a git repository" in r.stderr


def test_cli_backport_and_validate_use_the_repository_you_stand_in(demo, monkeypatch):
    path, named = demo
    monkeypatch.chdir(path)
    r = runner.invoke(app, ["backport", "--commit", named["fix"], "--onto", "v5.10.178"])
    assert r.exit_code == 0, r.output
    assert "v5.10.178" in r.stdout and "generated" in r.stdout


@pytest.mark.slow
def test_without_git_identity_the_mail_is_unsigned_and_says_so(demo, tmp_path):
    path, named = demo
    bare = tmp_path / "anon.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(path), str(bare)], check=True)
    subprocess.run(["git", "-C", str(bare), "config", "--unset", "user.name"], check=False)
    repo = Repository(bare)
    up = upstream_from_commit(repo, repo.resolve(named["fix"]))
    (t,) = backport(repo, up, ["v6.1.25"], builtin_rules(), output_dir=tmp_path / "out").targets
    assert t.status == "generated"
    assert "no user.name/user.email" in " ".join(t.warnings)
    assert "Signed-off-by: Stable Tester" not in Path(t.patch).read_text()


@pytest.mark.slow
def test_a_recorded_fix_whose_guard_is_gone_is_backported_again(demo, tmp_path):
    # History says 5.10.y has the fix (Greg's marker); a later commit dropped the guard.
    path, named = demo
    clone = tmp_path / "linux"
    git("clone", "-q", str(path), str(clone), cwd=tmp_path)
    git("checkout", "-q", "-b", "regress", "v5.10.179", cwd=clone)
    (clone / "mm/khugepaged.c").write_bytes(fixture_text("v5.10.178.c"))
    git(
        "-c",
        "user.name=X",
        "-c",
        "user.email=x@example.org",
        "commit",
        "-qam",
        "mm: tidy the isolate loop",
        cwd=clone,
    )
    repo = Repository(clone)
    up = upstream_from_commit(repo, repo.resolve(named["fix"]))
    (t,) = backport(repo, up, ["regress"], builtin_rules(), output_dir=tmp_path / "out").targets
    assert t.status == "generated" and t.method == "relocated"
    assert t.evidence[0].startswith("regressed: the fix is recorded (greg: ")


def test_a_patch_that_fails_its_own_validation_is_never_written(demo, tmp_path, monkeypatch):
    import reviewbot.backport.generate as bp
    from reviewbot.backport.validate import Validation, Verdict

    path, named = demo
    repo = Repository(path)
    up = upstream_from_commit(repo, repo.resolve(named["fix"]))
    monkeypatch.setattr(
        bp,
        "validate_files",
        lambda *a, **k: Validation("v5.10.178", (Verdict("guards", "fail", "injected"),)),
    )
    (t,) = bp.backport(
        repo, up, ["v5.10.178"], builtin_rules(), output_dir=tmp_path / "out"
    ).targets
    assert (
        t.status == "failed"
        and t.reason == "the generated patch fails its own validation: guards: injected"
    )
    assert not (tmp_path / "out").exists()


SPLIT_OLD = (
    "/* page allocator */\n\nint other(int a)\n{\n\treturn a;\n}\n\n"
    "void *alloc_big(const char *name, unsigned long n)\n{\n\tvoid *p;\n\n"
    '\tp = vmalloc(n);\n\tif (!p)\n\t\tpanic("no %s", name);\n\treturn p;\n}\n'
)
SPLIT_FIX = (
    "From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
    "From: Dev <dev@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
    "Subject: [PATCH] mm: warn before panicking\n\nbody\n---\n"
    "diff --git a/mm/init.c b/mm/init.c\n--- a/mm/init.c\n+++ b/mm/init.c\n"
    "@@ -40,6 +40,7 @@ void *alloc_big(const char *name, unsigned long n)\n"
    ' \tvoid *p;\n \n \tp = vmalloc(n);\n+\tpr_warn("%s", name);\n'
    ' \tif (!p)\n \t\tpanic("no %s", name);\n \treturn p;\n'
)


@pytest.mark.parametrize(
    "elsewhere, small",
    [(False, False), (True, False), (False, True)],
    ids=["one-file", "two-files-define-it", "new-file-exists-without-it"],
)
def test_a_fix_to_a_file_split_out_later_lands_in_the_old_file(tmp_path, elsewhere, small):
    # Upstream later moved alloc_big() from mm/alloc.c to a new mm/init.c; the older tree
    # has no mm/init.c: the file that defines the hunk's function is the target, and the mail
    # says so. When two files define it, nothing is guessed.
    repo = tmp_path / "linux"
    files = {
        "Makefile": "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION =\n",
        "mm/alloc.c": SPLIT_OLD,
        "mm/other.c": 'int unrelated(void)\n{\n\tpr_warn("x");\n\treturn 0;\n}\n',
    }
    if elsewhere:
        files["mm/copy.c"] = SPLIT_OLD
    if small:  # the older tree has a mm/init.c of its own, without alloc_big()
        files["mm/init.c"] = "void init_small(void)\n{\n}\n"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git("init", "-q", str(repo), cwd=tmp_path)
    git("add", ".", cwd=repo)
    git("-c", "user.name=X", "-c", "user.email=x@example.org", "commit", "-qm", "base", cwd=repo)
    git("tag", "v6.1", cwd=repo)
    r = Repository(repo)
    up = upstream_from_mail(r, read_mail(SPLIT_FIX.encode()))
    (t,) = backport(r, up, ["v6.1"], builtin_rules()).targets
    if elsewhere:
        assert t.status == "failed" and "mm/init.c does not exist at v6.1" in t.reason
        return
    assert t.status == "generated", t.reason
    assert "[ mm/init.c is mm/alloc.c in this tree ]" in t.deviations
    assert "+++ b/mm/alloc.c" in t.text and '+\tpr_warn("%s", name);' in t.text
