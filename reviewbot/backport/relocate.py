"""Place an upstream change in a target blob: exact, relocated or transformed — or say why not.

For each hunk, in order:

1. **exact** — the hunk applies to the target as is (offsets allowed, never fuzz);
2. **relocated** — the hunk's function is located in the target with the checker's finder
   (rule aliases and fingerprints, or its name), the statements around each change (the one
   before and the one after, or the block opener/closer) are found by structure and compared on
   normalised tokens, the new lines are re-indented to the target and identifiers that differ
   between the trees are mapped with the target function's own declarations;
3. **transformed** — as relocated, but the target re-expresses an API the removed lines or the
   anchors use; the rewrite is learned by anti-unifying the aligned statements and applied to the
   new lines.

Anything else is a :class:`Failure` naming the hunk, the missing function or anchor statement,
the nearest candidate and the text whose history may explain it (for "possible dependencies").
Edits are line edits on the target blob, so the emitted diff takes every context line from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from reviewbot.backport import align, statements
from reviewbot.backport.align import Evidence, Known
from reviewbot.backport.anchors import Ctx, Failure, Group, insertion, norm, reindent, removal
from reviewbot.backport.statements import Side
from reviewbot.checker.locate import locate
from reviewbot.ctree import syntax
from reviewbot.diffs.mailfmt import Edit
from reviewbot.diffs.patches import Applied, ApplyFailure, FilePatch, Hunk, apply_file
from reviewbot.rules.spec import Rule


class Method(StrEnum):
    """How a file of the fix was placed on a target (the ladder, then the two other outcomes)."""

    EXACT = "exact"  # the upstream hunk applies as is
    RELOCATED = "relocated"  # placed by structure (anchor statements), renames allowed
    TRANSFORMED = "transformed"  # placed by structure, with rewrites learned from the two trees
    PRESENT = "present"  # the change is already there
    FAILED = "failed"


# the ladder, in order of growing deviation from upstream
METHODS = (Method.EXACT, Method.RELOCATED, Method.TRANSFORMED)

_SECTION_FN = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class Placed:
    """The result for one file of the fix on one target."""

    upstream_path: str
    path: str
    method: Method
    edits: tuple[Edit, ...] = ()
    functions: tuple[tuple[int, str | None, str | None], ...] = ()  # (hunk, upstream fn, target fn)
    renames: tuple[tuple[str, str], ...] = ()
    rewrites: tuple[str, ...] = ()
    learned: tuple[str, ...] = ()
    failures: tuple[Failure, ...] = ()
    warnings: tuple[str, ...] = ()
    adjusted: bool = False

    @property
    def ok(self) -> bool:
        return self.method in METHODS


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
    return out


def _exact_edits(h: Hunk, at: int) -> list[Edit]:
    return [Edit(at + g.pre, len(g.removed), tuple(g.added)) for g in groups(h)]


def section_function(h: Hunk) -> str | None:
    """The function a hunk's ``@@`` section names (None for labels, structs, nothing)."""
    m = _SECTION_FN.search(h.section or "")
    return m.group(1) if m else None


def _alias_renames(
    rules: tuple[Rule, ...], unit: syntax.Unit, glob: frozenset[str]
) -> dict[str, str]:
    """Upstream names of rule functions the target spells differently (renamed functions)."""
    out: dict[str, str] = {}
    for rule in rules:
        for spec in rule.checks:
            for site in spec.sites:
                loc = locate([unit], site, rule.all_functions - set(site.functions))
                if loc is None:
                    continue
                for alias in site.functions:
                    if alias != loc.function.name and alias not in glob:
                        out[alias] = loc.function.name
    return out


def _function_at(unit: syntax.Unit, line: int) -> syntax.Function | None:
    for defs in unit.functions.values():
        for f in defs:
            if f.node.start_point[0] <= line <= f.node.end_point[0]:
                return f
    return None


def _changed_function(unit: syntax.Unit, start: int, h: Hunk) -> syntax.Function | None:
    """The function the first change of ``h`` (its pre-image placed at line ``start``) lies in.

    A removal lies where its first removed line is; an insertion lies between two lines, inside
    a function only when the lines on both sides belong to it (a new function added after
    another one is at file scope, not in the function before it).
    """
    g = next(iter(groups(h)), None)
    if g is None:
        return None
    at = start + g.pre
    f = _function_at(unit, at)
    if g.removed or f is None:
        return f
    before = _function_at(unit, at - 1)
    return f if before is not None and before.node.start_byte == f.node.start_byte else None


