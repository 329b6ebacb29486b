"""The typed, frozen records a rule file is read into (:mod:`reviewbot.rules.spec` reads them).

A :class:`Rule` names the functions to examine (:class:`Site`, alias lists and fingerprints),
its :class:`CheckSpec` checks and the :class:`Feature` each needs, the :class:`Vocabulary` its
messages use, and the :class:`Example` tests it carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

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
    label: str = ""  # how messages name it ("anon uffd-wp"); default: the name

    @property
    def text(self) -> str:
        """The feature as messages name it."""
        return self.label or self.name


@dataclass(frozen=True)
class Vocabulary:
    """The rule's words for what the engine talks about (the ``[vocabulary]`` table).

    The engine has no domain words: "the next PTE", "a uffd-wp VMA", "the collapse" are
    built from these. Defaults are neutral so a rule without the table still reads right.
    """

    entry: str = "entry"  # one item the checked loop visits ("PTE")
    entries: str = "entries"  # its plural ("PTEs")
    marked: str = "matching"  # an entry on which the predicate holds is a "<marked> <entry>"
    scope: str = "scope"  # what a vma-bail predicate tests ("VMA")
    scopes: str = "scopes"
    work: str = "the work"  # what a bail-out abandons ("the collapse")
    guard: str = "guard"  # what the hooks say a change loses ("uffd-wp guard")

    @property
    def marked_entry(self) -> str:
        """``uffd-wp PTE``."""
        return f"{self.marked} {self.entry}"

    @property
    def marked_scope(self) -> str:
        """``uffd-wp VMA``."""
        return f"{self.marked} {self.scope}"


class Verdict(StrEnum):
    """An expected verdict in a rule example (the statuses of ``model.results.Status``)."""

    PRESENT = "present"
    MISSING = "missing"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Example:
    """One example of a rule (``[[tests]]``): code, or a fixture file, and the expected verdicts.

    ``expect`` maps a check id, a site id or ``check/site`` to a verdict; ``message`` maps the
    same keys to text the verdict's message must contain.
    """

    name: str
    code: bytes
    path: str  # the path the code is checked as (default: the rule's first path)
    kernel_version: str | None
    expect: tuple[tuple[str, Verdict], ...]
    message: tuple[tuple[str, str], ...] = ()
    origin: str = ""  # where the example is written: rule file, or the fixture it names


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
    words: Vocabulary = field(default_factory=lambda: Vocabulary())  # the rule's vocabulary

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
    vocabulary: Vocabulary = field(default_factory=lambda: Vocabulary())
    tags: tuple[str, ...] = ()
    overrides: bool = False  # a user rule that replaces the built-in rule of the same id
    examples: tuple[Example, ...] = ()
    digest: str = ""  # of the file's bytes: user rules key cached verdicts by it

    def __hash__(self) -> int:
        return hash((self.id, self.version, self.origin))

    @property
    def cache_id(self) -> str:
        """The rule id cached verdicts are keyed by: a user rule's includes its file's digest,
        so editing the file without bumping ``version`` never returns stale verdicts."""
        return self.id if not self.digest else f"{self.id}@{self.digest}"

    @property
    def all_functions(self) -> frozenset[str]:
        """Every function name (alias) any check's sites examine."""
        return frozenset(f for c in self.checks for s in c.sites for f in s.functions)
