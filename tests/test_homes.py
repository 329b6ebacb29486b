"""Where an upstream file's code lives in an older tree (moved, split), for backport and validate."""

from __future__ import annotations

import subprocess

from reviewbot.backport.generate import backport_one
from reviewbot.backport.homes import target_path
from reviewbot.backport.outcome import TargetStatus
from reviewbot.backport.targetfn import section_function, section_prefix
from reviewbot.backport.validate import validate
from reviewbot.diffs.patches import parse_mail
from reviewbot.git.repository import Repository
from reviewbot.history.upstream import upstream_from_mail

OLD = (
    "static void damon_do_test_apply_three_regions(struct kunit *test,\n"
    "\t\tunsigned long *regions, int nr)\n{\n\tstruct damon_target *t;\n\n"
    "\tt = damon_new_target();\n\tdamon_destroy_target(t);\n}\n"
)


def _mail(path: str, new: str) -> str:
    # git cuts the @@ line's function name at 80 columns
    return (
        "From: A <a@example.org>\nSubject: [PATCH] mm/damon: handle alloc failure\n\n---\n"
        f"--- a/{path}\n+++ b/{path}\n"
        "@@ -4,3 +4,5 @@ static void damon_do_test_apply_three_re\n"
        " \n \tt = damon_new_target();\n"
        + "".join(f"+{x}\n" for x in new.splitlines())
        + " \tdamon_destroy_target(t);\n"
    )


def _repo(tmp_path):
    (tmp_path / "mm/damon").mkdir(parents=True)
    (tmp_path / "mm/damon/vaddr-test.h").write_text(OLD)
    (tmp_path / "mm/damon/core.c").write_text(
        "void damon_destroy_target(struct damon_target *t)\n{\n}\n"
    )
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "tree"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True, capture_output=True)
    return Repository(tmp_path)


def test_a_function_name_git_cut_off_is_read_as_a_prefix():
    fp = parse_mail(_mail("mm/damon/tests/vaddr-kunit.h", "\tif (!t)\n\t\treturn;\n")).files[0]
    assert section_prefix(fp.hunks[0]) == "damon_do_test_apply_three_re"


def test_the_file_is_found_where_the_cut_off_function_is_defined(tmp_path):
    repo = _repo(tmp_path)
    fp = parse_mail(_mail("mm/damon/tests/vaddr-kunit.h", "\tif (!t)\n\t\treturn;\n")).files[0]
    assert target_path(repo, repo.resolve(), fp, ()) == "mm/damon/vaddr-test.h"


def test_validate_compares_a_moved_file_where_its_code_lives(tmp_path):
    # upstream patches tests/vaddr-kunit.h; the older tree has the code in vaddr-test.h and
    # the backport patches that: compared there, not "a file upstream does not touch"
    repo = _repo(tmp_path)
    up = parse_mail(_mail("mm/damon/tests/vaddr-kunit.h", "\tif (!t)\n\t\treturn;\n"))
    ok = parse_mail(_mail("mm/damon/vaddr-test.h", "\tif (!t)\n\t\treturn;\n"))
    v = validate(repo, ok, repo.resolve(), (), upstream=up)
    assert v.accepted, v.lines()
    bad = parse_mail(_mail("mm/damon/vaddr-test.h", "\tif (t)\n\t\treturn;\n"))
    assert not validate(repo, bad, repo.resolve(), (), upstream=up).accepted


# --- files of the fix in a folder the older tree lacks --------------------------------------

FLAGS_H = "#define VM_A\t0x1\n#define VM_MERGE\t0x80000000\t/* KSM may merge */\n\n#endif\n"


def _two_files(rust_line: str = "+const unsigned long RUST_HELPER_VM_MERGE = VM_MERGE;\n") -> str:
    return (
        "From: A <a@example.org>\nSubject: [PATCH] mm/ksm: fix flag dropping\n\n---\n"
        "--- a/include/linux/flags.h\n+++ b/include/linux/flags.h\n"
        "@@ -1,4 +1,4 @@\n #define VM_A\t0x1\n-#define VM_MERGE\t0x80000000\t/* KSM may merge */\n"
        "+#define VM_MERGE\tBIT(31)\t/* KSM may merge */\n \n #endif\n"
        "--- a/rust/bindings/helper.h\n+++ b/rust/bindings/helper.h\n"
        "@@ -1,2 +1,3 @@\n const unsigned long RUST_HELPER_A = VM_A;\n \n" + rust_line
    )


def _tree(tmp_path, files: dict[str, str]) -> Repository:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "tree"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True, capture_output=True)
    return Repository(tmp_path)


def _backport(repo: Repository, mail: str):
    up = upstream_from_mail(repo, parse_mail(mail))
    return backport_one(repo, up, repo.resolve(), ())


