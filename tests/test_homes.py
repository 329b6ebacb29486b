"""Where an upstream file's code lives in an older tree (moved, split), for backport and validate."""

from __future__ import annotations

import subprocess

from reviewbot.backport.homes import target_path
from reviewbot.backport.targetfn import section_prefix
from reviewbot.backport.validate import validate
from reviewbot.diffs.patches import parse_mail
from reviewbot.git.repository import Repository

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
