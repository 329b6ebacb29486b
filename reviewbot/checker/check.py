"""Guard semantics: run a rule's checks on parsed sources and produce verdicts.

DOMAIN.md §4 is the definition. A ``loop-bail`` guard is present when no present entry with
the predicate can complete an iteration of the function's entry loop (every such path leaves:
``goto`` out of the loop, ``return``); a ``vma-bail`` guard is present when none of the site's
actions is reachable for a VMA with the predicate. Both are decided by ``flow.explore`` on the
function's control flow, so comments, ``#if 0``, negations, non-leaving branches, tests of
another entry, tests in branches present entries never take, and tests after the loop are not
guards, while ``unlikely()``, ``else if``, combined conditions, helpers and VMA-level bail-outs
are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from reviewbot.checker.cfg import Builder, CfgNode, reachable
from reviewbot.checker.flow import Result, explore
from reviewbot.checker.locate import FoundBy, Located, entry_pointers, locate, loop_iterators, loops
from reviewbot.checker.nearmiss import explain_loop, explain_vma
from reviewbot.checker.values import Context, Entry
from reviewbot.ctree import partialparse, syntax
from reviewbot.ctree.syntax import Function, Node, Unit
from reviewbot.model.errors import SourceError
from reviewbot.model.results import CheckResult, FileResult, Status, VersionInfo
from reviewbot.model.versions import KernelVersion, defines_in, version_from_makefile
from reviewbot.rules.records import CheckKind, CheckSpec, Feature, Rule, Site
from reviewbot.rules.spec import evidence_headers

# --- applicability --------------------------------------------------------------------


def applicability(
    feature: Feature | None, version: VersionInfo, units: list[Unit], inferred: KernelVersion | None
) -> tuple[bool, str]:
    """Does a check apply, and why (one phrase for the message)."""
    if feature is None or feature.since is None:
        return True, ""
    since = feature.since
    defines = {d for _, d in feature.evidence}
    backported = sorted(defines & set(version.evidence))
    if version.version is not None:
        kv = KernelVersion.try_parse(version.version)
        if kv is not None and kv >= since:
            return True, ""
        if backported:
            return (
                True,
                f"kernel {version.version} predates {since.series} but {backported[0]} is defined: feature backported",
            )
        return (
            False,
            f"{feature.text} arrived in {since.series}; kernel is {version.version}",
        )
    if backported:
        return True, f"{backported[0]} is defined in the uapi header"
    seen: dict[str, int] = {}
    for u in units:
        for name, ln in u.identifiers(feature.names).items():
            seen.setdefault(name, ln)
    if seen:
        name = min(seen, key=seen.__getitem__)
        return (
            True,
            f"kernel version unknown; {name} at line {seen[name]} shows {feature.text} support",
        )
    if inferred is not None and inferred >= since:
        return True, f"kernel version unknown; the source looks like >= {inferred.series}"
    return False, (
        f"kernel version unknown and the source shows no {feature.text} support "
        f"(it arrived in {since.series}); pass --kernel-version to be sure"
    )


def infer_version(rule: Rule, units: list[Unit]) -> tuple[KernelVersion | None, str]:
    """The highest version floor implied by marker identifiers in the source."""
    names = frozenset(n for n, _ in rule.markers)
    found: set[str] = set()
    for u in units:
        found |= set(u.identifiers(names))
    best = None
    why = ""
    for name, since in rule.markers:
        if name in found and (best is None or since > best):
            best, why = since, name
    return best, why


# --- loop-bail ------------------------------------------------------------------------


def entry_of(unit: Unit, fn: Function, loop: Node, spec: CheckSpec) -> Entry:
    """The loop's current-entry expressions (iterators and the values read from them)."""
    iters = loop_iterators(loop)
    if spec.entry_type:
        pointers = entry_pointers(unit, fn, spec.entry_type)
        typed = iters & pointers
        iters = typed or iters
    if loop.type == "expression_statement":  # iterator macro: its first argument is the cursor
        call = loop.named_children[0]
        a = syntax.args(call)
        if a and a[0].type == "identifier":
            iters = {syntax.text(a[0])}
    pointers = entry_pointers(unit, fn, spec.entry_type) if spec.entry_type else set()
    entry = Entry(frozenset(iters), frozenset(), spec.entry_readers)
    body = loop.child_by_field_name("body") or syntax.loop_macro_body(loop)
    assert body is not None  # ``loops`` yields only loops with a body
    idx = unit.index(fn.node)
    writes = idx.within(idx.inits, body) + idx.within(idx.assigns, body)
    entry = entry.derive(writes, idx.within(idx.calls, body), frozenset(pointers))
    return entry


