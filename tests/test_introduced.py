"""A fix that declares a new name and uses it in another file: the name is not a missing prerequisite."""

from __future__ import annotations

from pathlib import Path

from reviewbot.backport.generate import TargetStatus, backport, introduced
from reviewbot.diffs.patches import read_mail
from reviewbot.git.repository import Repository
from reviewbot.history.upstream import upstream_from_mail
from reviewbot.rules.spec import builtin_rules
from tests.gitenv import git

HEADER = "#ifndef _WALK_H\n#define _WALK_H\nint walk_range(int start, int end);\n#endif\n"
SOURCE = (
    '#include "walk.h"\n\nint walk_range(int start, int end)\n{\n\treturn end - start;\n}\n'
    "\nint user(int x)\n{\n\treturn walk_range(0, x);\n}\n"
)
UPSTREAM = """\
From: Dev <dev@example.org>
Subject: [PATCH] walk: step with walk_one()

commit 0123456789abcdef0123456789abcdef01234567 upstream.
---
--- a/include/walk.h
+++ b/include/walk.h
@@ -1,4 +1,5 @@
 #ifndef _WALK_H
 #define _WALK_H
 int walk_range(int start, int end);
+int walk_one(int at);
 #endif
--- a/mm/walk.c
+++ b/mm/walk.c
@@ -9,3 +9,4 @@ int user(int x)
 {
+\tx = walk_one(x);
 \treturn walk_range(0, x);
 }
"""


def test_introduced_names_are_the_file_scope_declarations_of_the_fix() -> None:
    names = introduced(read_mail(UPSTREAM.encode()))
    assert names == {"walk_one"}


def test_fix_adding_a_helper_and_its_prototype_is_generated(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    (repo / "include").mkdir(parents=True)
    (repo / "mm").mkdir()
    (repo / "include" / "walk.h").write_text(HEADER)
    (repo / "mm" / "walk.c").write_text(SOURCE)
    git(repo.parent, "init", "-q", "-b", "master", str(repo))
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "base")
    r = Repository(repo)
    up = upstream_from_mail(r, read_mail(UPSTREAM.encode()))
    run = backport(r, up, ["master"], builtin_rules())
    (t,) = run.targets
    assert t.status == TargetStatus.GENERATED, (t.reason, t.failures)
    assert t.text is not None and "+int walk_one(int at);" in t.text
    assert t.validation is not None and t.validation.accepted
