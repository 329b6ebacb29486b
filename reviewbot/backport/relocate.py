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
The parts: which target function a hunk changes (:mod:`targetfn`), where an insertion goes
(:mod:`anchors`), where removed lines are (:mod:`removals`), edits inside one statement
(:mod:`partial`), file-scope changes (:mod:`filescope`), and which names the new lines may use
(:mod:`symbols`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from reviewbot.backport import align, arity, filescope, statements
from reviewbot.backport.align import Evidence
from reviewbot.backport.anchors import insertion, reindent
from reviewbot.backport.arity import ParamCount
from reviewbot.backport.decls import declarations, new_local, new_parameters
from reviewbot.backport.known import Known, declared, file_names, known_for, related_names
from reviewbot.backport.partial import declarator_change
from reviewbot.backport.places import Ctx, Failure, Place, groups, norm
from reviewbot.backport.removals import removal
from reviewbot.backport.rewrites import (
    older_edits,
    older_hunk,
    returns_bool_fn,
    same_when_older,
    transform,
)
from reviewbot.backport.spelling import as_the_tree_writes
from reviewbot.backport.statements import Side
from reviewbot.backport.symbols import in_body, mixed_api, symbols_ok, word_renames
from reviewbot.backport.targetfn import (
    changed_function,
    close_names,
    comment_holders,
    declarator_start,
    defines_another,
    functions_like,
    per_function,
    section_function,
    target_function,
)
from reviewbot.checker.locate import locate
from reviewbot.ctree import syntax
from reviewbot.diffs.mailfmt import Edit
from reviewbot.diffs.patches import Applied, ApplyFailure, FilePatch, Hunk, apply_file
from reviewbot.rules.records import Rule


class Method(StrEnum):
    """How a file of the fix was placed on a target (the ladder, then the two other outcomes)."""

    EXACT = "exact"  # the upstream hunk applies as is
    RELOCATED = "relocated"  # placed by structure (anchor statements), renames allowed
    TRANSFORMED = "transformed"  # placed by structure, with rewrites learned from the two trees
    PRESENT = "present"  # the change is already there
    FAILED = "failed"


# the ladder, in order of growing deviation from upstream
METHODS = (Method.EXACT, Method.RELOCATED, Method.TRANSFORMED)


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


def _exact_edits(h: Hunk, at: int) -> list[Edit]:
    return [Edit(at + g.pre, len(g.removed), tuple(g.added)) for g in groups(h)]


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


def relocate_file(
    fp: FilePatch,
    data: bytes,
    path: str,
    *,
    upstream_pre: bytes | None = None,
    rules: tuple[Rule, ...] = (),
    tree: Callable[[str], bool | None] | None = None,
    where: str = "the target",
    params: ParamCount | None = None,
) -> Placed:
    """Place ``fp`` (an upstream file patch) in ``data`` (the target blob at ``path``).

    ``params`` gives a function's parameter count in the target tree: a call passing one
    more ``NULL`` than the older API takes is fitted (:mod:`reviewbot.backport.arity`)."""
    side = statements.whole(data, path)
    fp = per_function(fp, data)
    up_whole: Side | None = None
    up_at: list[int] = []
    if upstream_pre is not None:
        a = apply_file(upstream_pre, fp)
        if isinstance(a, Applied):
            up_whole = statements.whole(upstream_pre, fp.source or path)
            up_at = [h.start_index + off for h, off in zip(fp.hunks, a.offsets, strict=True)]
    glob = file_names(side.unit)[0]
    # locals the fix itself declares (a hunk may use one another hunk adds)
    own: set[str] = set()
    # labels the fix adds, by the function the hunk names (a jump to one another hunk adds)
    own_labels: dict[str | None, set[str]] = {}
    for h in fp.hunks:
        added = [text for kind, text in h.lines if kind == "+"]
        if added:
            names, labels = declared(statements.fragment(added).unit.root)
            own |= names | new_parameters(list(h.lines))
            own_labels.setdefault(section_function(h), set()).update(labels)
    # the argument counts the fix's own calls use (a call passing fewer is checked)
    fix_calls = arity.fix_calls(*(h.added for h in fp.hunks))
    aliases = _alias_renames(rules, side.unit, glob)
    # every line upstream's patch shows of the file (what a file-scope anchor may rely on)
    shown = frozenset(x.rstrip() for h in fp.hunks for kind, x in h.lines if kind != "+")

    def with_own(known: Known, up_name: str | None) -> Known:
        """``known`` with the locals the fix declares and the labels it adds to ``up_name``."""
        return replace(
            known, local=known.local | own, labels=known.labels | own_labels.get(up_name, set())
        )

    tgt_cache: list[list[tuple]] = [[]]  # per-line tokens of the target, for removals
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

    def structural(
        hn: int,
        h: Hunk,
        tfn: syntax.Function,
        up_fn: syntax.Function | None,
        up_name: str | None,
        inlined: bool,
    ) -> _Trial:
        """Place one hunk in ``tfn`` by structure (relocated / transformed), or say why not."""
        res = _Trial()
        known = with_own(
            known_for(side.unit, tfn.node, up_fn.node if up_fn else None, tree), up_name
        )
        ctx = Ctx(side, tfn, statements.function_block(side, tfn.node), known, up_name)
        fn_lines = side.lines[tfn.node.start_point[0] : tfn.node.end_point[0] + 1]
        if up_whole is not None and up_fn is not None:
            up_side, base = up_whole, up_at[hn - 1]
            up_root = statements.function_block(up_whole, up_fn.node)
            full_ev = Evidence()
            align.align_blocks(up_root, ctx.root, known, full_ev)
        else:
            up_side, base, full_ev = statements.fragment(h.before), 0, None
            up_root = statements.fragment_block(up_side)
        up_toks: list[tuple] = []
        hunk_edits: list[Edit] = []
        hunk_ev = Evidence()
        # where the function's body opens in the hunk (a change above it is in the declarator)
        opening = next((k for k, x in enumerate(h.before) if x.rstrip() == "{"), None)
        if up_fn is not None and up_whole is not None:
            body = up_fn.body
            if body is not None and up_at[hn - 1] <= body.start_point[0] < up_at[hn - 1] + len(
                h.before
            ):
                opening = body.start_point[0] - up_at[hn - 1]
        own_names: set[str | None] = {tfn.name} if inlined else {tfn.name, up_name}
        for g in groups(h):
            p = base + g.pre
            if (
                opening is not None
                and g.pre + len(g.removed) <= opening
                and g.pre < opening
                and not defines_another(h.before[:opening], own_names)
                # an insertion at the definition line goes before it, not into the declarator
                and g.pre >= declarator_start(h.before[:opening]) + (0 if g.removed else 1)
            ):
                sig = h.before[:opening]
                post = sig[: g.pre] + g.added + sig[g.pre + len(g.removed) :]
                place: Place | Failure | None = declarator_change(sig, post, ctx)
                if place is None:
                    place = Failure(
                        hn,
                        f"hunk #{hn}: the change to the declarator of {up_name or tfn.name}() "
                        f"does not carry over to {tfn.name}() at {where} (other parameters around "
                        "it, or the target already has the name, or types it otherwise)",
                        tfn.name,
                    )
            elif g.removed and same_when_older(
                g.removed, g.added, fn_lines, known.has_name, returns_bool_fn(tfn.node)
            ):
                res.present += 1  # one later helper for another: the same code in this tree
                continue
            elif g.removed:
                tgt_toks = tgt_cache[0] = tgt_cache[0] or statements.line_tokens(side)
                up_toks = up_toks or statements.line_tokens(up_side)
                place = removal(g, p, up_side, up_toks, ctx, tgt_toks, hn, where, full_ev, up_root)
            else:
                place = insertion(g, p, up_side, up_root, ctx, hn, where, full_ev)
                if isinstance(place, Failure) and declarations(g.added):
                    place = new_local(g, ctx, hunk_edits, res.edits) or place
            if isinstance(place, Failure):
                res.failures.append(place)
                continue
            # what an earlier change of the hunk learned (a callee renamed in a context line)
            # holds for this one too
            own_ev = Evidence(list(place.evidence.renames), list(place.evidence.rewrites))
            place.evidence.merge(hunk_ev)
            hunk_ev.merge(own_ev)
            renames, rewrites, conflicts = place.evidence.resolve()
            for (kind, u), t in list(renames.items()):
                if kind == "id" and t in glob and u not in known.anyid:
                    ctx.comment_renames[u] = t
            for u, t in aliases.items():
                renames.setdefault(("id", u), t)
                ctx.comment_renames.setdefault(u, t)
            if up_name and tfn.name != up_name and not inlined:
                renames.setdefault(("id", up_name), tfn.name)
                ctx.comment_renames.setdefault(up_name, tfn.name)
            for u, t in word_renames(
                list(place.lines) if place.lines is not None else g.added, renames, known
            ).items():
                renames.setdefault(("id", u), t)
            res.learned += [r.show() for r in rewrites]
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
                res.failures.append(
                    Failure(
                        hn,
                        f"hunk #{hn}: the trees disagree on how to map {'; '.join(clash)}",
                        tfn.name,
                    )
                )
                continue
            if place.lines is not None:  # edited inside a statement: already target lines
                tr = transform(list(place.lines), renames, rewrites, ctx.comment_renames)
                added = list(tr.lines)
            else:
                tr = transform(g.added, renames, rewrites, ctx.comment_renames)
                added = reindent(list(tr.lines), place.up_indent, place.tgt_indent)
            spelled = as_the_tree_writes(
                added, h.before, tfn, fn_lines, side.unit, known, params, fix_calls, where
            )
            added, mismatched = spelled.lines, spelled.refused
            res.rewrites += spelled.released
            res.warnings += [f"hunk #{hn}: {w}" for w in spelled.warnings]
            if mismatched:
                res.failures.append(
                    Failure(hn, f"hunk #{hn}: {mismatched[0]}", tfn.name, mismatched[0])
                )
                continue
            edit = Edit(place.start, place.remove, tuple(added))
            if not place.remove and _already(edit, side.lines):
                res.present += 1
                continue
            if not symbols_ok(
                [edit], in_body(known, [edit], tfn), hn, tfn.name, where, res.failures, res.warnings
            ):
                continue
            mixed = mixed_api(edit.add, tr.renames)
            if mixed:
                res.failures.append(
                    Failure(
                        hn,
                        f"hunk #{hn}: {mixed} in {tfn.name}() at {where}; "
                        "no known API rename converts the call",
                        tfn.name,
                    )
                )
                continue
            res.edits.append(edit)
            hunk_edits.append(edit)
            res.renames |= set(tr.renames) | set(spelled.renames)
            res.rewrites += [r.show() for r in tr.rewrites if r.show() not in res.rewrites]
            res.rewrites += [x for x in spelled.notes if x not in res.rewrites]
            res.adjusted = res.adjusted or place.adjusted
            res.methods.append(
                Method.TRANSFORMED
                if tr.rewrites or place.via_rewrite and place.remove
                else Method.RELOCATED
            )
        return res

    def absorb(trial: _Trial, adjust: bool) -> None:
        """Take one hunk's structural placement into the file's result."""
        nonlocal adjusted, present
        edits.extend(trial.edits)
        failures.extend(trial.failures)
        warnings.extend(trial.warnings)
        used_renames.update(trial.renames)
        used_rewrites.extend(r for r in trial.rewrites if r not in used_rewrites)
        learned.extend(trial.learned)
        methods.extend(trial.methods)
        adjusted = adjusted or adjust or trial.adjusted
        present += trial.present

    for hn, h in enumerate(fp.hunks, 1):
        single: Applied | ApplyFailure | None = apply_file(
            data, FilePatch(fp.source, fp.target, (h,))
        )
        rewritten = False
        if isinstance(single, ApplyFailure) and tree is not None:
            # its lines call later helpers the tree lacks: as the tree writes them
            older = older_hunk(h, lambda n: bool(tree(n)))
            if older is not None:
                again = apply_file(data, FilePatch(fp.source, fp.target, (older[0],)))
                if isinstance(again, Applied):
                    h, single, rewritten = older[0], again, True
                    used_rewrites.extend(
                        f"for {a}" for a in older[1] if f"for {a}" not in used_rewrites
                    )
        up_fn = None
        if up_whole is not None:
            f = changed_function(up_whole.unit, up_at[hn - 1], h)
            up_fn = f
        up_name = up_fn.name if up_fn is not None else section_function(h)
        exact_fn = None
        if isinstance(single, Applied):
            at = h.start_index + single.offsets[0]
            exact_fn = changed_function(side.unit, at, h)
            want = target_function(up_name, side.unit, rules) if up_name else None
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
            known = with_own(
                known_for(
                    side.unit, tfn.node if tfn else None, up_fn.node if up_fn else None, tree
                ),
                up_name,
            )
            # a call of a later helper the tree lacks: the expression it stands for
            hedits, exprs = older_edits(hedits, known.has_name, tfn.node if tfn else None)
            missing: list[Failure] = []
            ok = symbols_ok(
                hedits,
                in_body(known, hedits, tfn),
                hn,
                tfn.name if tfn else None,
                where,
                missing,
                warnings,
            )
            functions.append((hn, up_name, tfn.name if tfn else None))
            unfit = [
                why
                for e in hedits
                for part in arity.fit(list(e.add), arity.arities(side.unit), params, fix_calls)[1:]
                for why in part
            ]
            if ok and not unfit:
                edits += hedits
                used_rewrites.extend(x for x in dict.fromkeys(exprs) if x not in used_rewrites)
                methods.append(Method.TRANSFORMED if exprs or rewritten else Method.EXACT)
                adjusted = adjusted or bool(exprs) or rewritten
                continue
            # The context is there but the added lines name what the tree lacks: placed by
            # structure instead, the added lines get the known API renames (folio -> page).
            trial = structural(hn, h, tfn, up_fn, up_name, False) if tfn else None
            if trial is not None and not trial.failures and trial.edits:
                absorb(trial, adjust=False)
            else:
                why = missing or (list(trial.failures) if trial is not None else [])
                failures.extend(
                    why
                    or [Failure(hn, f"hunk #{hn}: {unfit[0]}", tfn.name if tfn else None, unfit[0])]
                )
            continue
        if isinstance(apply_file(data, FilePatch(fp.target, fp.source, (h.reversed(),))), Applied):
            present += 1  # the hunk's result is already there
            tfn = target_function(up_name, side.unit, rules)
            functions.append((hn, up_name, tfn.name if tfn else None))
            continue
        tfn = target_function(up_name, side.unit, rules)
        if tfn is None:
            # The hunk's function is unknown (a label or a cut-off name in the @@ line), renamed
            # or still inline in its callers: the one function where the whole hunk places.
            like = functions_like(h, side) or comment_holders(h, side)
            tried = [(f, structural(hn, h, f, up_fn, up_name, True)) for _, f in like]
            placed = [(f, r) for f, r in tried if not r.failures and (r.edits or r.present)]
            share = {id(f): n for n, f in like}
            if len(placed) > 1:
                # several places: the one holding clearly more of the hunk's context lines
                placed.sort(key=lambda fr: -share[id(fr[0])])
                if share[id(placed[0][0])] > share[id(placed[1][0])]:
                    placed = placed[:1]
            if len(placed) > 1 and up_name:
                # still several: the one whose name is upstream's renamed (kfence_alloc_pool
                # for kfence_alloc_pool_and_metadata), when only one is
                named = [(f, r) for f, r in placed if related_names(up_name, f.name)]
                placed = named if len(named) == 1 else placed
            if len(placed) == 1:
                f, trial = placed[0]
                functions.append((hn, up_name, f.name))
                if up_name:
                    warnings.append(
                        f"hunk #{hn}: {up_name}() is not in {path}; its change lands in {f.name}()"
                    )
                absorb(trial, adjust=True)
                continue
            if not placed:
                notes: list[str] = []
                decl = filescope.readings(h, hn, side, tree, where, shown, notes)
                if decl is not None:
                    functions.append((hn, up_name, None))
                    if isinstance(decl, Failure):
                        failures.append(decl)
                    else:
                        edits += decl
                        used_rewrites.extend(x for x in notes if x not in used_rewrites)
                        methods.append(Method.RELOCATED)
                        continue
            if tried and not placed and (len(tried) == 1 or up_name is None):
                failures.append(tried[0][1].failures[0])  # the one place it could be: why not
                functions.append((hn, up_name, tried[0][0].name))
                continue
            near = close_names(up_name, side.unit)
            failures.append(
                Failure(
                    hn,
                    f"hunk #{hn}: function {up_name or '(unknown)'}() is not in {path} at {where}"
                    + (f" (similar: {', '.join(near)})" if near else "")
                    + (
                        f"; the change places in {', '.join(f.name + '()' for f, _ in placed)}"
                        if len(placed) > 1
                        else ""
                    ),
                    up_name,
                    f"{up_name}()",
                    ", ".join(near) or None,
                    (f"{up_name}(",) if up_name else (),
                )
            )
            functions.append((hn, up_name, None))
            continue
        functions.append((hn, up_name, tfn.name))
        trial = structural(hn, h, tfn, up_fn, up_name, False)
        if trial.failures and filescope.at_file_scope(h):
            # the @@ line names the function before a file-scope change (a stub, a prototype)
            notes = []
            decl = filescope.readings(h, hn, side, tree, where, shown, notes)
            if isinstance(decl, list):
                trial = _Trial(
                    edits=decl, methods=[Method.RELOCATED], adjusted=True, rewrites=notes
                )
        absorb(trial, adjust=False)
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
    if present:
        warnings.append(
            f"{present} of the fix's hunks are already in {path}: the target may carry an earlier "
            "(partial or adapted) backport of this fix; check the rest is still needed"
        )
    # a change upstream makes in two places (a helper split off later) is one place here
    once = sorted(set(edits), key=lambda e: e.start)
    if len(once) < len(edits):
        warnings.append(
            f"{len(edits) - len(once)} change(s) of the fix land on the same lines as another: "
            "the code upstream has twice is in one place here; made once"
        )
    edits = once
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


@dataclass
class _Trial:
    """What placing one hunk in one target function gave."""

    edits: list[Edit] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    renames: set[tuple[str, str]] = field(default_factory=set)
    rewrites: list[str] = field(default_factory=list)
    learned: list[str] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)
    adjusted: bool = False
    present: int = 0


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