def find_loop(unit: Unit, fn: Function, spec: CheckSpec) -> tuple[Node, Entry] | None:
    """The loop over entries of ``spec.entry_type``: the first loop that reads such entries."""
    candidates = loops(unit, fn)
    pointers = entry_pointers(unit, fn, spec.entry_type) if spec.entry_type else set()
    for loop, _ in candidates:
        if loop.type == "expression_statement":
            continue
        entry = entry_of(unit, fn, loop, spec)
        if entry.iters & pointers or (entry.values and (entry.iters & pointers or not pointers)):
            return loop, entry
    for loop, _ in candidates:  # no typed loop: the first loop whose body reads its cursor
        entry = entry_of(unit, fn, loop, spec)
        if entry.values:
            return loop, entry
    return None


def _uncertainty(unit: Unit, fn: Function, res: Result | None, extra: list[str]) -> list[str]:
    notes = list(extra)
    errs = unit.errors_in(fn.node)
    if errs:
        lines = sorted({syntax.line(e) for e in errs})
        shown = ", ".join(str(x) for x in lines[:5]) + ("..." if len(lines) > 5 else "")
        notes.append(f"parse errors at line {shown} overlap {fn.name}()")
    if res is not None and not res.complete:
        notes.append("the control flow was too large to explore completely")
    return notes


def _guard_text(call: Node) -> str:
    name = syntax.callee(call) or syntax.text(call)
    return f"{name}({', '.join(syntax.text(a) for a in syntax.args(call))})"


def check_loop(spec: CheckSpec, site: Site, loc: Located) -> CheckResult:
    """Decide a ``loop-bail`` check on the located function (see the module docstring)."""
    fn, unit, words = loc.function, loc.unit, spec.words
    result = partial(
        CheckResult, id=spec.id, site=site.id, function=fn.name, path=unit.path, title=spec.title
    )
    found_by = (
        f" (found by fingerprint: calls {', '.join(loc.fingerprint)})"
        if loc.how is FoundBy.FINGERPRINT
        else ""
    )
    hit = find_loop(unit, fn, spec)
    if hit is None:
        notes = _uncertainty(unit, fn, None, [])
        return result(
            status=Status.MISSING,
            line=fn.start_line,
            uncertain=True,
            message=f"no loop over {spec.entry_type or 'entries'} found in {fn.name}(){found_by}"
            + _suffix(notes),
        )
    loop, entry = hit
    ctx = Context(unit, spec.predicates, spec.vma_predicates, spec.assumptions, entry)
    graph = Builder(loop, unit.index(fn.node)).graph(fn.body)
    res = explore(graph, ctx)
    extra = [f"goto to unknown label {lab}" for lab in graph.unresolved_gotos]
    if not reachable(graph, lambda n: n.accept):
        extra.append("the analysis never completes a loop iteration")
    notes = _uncertainty(unit, fn, res, extra)
    if res.accepted:
        miss = explain_loop(
            fn,
            loop,
            ctx,
            spec.predicates,
            spec.related,
            spec.related_note,
            spec.branch_labels,
            words,
        )
        if miss is None:
            msg = f"guard not found: no {spec.predicate_text} test in the loop of {fn.name}() stops a present {words.marked_entry}"
            line = syntax.line(loop)
        else:
            msg, line = miss.text, miss.line
        if spec.upstream:
            msg += f" (upstream fix: {spec.upstream})"
        return result(
            status=Status.MISSING,
            line=line,
            uncertain=bool(notes),
            message=msg + found_by + _suffix(notes),
        )

    # A test whose chosen branch can complete the iteration while the branch it ruled out
    # cannot (a negated test in front of ``goto out``) steers away from bailing out: it is no
    # guard, even in a loop that bails on every present entry anyway (then the vacuous verdict
    # stays, uncertain).
    def completes(n: CfgNode | None) -> bool:
        return n is not None and bool(reachable(graph, lambda m: m.accept, n))

    guards = [
        d
        for d in res.decisions
        if d.chosen is None or not completes(d.chosen) or completes(d.ruled_out)
    ]
    inside = [d for d in guards if syntax.contains(loop, d.node)]
    before = [d for d in guards if d.node.start_byte < loop.start_byte]
    chosen = min(inside or before or guards, key=lambda d: d.node.start_byte, default=None)
    if chosen is None:
        return result(
            status=Status.PRESENT,
            line=syntax.line(loop),
            uncertain=True,
            message=f"no path completes a loop iteration in {fn.name}(){found_by}" + _suffix(notes),
        )
    call = chosen.deciders[0]
    name = syntax.callee(call)
    via = name if name not in spec.predicates and name not in spec.vma_predicates else None
    conditional = tuple(
        dict.fromkeys(chosen.configs + tuple(syntax.config_conditions(call, fn.body)))
    )
    vma_level = not inside
    if vma_level:
        msg = f"{words.scope}-level: {_guard_text(call)} at line {syntax.line(call)} abandons {words.work} before the {words.entry} loop"
    elif via:
        msg = (
            f"{via}() at line {syntax.line(call)} makes the loop bail out on a {words.marked_entry}"
        )
    else:
        msg = f"{_guard_text(call)} at line {syntax.line(call)} bails out of the loop"
    return _present(result, call, msg, found_by, notes, via, conditional, vma_level=vma_level)


