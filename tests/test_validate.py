"""Validation of proposed backports: each broken backport is rejected for its own reason."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewbot.backport.validate import validate_files
from reviewbot.cli.app import app
from reviewbot.demo import fixture_text, populate
from reviewbot.diffs.mailfmt import Edit, file_diff
from reviewbot.diffs.patches import Mail, parse_mail, read_mail
from reviewbot.git.fastimport import HistoryBuilder
from reviewbot.history.upstream import UpstreamFix
from reviewbot.model.results import VersionInfo
from reviewbot.rules.spec import builtin_rules

PATCHES = Path(__file__).resolve().parent.parent / "fixtures" / "patches"
UPSTREAM = read_mail(next(PATCHES.glob("0001-*.patch")).read_bytes())
TARGET = fixture_text("v5.10.178.c")
LINES = TARGET.decode().split("\n")
GUARD = (
    "\t\tif (pte_uffd_wp(pteval)) {",
    "\t\t\tresult = SCAN_PTE_UFFD_WP;",
    "\t\t\tgoto out;",
    "\t\t}",
)
runner = CliRunner()


def after(text: str, nth: int = 0) -> int:
    """The 0-based line just after the end of the block that holds the ``nth`` ``text``."""
    rows = [k for k, row in enumerate(LINES) if text in row]
    return rows[nth]


AFTER_NON_PRESENT = after("result = SCAN_PTE_NON_PRESENT;") + 2 + 1  # past "goto out;" and "}"


def proposal(*edits: Edit, message: str = "body\n") -> Mail:
    diff = file_diff("mm/khugepaged.c", TARGET, list(edits))
    return parse_mail(
        f"Subject: [PATCH 5.10] mm/khugepaged: check again on anon uffd-wp during isolation\n\n{message}---\n{diff}"
    )


WITH_PRE = UpstreamFix(UPSTREAM, None, {"mm/khugepaged.c": fixture_text("v6.3-rc1.c")})


def run(p: Mail, upstream: UpstreamFix | None = WITH_PRE):
    return validate_files(
        {"mm/khugepaged.c": TARGET},
        p,
        builtin_rules(),
        VersionInfo("5.10.178", "flag"),
        ref="v5.10.178",
        upstream=upstream,
    )


def failing(v) -> list[str]:
    return [x.id for x in v.verdicts if x.status == "fail"]


def test_the_stable_backport_is_accepted():
    v = run(proposal(Edit(AFTER_NON_PRESENT, 0, GUARD)))
    assert v.accepted, [(x.id, x.message, x.details) for x in v.failed]
    assert [x.status for x in v.verdicts] == ["pass"] * 6
    assert "isolate: present after the patch" in v.verdict("guards").details[0]


def test_without_upstream_scope_and_equivalence_are_skipped():
    v = run(proposal(Edit(AFTER_NON_PRESENT, 0, GUARD)), upstream=None)
    assert v.accepted
    assert v.verdict("scope").status == v.verdict("equivalence").status == "skip"
    assert v.verdict("guards").status == "pass"  # the intent comes from the patch itself


@pytest.mark.parametrize(
    "why, edits, fails, needle",
    [
        # the guard sits in the pte_none/zero branch that present PTEs never enter
        (
            "none-branch",
            (
                Edit(
                    after("is_zero_pfn(pte_pfn(pteval)))) {") + 1, 0, tuple("\t" + x for x in GUARD)
                ),
            ),
            ["guards"],
            "inside the pte_none/zero branch",
        ),
        # `continue` goes on with the next PTE: the collapse still happens
        (
            "continue",
            (Edit(AFTER_NON_PRESENT, 0, (GUARD[0], GUARD[1], "\t\t\tcontinue;", GUARD[3])),),
            ["guards", "equivalence"],
            "does not leave the loop (continue",
        ),
        (
            "negated",
            (Edit(AFTER_NON_PRESENT, 0, ("\t\tif (!pte_uffd_wp(pteval)) {", *GUARD[1:])),),
            ["guards", "equivalence"],
            "is negated",
        ),
        # an unrelated change in another function rides along
        (
            "extra",
            (
                Edit(AFTER_NON_PRESENT, 0, GUARD),
                Edit(after("result = SCAN_PAGE_NULL;", 1), 1, ("\t\t\tresult = SCAN_FAIL;",)),
            ),
            ["scope", "equivalence"],
            "khugepaged_scan_pmd() is not touched by the upstream fix",
        ),
    ],
)
def test_broken_backports_are_rejected_for_their_own_reason(why, edits, fails, needle):
    v = run(proposal(*edits))
    assert not v.accepted
    assert failing(v) == fails, why
    shown = " ".join(d for x in v.failed for d in x.details)
    assert needle in shown, shown


def test_upstream_diff_with_stale_context_does_not_apply():
    v = run(UPSTREAM)
    assert failing(v) == ["applies"]
    (detail,) = v.verdict("applies").details
    assert (
        "hunk #1" in detail
        and "is_zone_device_page" in detail
        and "if (unlikely(!page)) {" in detail
    )
    assert {v.verdict(c).status for c in ("parses", "guards", "scope", "equivalence")} == {"skip"}


def test_a_broken_parse_is_reported():
    v = run(proposal(Edit(AFTER_NON_PRESENT, 0, ("\t\tif (pte_uffd_wp(pteval) {", *GUARD[1:]))))
    assert "parses" in failing(v)
    assert "new parse error" in v.verdict("parses").details[0]


def test_a_lost_guard_is_rejected():
    scan_guard = after("if (pte_uffd_wp(pteval)) {")
    v = run(proposal(Edit(AFTER_NON_PRESENT, 0, GUARD), Edit(scan_guard, 12, ())), upstream=None)
    assert "guards" in failing(v)
    assert "scan: was present, lost by the patch" in " ".join(v.verdict("guards").details)


def test_need_fails_on_a_fixed_or_unaffected_target():
    fixed = fixture_text("v5.10.179.c")
    harmless = parse_mail(
        "Subject: x\n\nx\n---\n" + file_diff("mm/khugepaged.c", fixed, [Edit(0, 0, ("// x",))])
    )
    v = validate_files(
        {"mm/khugepaged.c": fixed},
        harmless,
        builtin_rules(),
        VersionInfo("5.10.179", "flag"),
        upstream=UpstreamFix(UPSTREAM),
    )
    assert v.verdict("need").status == "fail" and "already has the fix" in v.verdict("need").message
    old = fixture_text("v5.4.c")
    harmless = parse_mail(
        "Subject: x\n\nx\n---\n" + file_diff("mm/khugepaged.c", old, [Edit(0, 0, ("// x",))])
    )
    v = validate_files(
        {"mm/khugepaged.c": old},
        harmless,
        builtin_rules(),
        VersionInfo("5.4.200", "flag"),
        upstream=UpstreamFix(UPSTREAM),
    )
    assert v.verdict("need").status == "fail" and "not affected" in v.verdict("need").message


# --- the command line, on the demo history -----------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "linux.git"
    named = populate(HistoryBuilder(path, bare=True))
    return path, named


@pytest.mark.slow
def test_cli_validate_accepts_the_recorded_stable_backport(demo, tmp_path):
    path, named = demo
    patch = tmp_path / "backport.patch"
    patch.write_text(
        subprocess.run(
            [
                "git",
                "-C",
                str(path),
                "format-patch",
                "-1",
                "--stdout",
                named["backport-linux-5.10.y"],
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    # the upstream fix is found through the body's "commit <sha> upstream." line
    r = runner.invoke(
        app, ["validate", "--repo", str(path), "--patch", str(patch), "--onto", "v5.10.178"]
    )
    assert r.exit_code == 0, r.output
    assert f"(upstream {named['fix'][:12]}" in r.stdout
    assert r.stdout.rstrip().endswith("accepted")
    r = runner.invoke(
        app,
        [
            "validate",
            "--repo",
            str(path),
            "--patch",
            str(patch),
            "--onto",
            "v5.10.178",
            "--format",
            "json",
        ],
    )
    doc = json.loads(r.stdout)
    assert doc["schema"] == "reviewbot/1" and doc["validation"]["accepted"] is True
    assert [c["status"] for c in doc["validation"]["checks"]] == ["pass"] * 6


def test_cli_validate_rejects_the_raw_upstream_patch_with_exit_1(demo):
    path, named = demo
    up = next(PATCHES.glob("0001-*.patch"))
    r = runner.invoke(
        app,
        [
            "validate",
            "--repo",
            str(path),
            "--patch",
            str(up),
            "--onto",
            "v5.15.108",
            "--upstream",
            named["fix"],
        ],
    )
    assert r.exit_code == 1, r.output
    assert "applies      fail" in r.stdout and r.stdout.rstrip().endswith("rejected: applies")
    # an upstream given as a file works the same
    r2 = runner.invoke(
        app,
        [
            "validate",
            "--repo",
            str(path),
            "--patch",
            str(up),
            "--onto",
            "v5.15.108",
            "--upstream",
            str(up),
        ],
    )
    assert r2.exit_code == 1 and "rejected: applies" in r2.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--onto", "v5.10.178"], "validate needs --patch FILE (or PATCH) and --onto REF"),
        (["--patch", "@up", "--onto", "v5.10.178", "other.patch"], "two backports given"),
        (["--patch", "x"], "validate needs --patch"),
        (["--patch", "/nonexistent", "--onto", "v5.10.178"], "no such file"),
        (
            ["--patch", "@up", "--onto", "v5.10.178", "--upstream", "nonsense"],
            "neither a file nor a commit",
        ),
        (["--patch", "@up", "--onto", "v0.1"], "unknown revision"),
    ],
)
def test_cli_validate_bad_input_exit_2(demo, args, needle):
    path, _ = demo
    up = str(next(PATCHES.glob("0001-*.patch")))
    r = runner.invoke(
        app, ["validate", "--repo", str(path), *[up if a == "@up" else a for a in args]]
    )
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and r.stdout == ""


def _format_patch(repo, rev: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), "format-patch", "-1", "--stdout", rev],
        check=True,
        capture_output=True,
    ).stdout


def test_cli_validate_takes_the_patch_as_an_argument(demo):
    path, named = demo
    patch = _format_patch(path, named["backport-linux-6.1.y"])
    r = runner.invoke(app, ["validate", "--repo", str(path), "--onto", "v6.1.25", "-"], input=patch)
    assert r.exit_code == 0, r.output
    assert r.stdout.rstrip().endswith("accepted") and r.stderr == ""


def test_cli_validate_reads_stdin_and_refuses_binary(demo, tmp_path):
    path, named = demo
    patch = _format_patch(path, named["backport-linux-6.1.y"])
    r = runner.invoke(
        app, ["validate", "--repo", str(path), "--patch", "-", "--onto", "v6.1.25"], input=patch
    )
    assert r.exit_code == 0, r.output  # "[ Upstream commit <sha> ]" names the upstream fix
    assert "scope        pass" in r.stdout
    r = runner.invoke(
        app,
        ["validate", "--repo", str(path), "--patch", "-", "--onto", "v6.1.25"],
        input=b"\0\0binary",
    )
    assert r.exit_code == 2 and "binary" in r.stderr


def test_reasons_are_one_line_per_failed_check():
    v = run(UPSTREAM)
    assert v.reasons == [
        f"applies: does not apply to v5.10.178 without fuzz ({v.verdict('applies').details[0]})"
    ]


def test_moving_a_guard_is_not_taken_for_adding_one():
    # The fixed 5.10 file: reword the isolate guard (remove and add the same test); no intent, so
    # need does not call the target "already fixed" and the patch is judged on its own.
    fixed = fixture_text("v5.10.179.c")
    rows = fixed.decode().split("\n")
    at = next(
        k
        for k, row in enumerate(rows)
        if row == "\t\tif (pte_uffd_wp(pteval)) {"
        and "SCAN_PTE_UFFD_WP" in rows[k + 1]
        and rows[k + 2].strip() == "goto out;"
    )
    p = parse_mail(
        "Subject: x\n\nx\n---\n"
        + file_diff(
            "mm/khugepaged.c", fixed, [Edit(at, 1, ("\t\tif (unlikely(pte_uffd_wp(pteval))) {",))]
        )
    )
    v = validate_files(
        {"mm/khugepaged.c": fixed}, p, builtin_rules(), VersionInfo("5.10.179", "flag")
    )
    assert v.accepted, v.reasons
    assert v.verdict("need").status == "pass"


def test_a_patch_that_removes_and_adds_back_the_same_line_is_no_fix():
    # Upstream moves a put below a call (a use-after-free fix); a copy that takes the line out
    # and puts it back where it was changes nothing, whatever its lines look like.
    target = (
        b"static int fault(struct page *page)\n{\n\tif (unlikely(err)) {\n\t\tput_page(page);\n"
        b"\t\tset_default(page);\n\t\treturn err;\n\t}\n\treturn 0;\n}\n"
    )
    up = parse_mail(
        "Subject: [PATCH] mm: put the page after resetting it\n\nbody\n---\n"
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,5 +3,5 @@ static int fault(struct page *page)\n"
        " \tif (unlikely(err)) {\n-\t\tput_page(page);\n \t\tset_default(page);\n"
        "+\t\tput_page(page);\n \t\treturn err;\n \t}\n"
    )
    same = parse_mail(
        "Subject: [PATCH 6.1] mm: put the page after resetting it\n\nbody\n---\n"
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,5 +3,5 @@ static int fault(struct page *page)\n"
        " \tif (unlikely(err)) {\n+\t\tput_page(page);\n-\t\tput_page(page);\n \t\tset_default(page);\n"
        " \t\treturn err;\n \t}\n"
    )

    def check(p: Mail):
        return validate_files(
            {"mm/x.c": target},
            p,
            builtin_rules(),
            VersionInfo("6.1.0", "flag"),
            upstream=UpstreamFix(up),
        )

    assert check(up).accepted
    v = check(same)
    assert not v.accepted and "equivalence" in failing(v)
    msg = v.verdict("equivalence").message
    assert "changes nothing" in msg or "another block" in msg, msg


def test_scope_takes_a_helper_the_fix_itself_adds():
    from reviewbot.backport.validate import INTENT_VERSION, validate_files
    from reviewbot.diffs.patches import parse_mail
    from reviewbot.history.upstream import UpstreamFix

    mail = parse_mail(
        "From: A <a@example.org>\nSubject: [PATCH] fix\n\n---\n"
        "--- a/include/x.h\n+++ b/include/x.h\n"
        "@@ -1,3 +1,8 @@\n"
        " void mark(struct thing *t);\n"
        " \n"
        "+static inline bool fits_cache(struct thing *t)\n"
        "+{\n"
        "+\treturn !is_big(t);\n"
        "+}\n"
        "+\n"
        " extern int nr_things;\n"
    )
    target = b"void mark(struct thing *t);\n\nextern int nr_things;\n"
    # the new helper is nowhere in the tree yet, so the fix cannot be placed by its names
    v = validate_files(
        {"include/x.h": target},
        mail,
        (),
        INTENT_VERSION,
        upstream=UpstreamFix(mail, None, {}),
        tree=lambda n: n != "fits_cache",
    )
    sc = v.verdict("scope")
    assert sc.status == "pass" and "fits_cache" in sc.message and not sc.details, v.lines()


def test_one_file_that_reads_as_upstreams_result_is_not_the_fix_already_there():
    # Upstream changes two files; the target's first file happens to read as upstream's
    # result already, its second does not: the target still needs the fix.
    a_new = b"void a(void)\n{\n\tlock();\n\twalk();\n\tunlock();\n}\n"
    b_old = b"void b(void)\n{\n\twalk();\n}\n"
    up = parse_mail(
        "Subject: [PATCH] mm: hold the hotplug lock\n\nbody\n---\n"
        "--- a/mm/a.c\n+++ b/mm/a.c\n@@ -3,2 +3,3 @@ void a(void)\n \tlock();\n \twalk();\n+\tunlock();\n"
        "--- a/mm/b.c\n+++ b/mm/b.c\n@@ -2,3 +2,5 @@ void b(void)\n {\n+\tlock();\n \twalk();\n+\tunlock();\n }\n"
    )
    mine = parse_mail(
        "Subject: [PATCH 5.10] mm: hold the hotplug lock\n\nbody\n---\n"
        "--- a/mm/b.c\n+++ b/mm/b.c\n@@ -2,3 +2,5 @@ void b(void)\n {\n+\tlock();\n \twalk();\n+\tunlock();\n }\n"
    )
    v = validate_files(
        {"mm/a.c": a_new, "mm/b.c": b_old},
        mine,
        builtin_rules(),
        VersionInfo("5.10.0", "flag"),
        upstream=UpstreamFix(up),
    )
    assert v.verdict("need").status == "pass", v.verdict("need")