def _target_function(
    name: str | None, unit: syntax.Unit, rules: tuple[Rule, ...]
) -> syntax.Function | None:
    if name is None:
        return None
    for rule in rules:
        for spec in rule.checks:
            for site in spec.sites:
                if name in site.functions:
                    loc = locate([unit], site, rule.all_functions - set(site.functions))
                    if loc is not None:
                        return loc.function
    found = unit.function(name)
    if found is not None:
        return found
    # The folio conversion renamed functions (mlock_new_page -> mlock_new_folio): the one
    # function whose name has the same words, API nouns aside, is the same function.
    words = align.api_words(name)
    same = [f for f in unit.functions if f != name and words and align.api_words(f) == words]
    return unit.function(same[0]) if len(same) == 1 else None


def unknown_symbols(lines: list[str], known: Known) -> tuple[list[str], list[str]]:
    """(identifiers, labels) the added lines use that the target file and function lack."""
    side = statements.fragment(lines)
    local, labels = align.declared(side.unit.root)
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


def relocate_file(
    fp: FilePatch,
    data: bytes,
    path: str,
    *,
    upstream_pre: bytes | None = None,
    rules: tuple[Rule, ...] = (),
    tree: Callable[[str], bool | None] | None = None,
    where: str = "the target",
) -> Placed:
    """Place ``fp`` (an upstream file patch) in ``data`` (the target blob at ``path``)."""
    side = statements.whole(data, path)
    up_whole: Side | None = None
    up_at: list[int] = []
    if upstream_pre is not None:
        a = apply_file(upstream_pre, fp)
        if isinstance(a, Applied):
            up_whole = statements.whole(upstream_pre, fp.source or path)
            up_at = [h.start_index + off for h, off in zip(fp.hunks, a.offsets, strict=True)]
    glob = align.file_names(side.unit)[0]
    aliases = _alias_renames(rules, side.unit, frozenset(glob))
    tgt_toks: list[tuple] = []  # per-line tokens of the target, read only for removals
    edits: list[Edit] = []
    failures: list[Failure] = []
    warnings: list[str] = []
    used_renames: set[tuple[str, str]] = set()
    used_rewrites: list[str] = []
    learned: list[str] = []
    functions: list[tuple[int, str | None, str | None]] = []
    methods: list[Method] = []
    adjusted = False
    present = 0
    for hn, h in enumerate(fp.hunks, 1):
        single: Applied | ApplyFailure | None = apply_file(
            data, FilePatch(fp.source, fp.target, (h,))
        )
        up_fn = None
        if up_whole is not None:
            f = _changed_function(up_whole.unit, up_at[hn - 1], h)
            up_fn = f
        up_name = up_fn.name if up_fn is not None else section_function(h)
        exact_fn = None
        if isinstance(single, Applied):
            at = h.start_index + single.offsets[0]
            exact_fn = _changed_function(side.unit, at, h)
            want = _target_function(up_name, side.unit, rules) if up_name else None
            if (
                want is not None
                and exact_fn is not None
                and exact_fn.node.start_byte != want.node.start_byte
            ):
                single = (
                    None  # the context matches in another function: place it by structure instead
                )
        if isinstance(single, Applied):
            hedits = _exact_edits(h, at)
            tfn = exact_fn
            known = align.known_for(
                side.unit, tfn.node if tfn else None, up_fn.node if up_fn else None, tree
            )
            ok = _symbols_ok(
                hedits, known, hn, tfn.name if tfn else None, where, failures, warnings
            )
            if ok:
                edits += hedits
                methods.append(Method.EXACT)
            functions.append((hn, up_name, tfn.name if tfn else None))
            continue
        if isinstance(apply_file(data, FilePatch(fp.target, fp.source, (h.reversed(),))), Applied):
            present += 1  # the hunk's result is already there
            tfn = _target_function(up_name, side.unit, rules)
            functions.append((hn, up_name, tfn.name if tfn else None))
            continue
        tfn = _target_function(up_name, side.unit, rules)
        if tfn is None:
            near = _close_names(up_name, side.unit)
            failures.append(
                Failure(
                    hn,
                    f"hunk #{hn}: function {up_name or '(unknown)'}() is not in {path} at {where}"
                    + (f" (similar: {', '.join(near)})" if near else ""),
                    up_name,
                    f"{up_name}()",
                    ", ".join(near) or None,
                    (f"{up_name}(",) if up_name else (),
                )
            )
            functions.append((hn, up_name, None))
            continue
        functions.append((hn, up_name, tfn.name))
        known = align.known_for(side.unit, tfn.node, up_fn.node if up_fn else None, tree)
        ctx = Ctx(side, tfn, statements.function_block(side, tfn.node), known, up_name)
        if up_whole is not None and up_fn is not None:
            up_side, base = up_whole, up_at[hn - 1]
            up_root = statements.function_block(up_whole, up_fn.node)
            full_ev = Evidence()
            align.align_blocks(up_root, ctx.root, known, full_ev)
        else:
            up_side, base, full_ev = statements.fragment(h.before), 0, None
            up_root = statements.fragment_block(up_side)
        up_toks: list[tuple] = []
        for g in groups(h):
            p = base + g.pre
            if g.removed:
                tgt_toks = tgt_toks or statements.line_tokens(side)
                up_toks = up_toks or statements.line_tokens(up_side)
                place = removal(g, p, up_side, up_toks, ctx, tgt_toks, hn, where, full_ev, up_root)
            else:
                place = insertion(g, p, up_side, up_root, ctx, hn, where, full_ev)
            if isinstance(place, Failure):
                failures.append(place)
                continue
            renames, rewrites, conflicts = place.evidence.resolve()
            for (kind, u), t in list(renames.items()):
                if kind == "id" and t in glob and u not in known.anyid:
                    ctx.comment_renames[u] = t
            for u, t in aliases.items():
                renames.setdefault(("id", u), t)
                ctx.comment_renames.setdefault(u, t)
            if up_name and tfn.name != up_name:
                renames.setdefault(("id", up_name), tfn.name)
                ctx.comment_renames.setdefault(up_name, tfn.name)
            learned += [r.show() for r in rewrites]
            used = (
                {
                    t.text
                    for t in statements.fragment(g.added).toks(
                        statements.fragment(g.added).unit.root
                    )
                }
                if conflicts
                else set()
            )
            clash = [why for name, why in conflicts.items() if name in used]
            if clash:
                failures.append(
                    Failure(
                        hn,
                        f"hunk #{hn}: the trees disagree on how to map {'; '.join(clash)}",
                        tfn.name,
                    )
                )
                continue
            tr = align.transform(g.added, renames, rewrites, ctx.comment_renames)
            added = reindent(list(tr.lines), place.up_indent, place.tgt_indent)
            edit = Edit(place.start, place.remove, tuple(added))
            if not place.remove and _already(edit, side.lines):
                present += 1
                continue
            if not _symbols_ok([edit], known, hn, tfn.name, where, failures, warnings):
                continue
            edits.append(edit)
            used_renames |= set(tr.renames)
            used_rewrites += [r.show() for r in tr.rewrites if r.show() not in used_rewrites]
            adjusted = adjusted or place.adjusted
            methods.append(
                Method.TRANSFORMED
                if tr.rewrites or place.via_rewrite and place.remove
                else Method.RELOCATED
            )
    learned = list(dict.fromkeys(learned))
    if failures:
        return Placed(
            fp.source or path,
            path,
            Method.FAILED,
            (),
            tuple(functions),
            tuple(sorted(used_renames)),
            tuple(used_rewrites),
            tuple(learned),
            tuple(failures),
            tuple(warnings),
            adjusted,
        )
    if not edits and present:
        return Placed(
            fp.source or path, path, Method.PRESENT, (), tuple(functions), warnings=tuple(warnings)
        )
    edits.sort(key=lambda e: e.start)
    for first, second in zip(edits, edits[1:], strict=False):
        if first.start + first.remove > second.start:
            return Placed(
                fp.source or path,
                path,
                Method.FAILED,
                (),
                tuple(functions),
                failures=(Failure(0, "two hunks land on the same target lines"),),
            )
    method = max(methods, key=METHODS.index) if methods else Method.EXACT
    return Placed(
        fp.source or path,
        path,
        method,
        tuple(edits),
        tuple(functions),
        tuple(sorted(used_renames)),
        tuple(used_rewrites),
        tuple(learned),
        (),
        tuple(warnings),
        adjusted or method != Method.EXACT,
    )


def _already(edit: Edit, lines: list[str]) -> bool:
    """The new lines are already right there in the target (never add a change twice)."""
    code = [norm(x) for x in edit.add if x.strip()]
    if len(code) < 2 and len(" ".join(code).split()) < 5:
        return False  # too little to tell a repeated line from the same change
    for start in (edit.start, edit.start - len(edit.add)):
        have = [norm(x) for x in lines[max(start, 0) : max(start, 0) + len(edit.add)] if x.strip()]
        if have[: len(code)] == code and start >= 0:
            return True
    return False


def _symbols_ok(
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
                f"hunk #{hn}: label {', '.join(labels)} does not exist in {fname}() at {where}",
                fname,
                f"label {labels[0]}",
                None,
                tuple(f"{x}:" for x in labels),
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


def _close_names(name: str | None, unit: syntax.Unit) -> list[str]:
    import difflib

    if not name:
        return []
    return difflib.get_close_matches(name, sorted(unit.functions), n=3, cutoff=0.6)