# --- vma-bail -------------------------------------------------------------------------


def _action_holder(unit: Unit, fn: Function, actions: frozenset[str], depth: int = 0) -> Function:
    """The function that performs the actions: ``fn`` or a helper it calls (wrappers)."""
    called = _callees(unit, fn)
    if called & actions or depth >= 2:
        return fn
    for name in sorted(called):
        sub = unit.function(name)
        if sub is not None and sub.name != fn.name:
            holder = _action_holder(unit, sub, actions, depth + 1)
            if _callees(unit, holder) & actions:
                return holder
    return fn


def _callees(unit: Unit, fn: Function) -> set[str]:
    return {name for c in unit.index(fn.node).calls if (name := syntax.callee(c)) is not None}


def check_vma(spec: CheckSpec, site: Site, loc: Located) -> CheckResult:
    """Decide a ``vma-bail`` check at one site (see the module docstring)."""
    unit, words = loc.unit, spec.words
    fn = _action_holder(unit, loc.function, site.actions)
    found_by = (
        f" (found by fingerprint: calls {', '.join(loc.fingerprint)})"
        if loc.how is FoundBy.FINGERPRINT
        else ""
    )
    if fn.name != loc.function.name:
        found_by += f" (in {fn.name}(), called by {loc.function.name}())"
    result = partial(
        CheckResult,
        id=spec.id,
        site=site.id,
        function=fn.name,
        path=unit.path,
        title=f"{spec.title}: {site.title}",
    )
    ctx = Context(unit, frozenset(), spec.predicates, {}, Entry())
    graph = Builder(None, unit.index(fn.node)).graph(fn.body)
    res = explore(graph, ctx, site.actions)
    extra = [f"goto to unknown label {lab}" for lab in graph.unresolved_gotos]
    action_calls = [c for c in unit.index(fn.node).calls if syntax.callee(c) in site.actions]
    if not res.actions and not reachable(
        graph,
        lambda n: (
            n.ast is not None
            and n.kind != "nop"
            and any(syntax.contains(n.ast, c) for c in action_calls)
        ),
    ):
        extra.append(f"none of {', '.join(sorted(site.actions))} is reachable in {fn.name}()")
    notes = _uncertainty(unit, fn, res, extra)
    if res.actions:
        miss = explain_vma(fn, ctx, spec.predicates, site.actions, words)
        first = min(res.actions, key=lambda c: c.start_byte)
        if miss is None:
            msg, line = (
                f"no {spec.predicate_text}({words.scope.lower()}) test keeps a {words.marked_scope} from {syntax.callee(first)}() at line {syntax.line(first)}",
                syntax.line(first),
            )
        else:
            msg, line = miss.text, miss.line
        return result(
            status=Status.MISSING,
            line=line,
            uncertain=bool(notes),
            message=msg + found_by + _suffix(notes),
        )
    chosen = min(res.decisions, key=lambda d: d.node.start_byte, default=None)
    if chosen is None:
        return result(
            status=Status.PRESENT,
            line=fn.start_line,
            uncertain=True,
            message=f"no action is reachable in {fn.name}()" + _suffix(notes),
        )
    call = chosen.deciders[0]
    name = syntax.callee(call)
    via = name if name not in spec.predicates else None
    conditional = tuple(dict.fromkeys(chosen.configs))
    what = (
        f"{via}() at line {syntax.line(call)}"
        if via
        else f"{_guard_text(call)} at line {syntax.line(call)}"
    )
    msg = f"{what} keeps {words.marked} {words.scopes} out of the {site.title}"
    return _present(result, call, msg, found_by, notes, via, conditional)


