"""C tokens for comparing two edits: the tokenizer (comments dropped), the token classes the
drift judgement counts (exits, control flow, logic), declared names, and the line and run
helpers shared by :mod:`reviewbot.backport.edits`, :mod:`reviewbot.backport.misplaced`,
:mod:`reviewbot.backport.readings` and :mod:`reviewbot.backport.drift`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from reviewbot.diffs.patches import Hunk

_TOKEN = re.compile(
    r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*|\d\w*|->|\+\+|--|<<=|>>=|<=|>=|==|!=|&&|\|\||[-+*/%&|^<>]=|<<|>>|\S'
)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
IDENT = re.compile(r"[A-Za-z_]\w*$")
EXITS = frozenset({"return", "goto", "continue", "break"})
CONTROL = frozenset({"if", "else", "while", "for", "switch", "case", "do"}) | EXITS
LOGIC = frozenset({"!", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "?"})
CRITICAL = CONTROL | LOGIC
KEYWORDS = CONTROL | frozenset(
    {"sizeof", "struct", "union", "enum", "unsigned", "int", "long", "bool", "void", "const"}
)


def tokens(lines: Iterable[str]) -> list[str]:
    """C tokens of ``lines`` with comments removed (also comments split across lines)."""
    text = COMMENT.sub(" ", "\n".join(lines))
    # a comment cut by the hunk boundary: drop its remaining lines
    out: list[str] = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith(("*", "/*")) or s.endswith("*/"):
            continue
        out += _TOKEN.findall(line)
    return out


_DECL = re.compile(
    r"^\s*(?:(?:const|unsigned|signed|struct|enum|union|static)\s+)*([A-Za-z_]\w*)[\s*]+"
    r"([A-Za-z_]\w*)\s*(?:=|;|\[)"
)


def declared(lines: Iterable[str]) -> set[str]:
    """Names the lines declare as locals or globals (``type name =``, ``type *name;``)."""
    out = set()
    for line in lines:
        m = _DECL.match(line)
        # a type that is a keyword (bool, int, long) declares; a statement keyword does not
        if m and m.group(1) not in CONTROL | {"sizeof"}:
            out.add(m.group(2))
    return out


def closing(toks: list[str], i: int) -> int | None:
    """The index of the ``)`` that closes the ``(`` at ``toks[i]`` (None: it never closes)."""
    depth = 0
    for j in range(i, len(toks)):
        depth += (toks[j] == "(") - (toks[j] == ")")
        if depth == 0:
            return j
    return None


def idents(toks: Iterable[str]) -> set[str]:
    """The identifiers among ``toks`` (keywords left out)."""
    return {t for t in toks if IDENT.match(t) and t not in KEYWORDS}


def code_line(text: str) -> str | None:
    """``text`` with its whitespace collapsed, or None when it is (part of) a comment or blank."""
    s = " ".join(text.split())
    return s if s and not s.startswith(("/*", "*", "//")) and not s.endswith("*/") else None


def changed_runs(h: Hunk) -> list[tuple[list[tuple[int, str]], list[tuple[int, str]]]]:
    """Each run of changed lines of ``h``: its removed and its added (line index, text)."""
    runs: list[tuple[list[tuple[int, str]], list[tuple[int, str]]]] = []
    prev = " "
    for i, (kind, x) in enumerate(h.lines):
        if kind != " " and prev == " ":
            runs.append(([], []))
        if kind != " ":
            (runs[-1][0] if kind == "-" else runs[-1][1]).append((i, x))
        prev = kind
    return runs


def token_ratio(a: list[str], b: list[str]) -> float:
    """How alike two token sequences are (difflib's ratio, 0 to 1)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


_TIGHT_BEFORE = frozenset({")", "]", ",", ";", ".", "->"})
_TIGHT_AFTER = frozenset({"(", "[", ".", "->", "!", "~"})


def join(words: Sequence[str]) -> str:
    """Tokens written back as C is written (`f(a, -b);`, `p->x`, `if (c)`,
    `#include <linux/mm.h>`): for messages only."""
    out: list[str] = []
    prev, glued, header = "", False, False
    for w in words:
        tight = glued or header or w in _TIGHT_BEFORE or prev in _TIGHT_AFTER
        call = w in ("(", "[") and bool(IDENT.match(prev)) and (prev not in CONTROL)
        if out and not tight and not call:
            out.append(" ")
        out.append(w)
        # a prefix operator sticks to its operand: after an operator, an opening or nothing
        glued = w == "#" or (
            w in _PREFIX and (not prev or prev in _BEFORE_PREFIX or prev[-1] in "=<>!&|?:+-*/%^")
        )
        # an include's <path> is one word
        header = (header and w != ">") or (w == "<" and prev == "include")
        prev = w
    return "".join(out)


_PREFIX = frozenset({"-", "&", "*", "+"})
_BEFORE_PREFIX = frozenset({"(", "[", ",", ";", "{", "}", "return", "case"})
