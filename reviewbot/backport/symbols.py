"""Do the lines a backport adds name only what the target has?

Identifiers and labels the target file, function and tree lack (:func:`symbols_ok` fails with
them, or warns when the tree cannot be asked), and locals only other functions declare; a name spelt with a word the hunk renames takes
the target's word (:func:`word_renames`); a folio call handed a page is refused
(:func:`mixed_api`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from reviewbot.backport import statements
from reviewbot.backport.known import API_NOUNS, Known, declared
from reviewbot.backport.places import Failure
from reviewbot.ctree import syntax
from reviewbot.diffs.mailfmt import Edit


def unknown_symbols(lines: list[str], known: Known) -> tuple[list[str], list[str]]:
    """(identifiers, labels) the added lines use that the target file and function lack."""
    side = statements.fragment(lines)
    local, labels = declared(side.unit.root)
    names: set[str] = set()
    bad_labels: set[str] = set()
    for t in side.toks(side.unit.root):
        if t.kind == "label":
            if t.text not in known.labels and t.text not in labels:
                bad_labels.add(t.text)
        elif t.kind == "field":
            if t.text not in known.fields:
                names.add(t.text)
        elif (
            t.kind in ("id", "type")
            and t.text not in known.local
            and t.text not in known.anyid
            and t.text not in local
        ):
            names.add(t.text)
    return sorted(names), sorted(bad_labels)


def foreign_locals(lines: list[str], known: Known) -> list[str]:
    """Names the added lines use as values that only the file's other functions declare (a
    ``folio`` where the target function has none): they do not compile here, though the file
    uses the name. Callees, fields and types are not values; names the lines declare are fine.
    """
    if not known.elsewhere:
        return []
    side = statements.fragment(lines)
    own = declared(side.unit.root)[0]
    out: set[str] = set()
    for n in syntax.walk(side.unit.root):
        if n.type != "identifier" or not side.visible(n.start_point[0]):
            continue
        p = n.parent
        if p is not None and p.type == "call_expression" and p.child_by_field_name("function") == n:
            continue
        name = syntax.text(n)
        if name in known.elsewhere and name not in known.local and name not in own:
            out.add(name)
    return sorted(out)


def _nouns(name: str) -> set[str]:
    """The folio/page nouns in a name, plural or not (``folio_put`` -> {folio})."""
    return {w.rstrip("s") for w in name.lower().split("_") if w in API_NOUNS}


def mixed_api(lines: tuple[str, ...], renames: tuple[tuple[str, str], ...]) -> str | None:
    """A local renamed across the folio/page API (``folio`` -> ``page``) passed to a call of
    the upstream API (``folio_put(page)``): the added line would not compile or would mean
    something else. Returns what is wrong, or None."""
    swapped = {(u, t) for u, t in renames if _nouns(u) and _nouns(t) and _nouns(u) != _nouns(t)}
    for u, t in swapped:
        for text in lines:
            for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(([^()]*)", text):
                callee, args = m.group(1), m.group(2)
                if _nouns(callee) & _nouns(u) and re.search(rf"\b{re.escape(t)}\b", args):
                    return f"{callee}() takes a {u}, the target has a {t} ({t} for {u})"
    return None


def word_renames(
    lines: list[str], renames: dict[tuple[str, str], str], known: Known
) -> dict[str, str]:
    """Names the added lines use that the target lacks, spelled with a word the hunk renames.

    A hunk that renames a local (``slab`` -> ``page``) calls helpers named after it
    (``print_slab_info``); the older tree names them the older way (``print_page_info``). A
    name changes only when the renamed word is one of its ``_`` words and the result is a name
    the target file uses or the tree has.
    """
    words = {
        u: t
        for (kind, u), t in renames.items()
        if kind == "id" and u.isidentifier() and "_" not in u.strip("_") and "_" not in t.strip("_")
    }
    if not words:
        return {}
    out: dict[str, str] = {}
    for name in unknown_symbols(lines, known)[0]:
        if ("id", name) in renames or known.has_name(name):
            continue
        parts = name.split("_")
        cands = {
            "_".join(parts[:i] + [words[part]] + parts[i + 1 :])
            for i, part in enumerate(parts)
            if part in words
        }
        have = [c for c in cands if known.has_name(c)]
        if len(have) == 1:
            out[name] = have[0]
    return out


def symbols_ok(
    edits: list[Edit],
    known: Known,
    hn: int,
    fname: str | None,
    where: str,
    failures: list[Failure],
    warnings: list[str],
) -> bool:
    added = [x for e in edits for x in e.add]
    names, labels = unknown_symbols(added, known)
    if labels:
        failures.append(
            Failure(
                hn,
                f"hunk #{hn}: label {', '.join(labels)} does not exist "
                f"{f'in {fname}()' if fname else 'in the function the hunk places in'} at {where}",
                fname,
                f"label {labels[0]}",
                None,
                tuple(f"{x}:" for x in labels),
            )
        )
        return False
    foreign = foreign_locals(added, known)
    if foreign:
        failures.append(
            Failure(
                hn,
                f"hunk #{hn}: {', '.join(foreign)} is not declared in {fname}() at {where} "
                "(only other functions of the file have it)",
                fname,
                ", ".join(foreign),
                None,
                tuple(foreign),
            )
        )
        return False
    missing = []
    for n in names:
        have = known.tree(n) if known.tree is not None else None
        if have is False:
            missing.append(n)
        elif have is None:
            warnings.append(
                f"{n} is not used anywhere in the target file; check it exists in the tree"
            )
    if missing:
        failures.append(
            Failure(
                hn,
                f"hunk #{hn}: {', '.join(missing)} does not exist in the tree at {where}",
                fname,
                ", ".join(missing),
                None,
                tuple(missing),
            )
        )
        return False
    return True


def in_body(known: Known, edits: list[Edit], fn: syntax.Function | None) -> Known:
    """``known`` for checking ``edits``: a name other functions declare is one the edits may
    not use as a value only when they all land inside ``fn``'s body (in its declarator, a new
    parameter is a declaration)."""
    if fn is not None and all(e.start > fn.body.start_point[0] for e in edits):
        return known
    return replace(known, elsewhere=frozenset())