def _present(
    result: Callable[..., CheckResult],
    call: Node,
    msg: str,
    found_by: str,
    notes: list[str],
    via: str | None,
    conditional: tuple[str, ...],
    *,
    vma_level: bool = False,
) -> CheckResult:
    """A present verdict at ``call``, saying the configurations it needs and any uncertainty."""
    if conditional:
        msg += f" (only with {' && '.join(conditional)})"
    return result(
        status=Status.PRESENT,
        line=syntax.line(call),
        via=via,
        vma_level=vma_level,
        conditional=conditional,
        uncertain=bool(notes),
        message=msg + found_by + _suffix(notes),
    )


def _suffix(notes: list[str]) -> str:
    return f" [uncertain: {'; '.join(notes)}]" if notes else ""


# --- the rule -------------------------------------------------------------------------


def run_rule(
    rule: Rule, units: list[Unit], version: VersionInfo, source: str, ref: str | None = None
) -> FileResult:
    """Run every check of ``rule`` over ``units`` (one source, possibly split over files)."""
    inferred, why = (None, "")
    if version.version is None:
        inferred, why = infer_version(rule, units)
        if inferred is not None:
            version = VersionInfo(
                None, "inferred", f">= {inferred.series} ({why})", version.evidence
            )
    results: list[CheckResult] = []
    exclude = rule.all_functions
    for spec in rule.checks:
        ok, reason = applicability(spec.feature, version, units, inferred)
        for site in spec.sites:
            loc = locate(units, site, exclude)
            if loc is not None:
                exclude = exclude | {loc.function.name}
            if not ok:
                results.append(
                    CheckResult(
                        id=spec.id,
                        site=site.id,
                        status=Status.NOT_APPLICABLE,
                        title=spec.title,
                        function=loc.function.name if loc else None,
                        path=loc.unit.path if loc else None,
                        line=loc.function.start_line if loc else None,
                        message=f"not applicable: {reason}",
                    )
                )
                continue
            if loc is None:
                names = ", ".join(site.functions)
                results.append(
                    CheckResult(
                        id=spec.id,
                        site=site.id,
                        status=Status.MISSING,
                        title=spec.title,
                        uncertain=True,
                        message=f"function not found: none of {names}, and no function matches the fingerprint"
                        + (f" ({reason})" if reason else ""),
                    )
                )
                continue
            try:
                r = (
                    check_loop(spec, site, loc)
                    if spec.kind is CheckKind.LOOP_BAIL
                    else check_vma(spec, site, loc)
                )
            except RecursionError:  # pathological nesting: say we cannot tell
                r = CheckResult(
                    id=spec.id,
                    site=site.id,
                    status=Status.MISSING,
                    title=spec.title,
                    function=loc.function.name,
                    path=loc.unit.path,
                    line=loc.function.start_line,
                    uncertain=True,
                    message=f"{loc.function.name}() is nested too deeply to analyse [uncertain]",
                )
            if reason:
                r = _with_message(r, f"{r.message} ({reason})")
            results.append(r)
    return FileResult(
        source=source,
        rule=rule.id,
        checks=tuple(results),
        ref=ref,
        version=version,
        rule_version=rule.version,
    )


def _with_message(r: CheckResult, message: str) -> CheckResult:
    return replace(r, message=message)


def _maybe_renamed(rule: Rule, result: FileResult, data: bytes) -> bool:
    """Could a function the fast path did not find be there under another name?

    Only if the text mentions every call of one of that site's fingerprints.
    """
    for spec in rule.checks:
        for site in spec.sites:
            found = [c for c in result.checks if c.id == spec.id and c.site == site.id]
            missing = (
                found and found[0].function is None and found[0].status is not Status.NOT_APPLICABLE
            )
            if missing and any(
                all(name.encode() in data for name in fp) for fp in site.fingerprints
            ):
                return True
    return False


