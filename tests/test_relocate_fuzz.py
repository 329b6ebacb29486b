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