def test_a_file_in_a_folder_the_target_lacks_is_left_out_and_said(tmp_path):
    repo = _tree(tmp_path, {"include/linux/flags.h": FLAGS_H})
    t = _backport(repo, _two_files())
    assert t.status == TargetStatus.GENERATED, t.reason
    assert "[ rust/bindings/helper.h: left out, rust/ is not in the tree ]" in t.deviations
    # validate says the same of the generated mail; strict refuses the deviation
    up = parse_mail(_two_files())
    gen = parse_mail(
        "From: A <a@example.org>\nSubject: [PATCH] mm/ksm: fix flag dropping\n\n---\n"
        + _two_files().split("---\n", 1)[1].split("--- a/rust")[0]
    )
    v = validate(repo, gen, repo.resolve(), (), upstream=up)
    assert v.accepted, v.lines()
    assert any("rust/ is not in the tree" in x for x in v.lines())
    assert not validate(repo, gen, repo.resolve(), (), upstream=up, strict=True).accepted


def test_a_missing_file_in_a_folder_the_target_has_still_fails(tmp_path):
    files = {"include/linux/flags.h": FLAGS_H, "rust/bindings/other.h": "/* other */\n"}
    repo = _tree(tmp_path, files)
    t = _backport(repo, _two_files())
    assert t.status == TargetStatus.FAILED
    assert "rust/bindings/helper.h does not exist" in (t.reason or "")


def test_a_left_out_file_defining_what_the_fix_uses_fails(tmp_path):
    # the header hunk uses a name the missing file would define: not a part to leave out
    repo = _tree(tmp_path, {"include/linux/flags.h": FLAGS_H})
    mail = _two_files("+#define BIT(n) (1UL << (n))\n")
    t = _backport(repo, mail)
    assert t.status == TargetStatus.FAILED
    assert "rust/bindings/helper.h does not exist" in (t.reason or "")


def test_a_change_from_a_functions_leading_comment_names_that_function():
    h = (
        parse_mail(
            "From: A <a@example.org>\nSubject: [PATCH] x\n\n---\n--- a/mm/x.c\n+++ b/mm/x.c\n"
            "@@ -4,7 +4,4 @@ void clear_poison(struct folio *folio)\n }\n \n"
            "-/*\n- * Called with the lock held.\n- */\n-int __get_poisoned(unsigned long pfn)\n"
            "+static int get_poisoned(unsigned long pfn)\n {\n"
        )
        .files[0]
        .hunks[0]
    )
    assert section_function(h) == "__get_poisoned"


def test_a_missing_file_the_backport_adapts_elsewhere_is_compared_not_left_out(tmp_path):
    # the backport carries upstream's rust change in a file of its own (an older layout):
    # validate pairs the two files as before instead of calling the upstream one left out
    helper = "const unsigned long RUST_HELPER_A = VM_A;\n\n"
    repo = _tree(tmp_path, {"include/linux/flags.h": FLAGS_H, "bindings/helper.h": helper})
    adapted = _two_files().replace("rust/bindings/helper.h", "bindings/helper.h")
    v = validate(repo, parse_mail(adapted), repo.resolve(), (), upstream=parse_mail(_two_files()))
    assert v.accepted, v.lines()
    assert not any("left out" in x for x in v.lines()), v.lines()


def test_a_function_in_another_folder_of_the_older_tree_is_found_there(tmp_path):
    # upstream changes must_wait() in mm/uffd.c; the older tree has mm/uffd.c without it and
    # the function in fs/uffd.c: the one file of the tree that defines it is its home
    must_wait = "static bool must_wait(int reason)\n{\n\treturn reason;\n}\n"
    repo = _tree(
        tmp_path,
        {"mm/uffd.c": "int copy(void)\n{\n\treturn 0;\n}\n", "fs/uffd.c": must_wait},
    )
    mail = (
        "From: A <a@example.org>\nSubject: [PATCH] uffd: gate\n\n---\n"
        "--- a/mm/uffd.c\n+++ b/mm/uffd.c\n@@ -2,2 +2,4 @@ static bool must_wait(int reason)\n"
        " {\n+\tif (!reason)\n+\t\treturn false;\n \treturn reason;\n"
    )
    fp = parse_mail(mail).files[0]
    assert target_path(repo, repo.resolve(), fp, ()) == "fs/uffd.c"
    t = _backport(repo, mail)
    assert t.status == TargetStatus.GENERATED, t.reason
    assert "[ mm/uffd.c is fs/uffd.c in this tree ]" in t.deviations


def test_a_function_two_other_files_define_has_no_home(tmp_path):
    must_wait = "static bool must_wait(int reason)\n{\n\treturn reason;\n}\n"
    repo = _tree(
        tmp_path,
        {
            "mm/uffd.c": "int copy(void)\n{\n\treturn 0;\n}\n",
            "fs/uffd.c": must_wait,
            "drivers/x/y.c": must_wait,
        },
    )
    fp = parse_mail(
        "From: A <a@example.org>\nSubject: [PATCH] uffd: gate\n\n---\n"
        "--- a/mm/uffd.c\n+++ b/mm/uffd.c\n@@ -2,2 +2,4 @@ static bool must_wait(int reason)\n"
        " {\n+\tif (!reason)\n+\t\treturn false;\n \treturn reason;\n"
    ).files[0]
    assert target_path(repo, repo.resolve(), fp, ()) == "mm/uffd.c"
