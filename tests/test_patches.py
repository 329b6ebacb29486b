"""Patch/mail parsing and exact in-memory apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.demo import fixture_text
from reviewbot.diffs.patches import ApplyFailure, apply_file, read_mail, read_mails, upstream_refs
from reviewbot.model.errors import PatchError

PATCH = next(
    (Path(__file__).resolve().parent.parent / "fixtures" / "patches").glob("0001-*.patch")
).read_bytes()


def test_format_patch_headers_and_trailers():
    m = read_mail(PATCH)
    assert m.subject == "mm/khugepaged: check again on anon uffd-wp during isolation"
    assert m.prefix == "PATCH"
    assert m.author == "Demo Author <author@example.org>"
    assert m.from_sha and len(m.from_sha) == 40
    assert m.cc_stable
    (fixes,) = m.fixes
    assert len(fixes[0]) == 12 and fixes[1] == "khugepaged: skip collapse if uffd-wp detected"
    assert [f.path for f in m.files] == ["mm/khugepaged.c"]
    (h,) = m.files[0].hunks
    assert h.added[0].strip() == "if (pte_uffd_wp(pteval)) {"
    assert "Signed-off-by" in m.message and "diff --git" not in m.message


def test_exact_apply_reproduces_the_fixed_era():
    m = read_mail(PATCH)
    out = apply_file(fixture_text("v6.3-rc1.c"), m.files[0])
    assert not isinstance(out, ApplyFailure)
    assert out.data == fixture_text("v6.3.c")


def test_offsets_are_allowed_fuzz_is_not():
    m = read_mail(PATCH)
    out = apply_file(b"/* one more line */\n" + fixture_text("v6.3-rc1.c"), m.files[0])
    assert not isinstance(out, ApplyFailure) and out.offsets == (1,)
    fail = apply_file(fixture_text("v5.10.178.c"), m.files[0])
    assert isinstance(fail, ApplyFailure)
    assert (
        fail.hunk == 1
        and "is_zone_device_page" in fail.expected
        and fail.found.strip() == "if (unlikely(!page)) {"
    )


def test_upstream_reference_forms():
    sha = "a" * 40
    assert upstream_refs(f"x\n\ncommit {sha} upstream.\n") == [("greg", sha)]
    assert upstream_refs(f"x\n\n[ Upstream commit {sha} ]\n") == [("sasha", sha)]
    assert upstream_refs(f"x\n(cherry picked from commit {sha})\n") == [("cherry-pick", sha)]


def test_mbox_with_two_patches():
    two = PATCH + b"\n" + PATCH.replace(b"check again", b"check once more")
    assert len(read_mails(two)) == 2
    with pytest.raises(PatchError, match="holds 2 patches"):
        read_mail(two)


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda p: p.replace(b"\n", b"\r\n"), "CRLF"),
        (lambda p: p + b"\xff\xfe", "not UTF-8"),
        (lambda p: p.replace(b"goto out;\n", b"\0", 1), "binary"),
        (lambda p: p[: p.index(b"+\t\tif (pte_uffd_wp") + 5], "truncated"),
        (lambda p: p.replace(b"a/mm/khugepaged.c", b"a/../../etc/passwd"), "leaves the repository"),
        (
            lambda p: p.replace(b"+++ b/mm/khugepaged.c", b"+++ /etc/passwd"),
            "leaves the repository",
        ),
        (lambda p: p[: p.index(b"diff --git")], "no diff"),
        (lambda p: b"", "empty"),
    ],
)
def test_bad_patches_are_refused(mutate, needle):
    with pytest.raises(PatchError, match=needle):
        read_mails(mutate(PATCH))


def _with_body_line(patch: bytes, line: bytes) -> bytes:
    """``patch`` with ``line`` as the first line of its commit message body."""
    head, sep, rest = patch.partition(b"\n\n")
    return head + sep + line + b"\n\n" + rest


def test_mboxrd_quoting_is_undone():
    # lore/b4 mboxrd: a body line "From the docs ..." is stored as ">From the docs ..."
    one = _with_body_line(PATCH, b">From the docs: keep the check.")
    two = _with_body_line(PATCH, b">>From here on, quoted twice.")
    first, second = read_mails(one + b"\n" + two)
    assert "\nFrom the docs: keep the check.\n" in "\n" + first.message
    assert ">From" not in first.message
    assert "\n>From here on, quoted twice.\n" in "\n" + second.message
    assert read_mail(one).message == first.message


def test_unquoted_from_in_a_body_is_not_a_separator():
    # git format-patch does not quote; like git mailsplit, only a From line with a date splits
    text = _with_body_line(PATCH, b"From the docs: keep the check.")
    (m,) = read_mails(text + b"\n" + text)[:1]
    assert "From the docs: keep the check." in m.message
    assert len(read_mails(text + b"\n" + text)) == 2
    assert m.files[0].hunks


@pytest.mark.parametrize("backup", ["a/mm/x.c~fix-the-thing", "a/mm/x.c.orig"])
def test_quilt_backup_names_are_the_file_itself(backup):
    """akpm's and quilt's patches name the old side after its backup copy (`f~patch`, `f.orig`)."""
    text = (
        "From: A <a@example.org>\nSubject: [PATCH] x\n\nbody\n---\n"
        f"--- {backup}\n+++ a/mm/x.c\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"
    )
    (fp,) = read_mail(text.encode()).files
    assert (fp.source, fp.target) == ("mm/x.c", "mm/x.c")
    assert apply_file(b"a\nc\n", fp).data == b"a\nb\nc\n"


def test_a_different_file_on_each_side_stays_a_rename():
    text = (
        "From: A <a@example.org>\nSubject: [PATCH] x\n\nbody\n---\n"
        "--- a/mm/x.c\n+++ b/mm/x.c~\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"
    )
    (fp,) = read_mail(text.encode()).files
    assert (fp.source, fp.target) == ("mm/x.c", "mm/x.c~")
