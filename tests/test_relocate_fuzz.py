"""Placing a change never crashes: random edits of real-shaped C, placed on other C files.

Each example takes a window of a fixture, changes it (lines removed, lines from elsewhere
inserted, a token swapped), writes that as a hunk, and places it on another fixture. Whatever
the outcome (placed, present or failed), relocate_file returns a result and never raises.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.backport.relocate import relocate_file
from reviewbot.diffs.mailfmt import apply_edits
from reviewbot.diffs.patches import read_mail

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCES = (
    sorted(p.read_bytes() for p in (FIXTURES / "cases").glob("*.c"))[:24]
    + sorted(p.read_bytes() for p in (FIXTURES / "eras").glob("*.c"))[:6]
)
LINES = [s.decode("utf-8", "replace").split("\n") for s in SOURCES]


@st.composite
def hunks(draw):
    src = draw(st.sampled_from(LINES))
    start = draw(st.integers(0, max(0, len(src) - 12)))
    window = src[start : start + draw(st.integers(3, 12))]
    body: list[str] = []
    for i, line in enumerate(window):
        op = draw(st.sampled_from(["keep", "keep", "keep", "remove", "insert", "swap"]))
        if op == "remove":
            body.append("-" + line)
        elif op == "insert":
            other = draw(st.sampled_from(LINES))
            body.append("+" + draw(st.sampled_from(other or [""])))
            body.append(" " + line)
        elif op == "swap" and line.strip():
            body.append("-" + line)
            body.append("+" + line.replace("(", "(READ_ONCE(", 1).replace(")", "))", 1))
        else:
            body.append(" " + line)
        del i
    if not any(x[:1] in "+-" for x in body):
        body.append("+\tnew_call();")
    old = sum(x[:1] in " -" for x in body)
    new = sum(x[:1] in " +" for x in body)
    section = draw(st.sampled_from(["", " retry:", " static int f(struct x", " int g(void);"]))
    text = (
        f"--- a/mm/x.c\n+++ b/mm/x.c\n@@ -{start + 1},{old} +{start + 1},{new} @@{section}\n"
        + "\n".join(body)
        + "\n"
    )
    return read_mail(text.encode()).files[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hunks(), st.sampled_from(SOURCES))
def test_placing_a_random_change_never_crashes(fp, target):
    p = relocate_file(fp, target, "mm/x.c")
    assert p.method in ("exact", "relocated", "transformed", "present", "failed")
    if p.ok:
        apply_edits(target, list(p.edits))  # the edits fit the target


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hunks())
def test_splitting_a_hunk_per_function_keeps_its_lines_and_counts(fp):
    from reviewbot.backport.targetfn import split_at_definitions

    (h,) = fp.hunks
    parts = split_at_definitions(h)
    assert tuple(x for p in parts for x in p.lines) == h.lines
    assert sum(p.source_length for p in parts) == h.source_length
    assert sum(p.target_length for p in parts) == h.target_length
    for a, b in zip(parts, parts[1:], strict=False):
        assert b.source_start == a.source_start + a.source_length
        assert b.target_start == a.target_start + a.target_length


_HELPER_CALLS = st.sampled_from(
    [
        "ptdesc_pmd_is_shared(p)",
        "!ptdesc_pmd_is_shared(virt_to_ptdesc(pte))",
        "ptdesc_pmd_pts_count(a + b)",
        "virt_to_ptdesc(x->y)",
        "ptdesc_pmd_is_shared(",
    ]
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from(sum(LINES[:3], [])) | _HELPER_CALLS.map(lambda c: f"\tif ({c})"), max_size=8
    ),
    st.booleans(),
    st.booleans(),
)
def test_spelling_later_helpers_older_never_crashes_and_keeps_the_lines(lines, bool_fn, top):
    from reviewbot.backport.rewrites import older_exprs

    out, apis = older_exprs(lines, lambda n: n in ("atomic_read", "virt_to_page"), bool_fn, top)
    assert len(out) == len(lines)
    assert all(a == b for a, b in zip(out, lines, strict=True) if "ptdesc" not in b)
    assert set(apis) <= {"the ptdesc API"}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([" ", "+", "-"]),
            st.sampled_from(sum(LINES[:3], []) + ["{", "\t\tint *p,", "int f(int a,"]),
        ),
        max_size=12,
    )
)
def test_reading_new_parameters_never_crashes(lines):
    from reviewbot.backport.decls import new_parameters

    assert all(isinstance(n, str) and n for n in new_parameters(lines))
