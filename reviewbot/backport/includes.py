"""An ``#include`` a backport adds because the older file does not include the header yet.

Upstream's file may already include ``<linux/pagewalk.h>`` where the stable file does not; the
maintainer adds the include with the fix that needs it. Such a line is set aside before the
edits are compared (:mod:`reviewbot.backport.drift`) and listed as a deviation when

- upstream's change does not add the same include (then it is compared like any line);
- the target file does not include the header already;
- the header exists in the target tree (``header`` reads it: ``<x.h>`` under ``include/``,
  ``"x.h"`` next to the file), and it names an identifier the backport's added code uses and
  the target file itself does not declare — the reason the include is there.

Anything else stays a difference: an include of a header the tree lacks, or one that declares
nothing the change uses.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from reviewbot.backport.ctokens import declared, idents, tokens
from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node
from reviewbot.diffs.patches import FilePatch, Hunk

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

HeaderReader = Callable[[str], str | None]  # repository path -> text at the target, or None


def _included(text: str) -> set[str]:
    return {m.group(2).strip() for x in text.split("\n") if (m := INCLUDE.match(x))}


def header_path(line: str, file_path: str) -> str | None:
    """The repository path an ``#include`` line names (None when it is not one)."""
    m = INCLUDE.match(line)
    if m is None:
        return None
    name = m.group(2).strip()
    if m.group(1) == "<":
        return posixpath.normpath(posixpath.join("include", name))
    return posixpath.normpath(posixpath.join(posixpath.dirname(file_path), name))


def justified(
    u: FilePatch, b: FilePatch, text: str, header: HeaderReader | None
) -> tuple[FilePatch, list[str]]:
    """``b`` without the includes it adds for a reason (see the module docstring), and a note
    for each; ``b`` unchanged when there is none or no way to read the headers."""
    if header is None:
        return b, []
    upstream_adds = {
        m.group(2).strip() for h in u.hunks for x in h.added if (m := INCLUDE.match(x))
    }
    present = _included(text)
    code = [x for h in b.hunks for x in h.added if not INCLUDE.match(x)]
    used = idents(tokens(code)) - declared(text.split("\n")) - declares(text)
    dropped: set[tuple[int, int]] = set()
    notes: list[str] = []
    for hn, h in enumerate(b.hunks):
        for ln, (kind, x) in enumerate(h.lines):
            m = INCLUDE.match(x) if kind == "+" else None
            if m is None:
                continue
            name = m.group(2).strip()
            path = header_path(x, b.path)
            if name in upstream_adds or name in present or path is None:
                continue
            body = header(path)
            if body is None:
                continue
            named = sorted(used & declares(body, path))
            if not named:
                continue
            dropped.add((hn, ln))
            notes.append(
                f"added #include {m.group(1)}{name}{'>' if m.group(1) == '<' else chr(34)}, "
                f"which the older file lacks: it declares {', '.join(named[:3])}"
            )
    if not dropped:
        return b, []
    hunks = tuple(
        _without(h, {ln for hn2, ln in dropped if hn2 == hn}) for hn, h in enumerate(b.hunks)
    )
    return replace(b, hunks=hunks), notes


def declares(text: str, path: str = "<header>") -> set[str]:
    """Names ``text`` declares or defines: functions and prototypes, macros, struct, union and
    enum tags, enumerators, typedefs, variables (not the names it merely uses)."""
    out: set[str] = set()
    for n in syntax.walk(syntax.parse(text.encode("utf-8", "replace"), path).root):
        t = n.type
        if t in ("preproc_def", "preproc_function_def", "enumerator"):
            name = n.child_by_field_name("name")
            out |= {syntax.text(name)} if name is not None else set()
        elif t in ("struct_specifier", "union_specifier", "enum_specifier"):
            name = n.child_by_field_name("name")
            if name is not None and n.child_by_field_name("body") is not None:
                out.add(syntax.text(name))
        elif t in ("function_declarator", "init_declarator"):
            out |= _declarator_names([n.child_by_field_name("declarator")])
        elif t in ("declaration", "type_definition"):
            out |= _declarator_names(n.children_by_field_name("declarator"))
    return out


def _declarator_names(decls: Sequence[Node | None]) -> set[str]:
    """The identifiers (or typedef names) declared by ``decls``, through pointers and arrays."""
    out = set()
    for d in decls:
        while d is not None and d.type not in ("identifier", "type_identifier"):
            d = d.child_by_field_name("declarator")
        if d is not None:
            out.add(syntax.text(d))
    return out


def _without(h: Hunk, rows: set[int]) -> Hunk:
    if not rows:
        return h
    lines = tuple(row for i, row in enumerate(h.lines) if i not in rows)
    return replace(h, lines=lines, target_length=h.target_length - len(rows))
