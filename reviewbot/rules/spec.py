"""Rule files: load and validate ``queries/*.toml`` into typed, frozen specs.

A rule names the functions to examine (alias lists and fingerprints), the predicates that make
a guard (with every spelling across eras), when each check applies, and the vocabulary used in
messages. The checker (``check.py``) interprets two kinds of checks:

- ``loop-bail``: the entry loop of a function must abandon the work for every entry on which
  the predicate holds (``scan``/``isolate``: present PTE with the uffd-wp bit);
- ``vma-bail``: in each site function, none of the listed actions may be reached when the
  (VMA-level) predicate holds (``file``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from reviewbot.model.errors import RuleError
from reviewbot.model.versions import KernelVersion


class CheckKind(StrEnum):
    """How a check decides a guard (the ``kind`` key of a rule file's check)."""

    LOOP_BAIL = "loop-bail"
    VMA_BAIL = "vma-bail"


@dataclass(frozen=True)
class Feature:
    """A kernel feature a check depends on: version floor, uapi evidence, telltale names."""

    name: str
    since: KernelVersion | None
    evidence: tuple[tuple[str, str], ...]  # (path, define)
    names: frozenset[str]


@dataclass(frozen=True)
class Site:
    """One function (by role) a check examines."""

    id: str | None
    title: str
    functions: tuple[str, ...]
    fingerprints: tuple[tuple[str, ...], ...]
    actions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CheckSpec:
    """One check of a rule: its kind, the predicate spellings, the sites it examines."""

    id: str
    kind: CheckKind
    title: str
    description: str
    feature: Feature | None
    predicates: frozenset[str]
    sites: tuple[Site, ...]
    vma_predicates: frozenset[str] = frozenset()
    related: frozenset[str] = frozenset()
    related_note: str = ""
    entry_type: str = ""
    entry_readers: frozenset[str] = frozenset()
    assume: tuple[tuple[str, bool], ...] = ()
    branches: tuple[tuple[str, str], ...] = ()
    upstream: str | None = None
    predicate_order: tuple[str, ...] = ()  # the predicate spellings in rule order, for messages

    @property
    def predicate_text(self) -> str:
        """``pte_uffd_wp/pte_uffd``: the predicate's spellings as the rule lists them."""
        return "/".join(self.predicate_order or sorted(self.predicates))

    @property
    def assumptions(self) -> dict[str, bool]:
        """What the loop's entry makes of other tests: ``{"pte_present": True, ...}``."""
        return dict(self.assume)

    @property
    def branch_labels(self) -> dict[str, str]:
        """How to name a branch present entries never enter, by the test leading into it."""
        return dict(self.branches)


@dataclass(frozen=True)
class Rule:
    """One rule file: where the code lives, its name groups, features, markers and checks."""

    id: str
    version: int
    title: str
    help: str
    help_uri: str
    paths: tuple[str, ...]
    names: dict[str, tuple[str, ...]]
    features: tuple[Feature, ...]
    markers: tuple[tuple[str, KernelVersion], ...]
    checks: tuple[CheckSpec, ...]
    origin: str

    def __hash__(self) -> int:
        return hash((self.id, self.version, self.origin))

    @property
    def all_functions(self) -> frozenset[str]:
        """Every function name (alias) any check's sites examine."""
        return frozenset(f for c in self.checks for s in c.sites for f in s.functions)


def _req(table: dict, key: str, where: str, typ: type | tuple[type, ...] = str) -> Any:
    if key not in table:
        raise RuleError(f"{where}: missing key {key!r}")
    val = table[key]
    if not isinstance(val, typ):
        raise RuleError(f"{where}: {key!r} has the wrong type ({type(val).__name__})")
    return val


def _strs(val: object, where: str) -> tuple[str, ...]:
    if isinstance(val, str):
        val = [val]
    if not isinstance(val, list) or not all(isinstance(v, str) for v in val):
        raise RuleError(f"{where}: expected a list of strings")
    return tuple(val)


def _version(val: object, where: str) -> KernelVersion:
    v = KernelVersion.try_parse(str(val))
    if v is None:
        raise RuleError(f"{where}: {val!r} is not a kernel version")
    return v


def _names(ref: object, names: dict[str, tuple[str, ...]], where: str) -> frozenset[str]:
    """Resolve a reference to [names] groups (a group name or list of names/groups)."""
    out: set[str] = set()
    for item in _strs(ref, where):
        if item in names:
            out.update(names[item])
        else:
            raise RuleError(f"{where}: {item!r} is not a group in [names]")
    return frozenset(out)


def _site(t: dict, where: str) -> Site:
    fps = t.get("fingerprints", [])
    if not isinstance(fps, list) or not all(isinstance(fp, list) for fp in fps):
        raise RuleError(f"{where}: fingerprints must be a list of lists of call names")
    return Site(
        id=t["id"] if t.get("id") is None or isinstance(t["id"], str) else str(t["id"]),
        title=t.get("title", ""),
        functions=_strs(_req(t, "functions", where, list), where + ".functions"),
        fingerprints=tuple(_strs(fp, where + ".fingerprints") for fp in fps),
        actions=frozenset(_strs(t.get("actions", []), where + ".actions")),
    )


def parse_rule(data: dict, origin: str) -> Rule:
    """Validate a decoded TOML rule and build a :class:`Rule`."""
    where = origin
    if data.get("schema") != 1:
        raise RuleError(f"{where}: unsupported rule schema {data.get('schema')!r} (expected 1)")
    rid = _req(data, "id", where)
    names = {k: _strs(v, f"{where}: names.{k}") for k, v in data.get("names", {}).items()}
    features = []
    for fname, ft in data.get("features", {}).items():
        fw = f"{where}: features.{fname}"
        evidence = tuple(
            (_req(e, "path", fw), _req(e, "define", fw)) for e in ft.get("evidence", [])
        )
        since = _version(ft["since"], fw) if ft.get("since") is not None else None
        features.append(Feature(fname, since, evidence, _names(ft.get("names", []), names, fw)))
    by_feature = {f.name: f for f in features}
    markers = tuple(
        (_req(m, "name", where), _version(_req(m, "since", where), where))
        for m in data.get("markers", [])
    )
    checks = []
    seen: set[str] = set()
    for i, ct in enumerate(_req(data, "checks", where, list)):
        cw = f"{where}: checks[{i}]"
        cid = _req(ct, "id", cw)
        kind_text = _req(ct, "kind", cw)
        try:
            kind = CheckKind(kind_text)
        except ValueError:
            raise RuleError(
                f"{cw}: unknown kind {kind_text!r} (known: {', '.join(CheckKind)})"
            ) from None
        if cid in seen:
            raise RuleError(f"{cw}: duplicate check id {cid!r}")
        seen.add(cid)
        feature = None
        if "feature" in ct:
            feature = by_feature.get(ct["feature"])
            if feature is None:
                raise RuleError(f"{cw}: unknown feature {ct['feature']!r}")
        if kind is CheckKind.VMA_BAIL:
            sites = tuple(
                _site(s, f"{cw}.sites[{j}]") for j, s in enumerate(_req(ct, "sites", cw, list))
            )
            if any(not s.actions for s in sites):
                raise RuleError(f"{cw}: every vma-bail site needs a non-empty 'actions' list")
        else:
            sites = (_site({**ct, "id": None}, cw),)
        assume = ct.get("assume", {})
        if not all(isinstance(v, bool) for v in assume.values()):
            raise RuleError(f"{cw}: assume values must be true/false")
        checks.append(
            CheckSpec(
                id=cid,
                kind=kind,
                title=ct.get("title", cid),
                description=ct.get("description", ""),
                feature=feature,
                predicates=_names(_req(ct, "predicate", cw, (str, list)), names, cw),
                sites=sites,
                vma_predicates=_names(ct.get("vma_predicate", []), names, cw),
                related=_names(ct.get("related", []), names, cw),
                related_note=ct.get("related_note", ""),
                entry_type=ct.get("entry_type", ""),
                entry_readers=frozenset(_strs(ct.get("entry_readers", []), cw)),
                assume=tuple(sorted(assume.items())),
                branches=tuple(sorted(ct.get("branches", {}).items())),
                upstream=ct.get("upstream"),
                predicate_order=tuple(
                    n for g in _strs(ct["predicate"], cw) for n in names.get(g, ())
                ),
            )
        )
    return Rule(
        id=rid,
        version=int(data.get("version", 1)),
        title=data.get("title", rid),
        help=data.get("help", ""),
        help_uri=data.get("help_uri", ""),
        paths=_strs(data.get("paths", []), where + ": paths"),
        names=names,
        features=tuple(features),
        markers=markers,
        checks=tuple(checks),
        origin=origin,
    )


def evidence_headers(rules: tuple[Rule, ...]) -> dict[str, set[str]]:
    """uapi headers to read and the feature defines each one may hold (vendor-backport evidence)."""
    out: dict[str, set[str]] = {}
    for rule in rules:
        for feature in rule.features:
            for path, define in feature.evidence:
                out.setdefault(path, set()).add(define)
    return out


def load_rule_file(path: Path) -> Rule:
    """Load one rule file from disk."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise RuleError(f"cannot read rule file {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise RuleError(f"{path}: not valid TOML: {e}") from e
    return parse_rule(data, str(path))


@cache
def builtin_rules() -> tuple[Rule, ...]:
    """The rules shipped in ``queries/``, sorted by id."""
    out = []
    for entry in resources.files("reviewbot.queries").iterdir():
        if entry.name.endswith(".toml"):
            try:
                data = tomllib.loads(entry.read_text("utf-8"))
            except tomllib.TOMLDecodeError as e:
                raise RuleError(f"queries/{entry.name}: not valid TOML: {e}") from e
            if data.get("kind") not in (None, "rule"):
                continue  # a data table (e.g. kind = "api-renames"), not a rule
            out.append(parse_rule(data, f"queries/{entry.name}"))
    return tuple(sorted(out, key=lambda r: r.id))


def get_rule(rule_id: str) -> Rule:
    """The built-in rule ``rule_id``; an unknown id is a :class:`RuleError` naming the known ones."""
    for r in builtin_rules():
        if r.id == rule_id:
            return r
    known = ", ".join(r.id for r in builtin_rules())
    raise RuleError(f"unknown rule {rule_id!r}", f"known rules: {known}")
