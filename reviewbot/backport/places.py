"""What placing one change in a target produces, shared by the placement modules.

:class:`Group` (a run of removed/added lines of a hunk), :class:`Ctx` (the target function a
hunk is placed in), :class:`Place` (where the change goes, with what was learned on the way) and
:class:`Failure` (why it could not be placed); the markers a change sits next to when it is not
a statement (``OPEN``, ``CLOSE``, ``UNKNOWN``) and the line helpers they all use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewbot.backport.align import Evidence
from reviewbot.backport.known import Known
from reviewbot.backport.statements import Block, Item, Side
from reviewbot.ctree import syntax
from reviewbot.diffs.patches import Hunk

OPEN, CLOSE, UNKNOWN = "<block start>", "<block end>", "<outside the hunk>"
# what a change sits next to: a statement, or one of the three markers above
Anchor = Item | str


@dataclass(frozen=True)
class Failure:
    """Why one hunk could not be placed, in terms a maintainer can act on."""

    hunk: int
    reason: str
    function: str | None = None
    missing: str | None = None
    nearest: str | None = None
    needles: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "hunk": self.hunk,
            "reason": self.reason,
            "function": self.function,
            "missing": self.missing,
            "nearest": self.nearest,
        }


@dataclass
class Group:
    """A run of removed/added lines of a hunk and its position in the hunk's pre-image."""

    pre: int  # index in the hunk's pre-image of the first removed line / the insertion point
    removed: list[str]
    added: list[str]


def indent(line: str) -> str:
    """A line's leading whitespace."""
    return line[: len(line) - len(line.lstrip())]


def norm(line: str) -> str:
    """A line with whitespace collapsed (for comparing blank and comment lines)."""
    return " ".join(line.split())


@dataclass
class Ctx:
    """The target side of one hunk: the blob, the located function and what it declares."""

    side: Side
    fn: syntax.Function
    root: Block
    known: Known
    up_name: str | None
    renames: dict[tuple[str, str], str] = field(default_factory=dict)
    comment_renames: dict[str, str] = field(default_factory=dict)


@dataclass
class Place:
    """Where one change goes in the target: lines replaced, indentation, evidence."""

    start: int
    remove: int
    up_indent: str
    tgt_indent: str
    evidence: Evidence
    via_rewrite: bool
    adjusted: bool
    lines: tuple[str, ...] | None = None  # the target's new lines, when edited inside a statement


def groups(h: Hunk) -> list[Group]:
    """The runs of removed/added lines of a hunk, with their pre-image positions."""
    out: list[Group] = []
    i = 0
    cur: Group | None = None
    for kind, text in h.lines:
        if kind == " ":
            cur = None
            i += 1
            continue
        if cur is None:
            cur = Group(i, [], [])
            out.append(cur)
        if kind == "-":
            cur.removed.append(text)
            i += 1
        else:
            cur.added.append(text)
    before = h.before
    for g in out:
        # `/*` context, +lines, +`/*`: diff began the insertion inside the comment that
        # follows it; the same change inserts `/*`, the lines, before that comment's `/*`.
        while (
            not g.removed
            and g.added
            and g.pre > 0
            and before[g.pre - 1].strip() == "/*"
            and g.added[-1] == before[g.pre - 1]
        ):
            g.pre -= 1
            g.added = [before[g.pre], *g.added[:-1]]
    return [part for g in out for part in _comment_apart(g)]


def _comment_lead(lines: list[str], directives: bool) -> int:
    """How many lines at the start of ``lines`` are whole comments (and, with
    ``directives``, preprocessor lines), before the first line of code."""
    k, inside = 0, False
    for x in lines:
        s = x.strip()
        if inside:
            inside = "*/" not in s
        elif s.startswith("/*"):
            inside = "*/" not in s[2:]
        elif not (s.startswith("//") or (directives and s.startswith("#")) or not s):
            break
        k += 1
    return k if not inside else 0


def _comment_apart(g: Group) -> list[Group]:
    """A run that rewrites a comment and the code right below it (``/* ... */`` and an ``if``
    head) as two changes: the comment, then the code. An older tree may keep the comment as
    it is and write the code otherwise (a head without its brace): each part is found on
    its own."""
    rc, ac = _comment_lead(g.removed, False), _comment_lead(g.added, True)
    if not (0 < rc < len(g.removed) and 0 < ac < len(g.added)):
        return [g]
    return [
        Group(g.pre, g.removed[:rc], g.added[:ac]),
        Group(g.pre + rc, g.removed[rc:], g.added[ac:]),
    ]


def ins_line(tb: Block, t_before: Anchor) -> int:
    """The last target line before a gap (its block's opening line at the start)."""
    if isinstance(t_before, Item):
        return t_before.end
    return tb.open_line if tb.open_line is not None else 0
