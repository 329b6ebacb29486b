"""Rule files: load and validate ``queries/*.toml`` into the typed, frozen records of
:mod:`reviewbot.rules.records`.

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
from collections.abc import Sequence
from dataclasses import fields, replace
from functools import cache
from pathlib import Path
from typing import Any

from reviewbot.model.errors import RuleError
from reviewbot.model.fileio import package_dir
from reviewbot.model.versions import KernelVersion
from reviewbot.rules.records import (
    CheckKind,
    CheckSpec,
    Example,
    Feature,
    Rule,
    Site,
    Verdict,
    Vocabulary,
)

_TOP_KEYS = {
    "schema", "id", "version", "title", "help", "help_uri", "paths", "names", "features",
    "markers", "checks", "vocabulary", "tags", "overrides", "tests",
}  # fmt: skip
_CHECK_KEYS = {
    "id", "kind", "feature", "title", "description", "upstream", "functions", "fingerprints",
    "predicate", "vma_predicate", "related", "related_note", "entry_type", "entry_readers",
    "assume", "branches", "sites",
}  # fmt: skip
_SITE_KEYS = {"id", "title", "functions", "fingerprints", "actions"}
_FEATURE_KEYS = {"since", "evidence", "names", "label"}
_TEST_KEYS = {"name", "code", "file", "path", "kernel_version", "expect", "message"}


def _unknown(table: dict, known: set[str], where: str) -> None:
    """A misspelt key is an error, not a silently ignored setting."""
    extra = sorted(set(table) - known)
    if extra:
        raise RuleError(
            f"{where}: unknown key {extra[0]!r}", f"known keys: {', '.join(sorted(known))}"
        )


def _table(parent: dict, key: str, where: str) -> dict:
    val = parent.get(key, {})
    if not isinstance(val, dict):
        raise RuleError(f"{where}: {key!r} must be a table, not {type(val).__name__}")
    return val


def _req(table: dict, key: str, where: str, typ: type | tuple[type, ...] = str) -> Any:
    if key not in table:
        raise RuleError(f"{where}: missing key {key!r}")
    val = table[key]
    if not isinstance(val, typ):
        raise RuleError(f"{where}: {key!r} has the wrong type ({type(val).__name__})")
    return val


def _opt_str(table: dict, key: str, where: str, default: str = "") -> str:
    val = table.get(key, default)
    if not isinstance(val, str):
        raise RuleError(f"{where}: {key!r} must be a string, not {type(val).__name__}")
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


def _tables(val: object, where: str) -> list[dict]:
    if not isinstance(val, list) or not all(isinstance(t, dict) for t in val):
        raise RuleError(f"{where}: expected an array of tables ([[...]])")
    return val


def _site(t: dict, where: str, known: set[str] = _SITE_KEYS) -> Site:
    _unknown(t, known, where)
    fps = t.get("fingerprints", [])
    if not isinstance(fps, list) or not all(isinstance(fp, list) for fp in fps):
        raise RuleError(f"{where}.fingerprints: must be a list of lists of call names")
    return Site(
        id=t["id"] if t.get("id") is None or isinstance(t["id"], str) else str(t["id"]),
        title=_opt_str(t, "title", where),
        functions=_strs(_req(t, "functions", where, list), where + ".functions"),
        fingerprints=tuple(_strs(fp, where + ".fingerprints") for fp in fps),
        actions=frozenset(_strs(t.get("actions", []), where + ".actions")),
    )


def _vocabulary(data: dict, where: str) -> Vocabulary:
    table = _table(data, "vocabulary", where)
    known = {f.name for f in fields(Vocabulary)}
    _unknown(table, known, f"{where}: vocabulary")
    words = {k: _opt_str(table, k, f"{where}: vocabulary") for k in table}
    return Vocabulary(**words)


def _pairs(text: str, where: str) -> dict[str, str]:
    out = {}
    for item in text.split():
        key, eq, value = item.partition("=")
        if not eq:
            raise RuleError(f"{where}: expected key=status, got {item!r}")
        out[key] = value
    return out


def read_fixture_header(path: Path) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """``kernel-version``, expected verdicts and message fragments from a fixture's header.

    The format is fixtures/README.md's (the first comment block, ``key: value`` lines):
    ``expect:``/``expect-site:`` give ``id=status`` pairs and ``expect-message: id~text``
    fragments; the other keys are for the test suite and are ignored here.
    """
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as e:
        raise RuleError(f"cannot read example file {path}: {e.strerror or e}") from e
    start = text.find("/*")
    end = text.find("*/", start)
    if start < 0 or end < 0:
        raise RuleError(f"{path}: no header comment (see fixtures/README.md)")
    version, expect, message = None, {}, {}
    for raw in text[start + 2 : end].splitlines():
        key, sep, value = raw.strip().lstrip("*").strip().partition(":")
        if not sep:
            continue
        value = value.strip()
        if key == "kernel-version":
            version = value
        elif key in ("expect", "expect-site"):
            expect.update(_pairs(value, f"{path}: {key}"))
        elif key == "expect-message":
            k, tilde, frag = value.partition("~")
            if tilde:
                message[k.strip()] = frag
    return version, expect, message


def _verdicts(table: object, where: str) -> tuple[tuple[str, Verdict], ...]:
    if not isinstance(table, dict) or not table:
        raise RuleError(f"{where}: must be a non-empty table of check = verdict")
    out = []
    for key, val in table.items():
        try:
            out.append((key, Verdict(val)))
        except ValueError:
            raise RuleError(
                f"{where}.{key}: {val!r} is not a verdict (known: {', '.join(Verdict)})"
            ) from None
    return tuple(out)


def _examples(
    data: dict, where: str, base: Path | None, paths: tuple[str, ...], check_keys: set[str]
) -> tuple[Example, ...]:
    out = []
    for i, t in enumerate(_tables(data.get("tests", []), f"{where}: tests")):
        tw = f"{where}: tests[{i}]"
        _unknown(t, _TEST_KEYS, tw)
        if ("code" in t) == ("file" in t):
            raise RuleError(f"{tw}: give exactly one of 'code' or 'file'")
        version = t.get("kernel_version")
        if version is not None:
            _version(version, f"{tw}.kernel_version")
            version = str(version)
        expect: dict = {}
        message: dict = {}
        if "file" in t:
            rel = _opt_str(t, "file", tw)
            fpath = (base / rel) if base is not None else Path(rel)
            hv, hexp, hmsg = read_fixture_header(fpath)
            try:
                code = fpath.read_bytes()
            except OSError as e:
                raise RuleError(f"{tw}.file: cannot read {fpath}: {e.strerror or e}") from e
            version = version if version is not None else hv
            expect, message, origin = dict(hexp), dict(hmsg), str(fpath)
        else:
            code, origin = _opt_str(t, "code", tw).encode(), where
        if "expect" in t:
            expect = dict(t["expect"]) if isinstance(t["expect"], dict) else t["expect"]
        message.update({k: v for k, v in _table(t, "message", tw).items()})
        verdicts = _verdicts(expect, f"{tw}.expect")
        for key, _ in verdicts:
            if key not in check_keys:
                raise RuleError(
                    f"{tw}.expect: {key!r} is not a check or site of this rule",
                    f"known: {', '.join(sorted(check_keys))}",
                )
        if not paths and "path" not in t:
            raise RuleError(f"{tw}: missing key 'path' (the rule has no paths)")
        out.append(
            Example(
                name=_opt_str(t, "name", tw, f"tests[{i}]"),
                code=code,
                path=_opt_str(t, "path", tw, paths[0] if paths else ""),
                kernel_version=version,
                expect=verdicts,
                message=tuple((k, str(v)) for k, v in message.items()),
                origin=origin,
            )
        )
    return tuple(out)


def parse_rule(data: dict, origin: str, base: Path | None = None, digest: str = "") -> Rule:
    """Validate a decoded TOML rule and build a :class:`Rule`.

    Every error names the file (``origin``) and the key. ``base`` is the directory example
    files (``[[tests]] file = ...``) are relative to; ``digest`` marks a user rule (see
    :attr:`Rule.cache_id`).
    """
    where = origin
    if data.get("schema") != 1:
        raise RuleError(f"{where}: unsupported rule schema {data.get('schema')!r} (expected 1)")
    _unknown(data, _TOP_KEYS, where)
    rid = _req(data, "id", where)
    names = {k: _strs(v, f"{where}: names.{k}") for k, v in _table(data, "names", where).items()}
    features = []
    for fname, ft in _table(data, "features", where).items():
        fw = f"{where}: features.{fname}"
        if not isinstance(ft, dict):
            raise RuleError(f"{fw}: must be a table")
        _unknown(ft, _FEATURE_KEYS, fw)
        evidence = tuple(
            (_req(e, "path", fw), _req(e, "define", fw))
            for e in _tables(ft.get("evidence", []), fw + ".evidence")
        )
        since = _version(ft["since"], fw + ".since") if ft.get("since") is not None else None
        features.append(
            Feature(
                fname,
                since,
                evidence,
                _names(ft.get("names", []), names, fw + ".names"),
                _opt_str(ft, "label", fw),
            )
        )
    by_feature = {f.name: f for f in features}
    markers = tuple(
        (_req(m, "name", f"{where}: markers"), _version(_req(m, "since", where), where))
        for m in _tables(data.get("markers", []), f"{where}: markers")
    )
    checks = []
    seen: set[str] = set()
    for i, ct in enumerate(_tables(_req(data, "checks", where, list), f"{where}: checks")):
        cw = f"{where}: checks[{i}]"
        _unknown(ct, _CHECK_KEYS, cw)
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
                _site(s, f"{cw}.sites[{j}]")
                for j, s in enumerate(_tables(_req(ct, "sites", cw, list), f"{cw}.sites"))
            )
            if any(not s.actions for s in sites):
                raise RuleError(f"{cw}: every vma-bail site needs a non-empty 'actions' list")
        else:
            sites = (_site({"id": None, **{k: ct[k] for k in _SITE_KEYS - {"id"} if k in ct}}, cw),)
        assume = _table(ct, "assume", cw)
        if not all(isinstance(v, bool) for v in assume.values()):
            raise RuleError(f"{cw}.assume: values must be true/false")
        branches = _table(ct, "branches", cw)
        checks.append(
            CheckSpec(
                id=cid,
                kind=kind,
                title=_opt_str(ct, "title", cw, cid),
                description=_opt_str(ct, "description", cw),
                feature=feature,
                predicates=_names(_req(ct, "predicate", cw, (str, list)), names, cw + ".predicate"),
                sites=sites,
                vma_predicates=_names(ct.get("vma_predicate", []), names, cw + ".vma_predicate"),
                related=_names(ct.get("related", []), names, cw + ".related"),
                related_note=_opt_str(ct, "related_note", cw),
                entry_type=_opt_str(ct, "entry_type", cw),
                entry_readers=frozenset(_strs(ct.get("entry_readers", []), cw + ".entry_readers")),
                assume=tuple(sorted(assume.items())),
                branches=tuple(sorted((k, str(v)) for k, v in branches.items())),
                upstream=ct.get("upstream"),
                predicate_order=tuple(
                    n for g in _strs(ct["predicate"], cw) for n in names.get(g, ())
                ),
            )
        )
    paths = _strs(data.get("paths", []), where + ": paths")
    check_keys = {c.id for c in checks} | {
        k for c in checks for s in c.sites if s.id for k in (s.id, f"{c.id}/{s.id}")
    }
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise RuleError(f"{where}: 'version' must be an integer, not {version!r}")
    overrides = data.get("overrides", False)
    if not isinstance(overrides, bool):
        raise RuleError(f"{where}: 'overrides' must be true or false")
    words = _vocabulary(data, where)
    checks = [replace(c, words=words) for c in checks]
    return Rule(
        id=rid,
        version=version,
        title=_opt_str(data, "title", where, rid),
        help=_opt_str(data, "help", where),
        help_uri=_opt_str(data, "help_uri", where),
        paths=paths,
        names=names,
        features=tuple(features),
        markers=markers,
        checks=tuple(checks),
        origin=origin,
        vocabulary=words,
        tags=_strs(data.get("tags", []), where + ": tags"),
        overrides=overrides,
        examples=_examples(data, where, base, paths, check_keys),
        digest=digest,
    )


def evidence_headers(rules: tuple[Rule, ...]) -> dict[str, set[str]]:
    """uapi headers to read and the feature defines each one may hold (vendor-backport evidence)."""
    out: dict[str, set[str]] = {}
    for rule in rules:
        for feature in rule.features:
            for path, define in feature.evidence:
                out.setdefault(path, set()).add(define)
    return out


def load_rule_file(path: Path, user: bool = True) -> Rule:
    """Load one rule file from disk (``user``: key its cached verdicts by the file's digest)."""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise RuleError(f"cannot read rule file {path}: {getattr(e, 'strerror', None) or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise RuleError(f"{path}: not valid TOML: {e}") from e
    import hashlib  # here, not at the top: start-up time of every command

    digest = hashlib.sha256(raw).hexdigest()[:12] if user else ""
    return parse_rule(data, str(path), path.parent, digest)


def rule_files(spec: Path) -> list[Path]:
    """The rule files a ``--rules`` path names: the file, or a directory's ``*.toml`` by name."""
    if spec.is_dir():
        return sorted(p for p in spec.iterdir() if p.suffix == ".toml" and p.is_file())
    if not spec.exists():
        raise RuleError(f"rule path {spec} does not exist", "give a .toml file or a directory")
    return [spec]


def load_rules(paths: Sequence[Path]) -> tuple[Rule, ...]:
    """Load user rules from files and directories, in the order given."""
    return tuple(load_rule_file(f) for p in paths for f in rule_files(p))


def combine(builtin: tuple[Rule, ...], user: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """User rules added to the built-in ones, sorted by id.

    A user rule with a built-in rule's id is an error unless its file says ``overrides =
    true``; then it replaces the built-in rule. Two user rules with one id are an error.
    """
    by_id = {r.id: r for r in builtin}
    seen: dict[str, Rule] = {}
    for r in user:
        if r.id in seen:
            raise RuleError(
                f"{r.origin}: id: rule {r.id!r} is also defined in {seen[r.id].origin}",
                "give each rule file its own id",
            )
        seen[r.id] = r
        if r.id in by_id and not r.overrides:
            raise RuleError(
                f"{r.origin}: id: rule {r.id!r} is a built-in rule",
                "rename it, or add 'overrides = true' to replace the built-in rule",
            )
        by_id[r.id] = r
    return tuple(sorted(by_id.values(), key=lambda r: r.id))


def select(rules: tuple[Rule, ...], ids: Sequence[str] | None) -> tuple[Rule, ...]:
    """The rules ``ids`` names (every rule when None/empty), in the order given."""
    if not ids:
        return rules
    by_id = {r.id: r for r in rules}
    out = []
    for i in ids:
        if i not in by_id:
            raise RuleError(f"unknown rule {i!r}", f"known rules: {', '.join(by_id)}")
        out.append(by_id[i])
    return tuple(out)


@cache
def builtin_rules() -> tuple[Rule, ...]:
    """The rules shipped in ``queries/``, sorted by id."""

    out = []
    for entry in package_dir("reviewbot.queries").iterdir():
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
    return select(builtin_rules(), [rule_id])[0]
