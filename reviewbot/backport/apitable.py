"""The data table of known kernel API renames (``queries/api-renames.toml``).

Generation (``known.valid_rename``: an upstream callee may become the older tree's name) and
validation (``drift``: a backport that uses the old name is equivalent, noted the way stable
notes it) read the same table.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from reviewbot.model.fileio import package_dir


@cache
def _table() -> dict[str, Any]:
    """``queries/api-renames.toml``, read once: its sections by name."""
    text = package_dir("reviewbot.queries").joinpath("api-renames.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class Rename:
    """One known API rename (``queries/api-renames.toml``)."""

    new: str
    old: str
    since: str
    api: str


@cache
def api_renames() -> dict[tuple[str, str], Rename]:
    """(name upstream uses, name an older tree uses) -> the rename, from the data table."""
    out = {}
    for row in _table().get("rename", []) + _table().get("symbol", []):
        r = Rename(str(row["new"]), str(row["old"]), str(row["since"]), str(row["api"]))
        out[(r.new, r.old)] = r
    return out


@cache
def symbol_renames() -> dict[str, Rename]:
    """Configuration symbols and constants a later tree names otherwise, by the later name:
    the same word in every use, so an older tree's name stands for it one for one."""
    rows = _table().get("symbol", [])
    return {
        str(r["new"]): Rename(str(r["new"]), str(r["old"]), str(r["since"]), str(r["api"]))
        for r in rows
    }


_WORD = re.compile(r"\b[A-Za-z_]\w*\b")


def older_symbols(lines: list[str], have: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """``lines`` with each renamed symbol (:func:`symbol_renames`) the tree lacks written with
    the older name the tree has (``#ifdef CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING`` ->
    ``#ifdef CONFIG_ARCH_WANT_HUGE_PMD_SHARE``); the APIs so adjusted."""
    table = symbol_renames()
    used: list[str] = []

    def spell(m: re.Match[str]) -> str:
        r = table.get(m.group(0))
        if r is None or have(r.new) or not have(r.old):
            return m.group(0)
        used.append(r.api)
        return r.old

    out = [_WORD.sub(spell, x) if any(n in x for n in table) else x for x in lines]
    return out, list(dict.fromkeys(used))


@dataclass(frozen=True)
class Form:
    """A statement written with a later API and the older trees' ways of writing it."""

    new: str  # template: `$A` an lvalue path, `$B` an expression
    old: tuple[str, ...]  # the first is how reviewbot writes it
    since: str
    api: str

    @property
    def callee(self) -> str:
        """The later API's function (``vm_flags_clear``)."""
        return self.new.split("(", 1)[0].strip()


_HOLES = {"A": r"[A-Za-z_][\w\->.\[\]]*?", "B": r"[^;]+?"}


def _pattern(template: str) -> re.Pattern[str]:
    """A whole-statement regex for ``template`` (any whitespace between tokens)."""
    out: list[str] = []
    prev = ""
    for part in re.split(r"(\$[AB])", template):
        if part in ("$A", "$B"):
            # right after a unary operator only one operand binds: `~VM_X`, not `~A | B`
            hole = r"\w+" if prev.rstrip().endswith(("~", "!", "-")) else _HOLES[part[1]]
            out.append(f"(?P<{part[1]}>{hole})")
        else:
            prev = part
            out.append(r"\s*".join(re.escape(c) for c in part if not c.isspace()))
    return re.compile(r"^\s*" + r"\s*".join(x for x in out if x) + r"\s*$")


def _fill(template: str, m: re.Match[str]) -> str:
    return template.replace("$A", m.group("A").strip()).replace("$B", m.group("B").strip())


@cache
def api_forms() -> tuple[Form, ...]:
    """The statement forms of ``queries/api-renames.toml``."""
    return tuple(
        Form(str(r["new"]), tuple(str(x) for x in r["old"]), str(r["since"]), str(r["api"]))
        for r in _table().get("form", [])
    )


def canonical(statement: str) -> str:
    """A statement in an older spelling of a form, written with the later API (else as is)."""
    for f in api_forms():
        for old in f.old:
            m = _pattern(old).match(statement)
            if m:
                return _fill(f.new, m)
    return statement


def older_forms(lines: list[str], have: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """Whole-statement lines using a later API the tree lacks (``have``), written the older
    way with their indentation; and the APIs so adjusted."""
    out, used = [], []
    for x in lines:
        for f in api_forms():
            m = _pattern(f.new).match(x)
            if m and not have(f.callee):
                x = x[: len(x) - len(x.lstrip())] + _fill(f.old[0], m)
                used.append(f.api)
                break
        out.append(x)
    return out, list(dict.fromkeys(used))


@dataclass(frozen=True)
class ExprForm:
    """A later helper call (``new``, its arguments ``$A``, ``$B``, ...) and the expression it
    stands for in trees without the helper (``old``)."""

    new: str
    old: str
    since: str
    api: str

    @property
    def callee(self) -> str:
        """The later helper (``ptdesc_pmd_is_shared``)."""
        return self.new.split("(", 1)[0].strip()

    @property
    def params(self) -> list[str]:
        """The argument variables of ``new``, in order (``["$A", "$B"]``)."""
        return re.findall(r"\$[A-Z]", self.new)

    def spell(self, args: list[str], truth: bool) -> str:
        """``old`` for the arguments' texts; ``truth``: only the value's truth counts."""
        out = self.old
        for var, text in zip(self.params, args, strict=True):
            out = out.replace(var, text)
        return out[2:] if truth and out.startswith("!!") else out


@cache
def api_exprs() -> dict[str, ExprForm]:
    """The expression forms of ``queries/api-renames.toml``, by the later helper's name."""
    forms = [
        ExprForm(str(r["new"]), str(r["old"]), str(r["since"]), str(r["api"]))
        for r in _table().get("expr", [])
    ]
    return {f.callee: f for f in forms}
