"""Diffs written from line edits: what git diff writes, and exact round trips."""

from __future__ import annotations

import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.demo import fixture_text
from reviewbot.diffs.mailfmt import Edit, apply_edits, diffstat, file_diff, hunks, minimal, slug
from reviewbot.diffs.patches import apply_file, parse_mail

OLD = fixture_text("v5.10.178.c")
N = len(OLD.decode().split("\n")) - 1


def test_the_backport_hunk_is_what_git_diff_writes(tmp_path):
    new = fixture_text("v5.10.179.c")
    lines = OLD.decode().split("\n")
    at = next(k for k, row in enumerate(lines) if "SCAN_PTE_NON_PRESENT;" in row) + 3
    edits = [
        Edit(
            at,
            0,
            (
                "\t\tif (pte_uffd_wp(pteval)) {",
                "\t\t\tresult = SCAN_PTE_UFFD_WP;",
                "\t\t\tgoto out;",
                "\t\t}",
            ),
        )
    ]
    assert apply_edits(OLD, edits) == new
    (tmp_path / "a").write_bytes(OLD)
    (tmp_path / "b").write_bytes(new)
    git = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "a", "b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout
    assert git[git.index("@@") :] == "".join(hunks(OLD, edits))


def test_hunk_ranges_near_the_edges():
    data = b"a\nb\nc\n"
    assert hunks(data, [Edit(0, 0, ("x",))]) == [
        "@@ -0,0 +1 @@\n+x\n a\n b\n c\n".replace("@@ -0,0 +1 @@", "@@ -1,3 +1,4 @@")
    ]
    assert hunks(data, [Edit(2, 1, ())]) == ["@@ -1,3 +1,2 @@\n a\n b\n-c\n"]
    assert hunks(b"a\nb", [Edit(0, 1, ("z",))]) == [
        "@@ -1,2 +1,2 @@\n-a\n+z\n b\n\\ No newline at end of file\n"
    ]


edit_lists = st.lists(
    st.tuples(
        st.integers(0, N - 1),
        st.integers(0, 3),
        st.lists(st.sampled_from(["\tx++;", "", "\t/* y */", "}"]), max_size=3),
    ),
    max_size=5,
)


def _edits(raw) -> list[Edit]:
    """Generated (start, remove, add) triples as non-overlapping edits of OLD."""
    edits: list[Edit] = []
    taken: set[int] = set()
    for start, remove, add in sorted(raw):
        span = set(range(start, start + remove + 1))
        if span & taken or start + remove > N:
            continue
        taken |= span
        edits.append(Edit(start, remove, tuple(add)))
    return edits


@settings(max_examples=60, deadline=None)
@given(edit_lists)
def test_any_edits_round_trip_through_the_patch(raw):
    edits = _edits(raw)
    want = apply_edits(OLD, edits)
    diff = file_diff("mm/khugepaged.c", OLD, edits)
    if not any(e.remove or e.add for e in edits):
        # Nothing to write: no hunk at all (an edit that rewrites a line as it was still
        # round-trips below).
        assert want == OLD and hunks(OLD, edits) == [] and "@@" not in diff
        return
    fp = parse_mail("Subject: x\n\nx\n---\n" + diff).files[0]
    got = apply_file(OLD, fp, max_offset=0)  # our own hunks: no offset, no fuzz
    assert got.data == want


@settings(max_examples=60, deadline=None)
@given(edit_lists)
def test_minimal_edits_give_the_same_file(raw):
    edits = _edits(raw)
    assert apply_edits(OLD, minimal(OLD, edits)) == apply_edits(OLD, edits)


def test_a_line_removed_and_added_again_is_context():
    # a parameter inserted before a line the edit rewrote as it was: one added line
    lines = OLD.decode().split("\n")
    e = Edit(10, 1, ("\tatomic_t *changing,", lines[10]))
    assert minimal(OLD, [e]) == [Edit(10, 0, ("\tatomic_t *changing,",))]
    e = Edit(10, 2, (lines[10], "\tnew;", lines[11]))
    assert minimal(OLD, [e]) == [Edit(11, 0, ("\tnew;",))]


def test_diffstat_and_file_names():
    assert (
        diffstat([("mm/khugepaged.c", 4, 0)])
        == " mm/khugepaged.c | 4 ++++\n 1 file changed, 4 insertions(+)\n"
    )
    assert diffstat([("a.c", 1, 1), ("b.c", 0, 2)]).endswith(
        " 2 files changed, 1 insertion(+), 3 deletions(-)\n"
    )
    assert (
        slug("mm/khugepaged: check again on anon uffd-wp during isolation")
        == "mm-khugepaged-check-again-on-anon-uffd-wp-during-iso"
    )
    assert slug("[x] ..weird!!") == "x-.weird"