def rule_markers(rule: Rule) -> set[str]:
    """Every name in the rule's [names] groups: text that makes a helper worth following."""
    return {n for group in rule.names.values() for n in group}


def parse_for(rule: Rule, data: bytes, path: str, version: VersionInfo) -> Unit:
    """Parse ``data`` for ``rule``: only the functions it needs when the version is known.

    Without a version the whole file is parsed, because inferring the version and the
    applicability reads identifiers anywhere in the file.
    """
    if version.version is not None:
        unit = partialparse.parse_functions(data, path, set(rule.all_functions), rule_markers(rule))
        if unit is not None:
            return unit
    return syntax.parse(data, path)


def check_source(
    data: bytes,
    path: str,
    rules: tuple[Rule, ...],
    version: VersionInfo,
    ref: str | None = None,
    extra_units: list[Unit] | None = None,
) -> list[FileResult]:
    """Check one C source (bytes) against ``rules``; ``extra_units`` are searched after it."""
    if b"\0" in data:
        raise SourceError(f"{path}: binary data (NUL bytes), not a C source file")
    out = []
    full: Unit | None = None
    for rule in rules:
        unit = parse_for(rule, data, path, version)
        result = run_rule(rule, [unit, *(extra_units or [])], version, path, ref)
        if unit.partial and _maybe_renamed(rule, result, data):
            full = full or syntax.parse(
                data, path
            )  # a renamed function: fingerprints need the whole file
            result = run_rule(rule, [full, *(extra_units or [])], version, path, ref)
        out.append(result)
    return out


def functions_missing(checks: Sequence[CheckResult]) -> bool:
    """Did an applicable check find no function? Then a rule's later paths are worth searching."""
    return any(c.function is None and c.status is not Status.NOT_APPLICABLE for c in checks)


@dataclass(frozen=True)
class PathsChecked:
    """The verdict of :func:`check_first_present` and the later files it searched."""

    result: FileResult
    extra_paths: tuple[str, ...]  # later paths parsed for functions the first one lacks, in order


def check_first_present(
    read: Callable[[str], bytes | None],
    rule: Rule,
    version: VersionInfo,
    ref: str | None,
    paths: Sequence[str] | None = None,
) -> PathsChecked | None:
    """Check ``rule`` on the first of its paths (or ``paths``) that ``read`` finds (None: absent).

    Later paths are parsed and searched, in order, only while an applicable check has not
    found its function (pre-4.8 trees keep khugepaged in mm/huge_memory.c). None when none of
    the paths exists. A later path is read only when it is needed.
    """
    rest = iter(rule.paths if paths is None else paths)
    first = next(
        ((p, d) for p in rest if (d := read(p)) is not None), None
    )  # leaves ``rest`` after it
    if first is None:
        return None
    path, data = first
    (result,) = check_source(data, path, (rule,), version, ref=ref)
    extra: list[Unit] = []
    used: list[str] = []
    for other_path in rest:
        if not functions_missing(result.checks):
            break
        other = read(other_path)
        if other is None:
            continue
        used.append(other_path)
        extra.append(syntax.parse(other, other_path))
        (result,) = check_source(data, path, (rule,), version, ref=ref, extra_units=extra)
    return PathsChecked(result, tuple(used))


def tree_version(
    read: Callable[[str], bytes | None],
    where: str,
    rules: tuple[Rule, ...],
    override: str | None = None,
) -> VersionInfo:
    """The kernel version of a tree ``read`` gives files of: its top-level Makefile (or
    ``override``), plus the uapi feature defines its headers hold (vendor-backport evidence).

    ``where`` names the tree in the version's origin ("Makefile at v6.1.176").
    """
    evidence: set[str] = set()
    for path, names in sorted(evidence_headers(rules).items()):
        evidence |= defines_in(read(path), names)
    if override:
        return VersionInfo(
            str(KernelVersion.parse(override)), "flag", "--kernel-version", tuple(sorted(evidence))
        )
    data = read("Makefile")
    kv = version_from_makefile(data) if data else None
    if kv is None:
        return VersionInfo(
            None, "unknown", f"no kernel Makefile at {where}", tuple(sorted(evidence))
        )
    return VersionInfo(str(kv), "makefile", f"Makefile at {where}", tuple(sorted(evidence)))
