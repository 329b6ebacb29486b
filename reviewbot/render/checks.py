"""Render check results: text (rich table), JSON (schema reviewbot/1) and SARIF 2.1.0.

Renderers take model objects only and return strings (text takes a console so colour follows
the terminal). Output is sorted deterministically.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reviewbot import __version__
from reviewbot.model.results import SCHEMA, CheckResult, FileResult, Status
from reviewbot.model.versions import tree_root
from reviewbot.rules.records import Rule

SRCROOT = "%SRCROOT%"

if TYPE_CHECKING:  # rich is imported by the renderers that draw: JSON and SARIF start faster
    from rich.console import Console

STYLE = {Status.PRESENT: "green", Status.MISSING: "bold red", Status.NOT_APPLICABLE: "dim"}


def _where(r: FileResult) -> str:
    where = r.source if r.ref is None else f"{r.source} @ {r.ref}"
    v = r.version
    if v.version:
        where += f" (kernel {v.version}, {'from ' + v.detail if v.detail else v.origin})"
    elif v.origin == "inferred":
        where += f" (kernel version unknown; {v.detail})"
    else:
        where += " (kernel version unknown)"
    return where


def summary_line(r: FileResult) -> str:
    """One line: where, and how many guards are present / missing / not applicable."""
    counts = {s: [c.key for c in r.checks if c.status is s] for s in Status}
    parts = []
    if counts[Status.MISSING]:
        parts.append(f"{len(counts[Status.MISSING])} missing ({', '.join(counts[Status.MISSING])})")
    if counts[Status.PRESENT]:
        parts.append(f"{len(counts[Status.PRESENT])} present")
    if counts[Status.NOT_APPLICABLE]:
        parts.append(f"{len(counts[Status.NOT_APPLICABLE])} not applicable")
    uncertain = [c.key for c in r.checks if c.uncertain]
    if uncertain:
        parts.append(f"uncertain: {', '.join(uncertain)}")
    return f"{r.rule}: {'; '.join(parts)} — {_where(r)}"


#: Narrowest message column a table is worth drawing with; below it, compiler-style lines.
MIN_MESSAGE_WIDTH = 40


def check_line(r: FileResult, c: CheckResult) -> str:
    """``mm/khugepaged.c:545: isolate: missing: <message> (in f, via g)``: one grep-able line.

    The shape gcc, ruff and semgrep print, so editors and CI log viewers can jump to it.
    """
    where = c.path or r.source
    if c.line:
        where += f":{c.line}"
    status = str(c.status) + ("?" if c.uncertain else "")
    extra = [x for x in (c.function and f"in {c.function}", c.via and f"via {c.via}") if x]
    tail = f" ({', '.join(extra)})" if extra else ""
    message = c.message
    if c.status is Status.NOT_APPLICABLE:  # the status already says it
        message = message.removeprefix("not applicable: ")
    return f"{where}: {c.key}: {status}: {message}{tail}"


def _columns(r: FileResult) -> list[tuple[str, list[str]]]:
    """The table's columns with their cells; a column empty in every row is left out."""
    cols = [
        ("check", [c.key for c in r.checks]),
        ("status", [str(c.status) + ("?" if c.uncertain else "") for c in r.checks]),
        ("function", [c.function or "" for c in r.checks]),
        ("line", [str(c.line) if c.line else "" for c in r.checks]),
        ("via", [c.via or "" for c in r.checks]),
    ]
    return [(name, cells) for name, cells in cols if any(cells)]


def table_width(r: FileResult) -> int:
    """Columns a table of ``r`` needs so no identifier is split and the message stays readable."""
    cols = _columns(r)
    fixed = sum(max(len(name), *(len(x) for x in cells)) for name, cells in cols)
    return fixed + MIN_MESSAGE_WIDTH + 3 * (len(cols) + 1)


def text(results: list[FileResult], console: Console) -> None:
    """A table per result and its one-line summary on a terminal wide enough for it;
    otherwise (piped, logged, narrow) one compiler-style line per check."""
    from rich.table import Table
    from rich.text import Text

    # One shape for the whole output: tables only when every one of them fits.
    as_lines = not console.is_terminal or console.width < max(
        (table_width(r) for r in results), default=0
    )
    for r in results:
        if as_lines:
            for c in r.checks:
                console.print(Text(check_line(r, c), style=STYLE[c.status]), soft_wrap=True)
            console.print(
                Text(summary_line(r), style="bold red" if r.missing else "green"), soft_wrap=True
            )
            continue
        cols = _columns(r)
        table = Table(title=None, show_lines=False, expand=False, pad_edge=False)
        for name, cells in cols:
            # identifiers never wrap (a split name cannot be searched for); the message wraps
            # at spaces
            width = max(len(name), *(len(x) for x in cells))
            table.add_column(name, no_wrap=True, min_width=width)
        table.add_column("message", overflow="fold", min_width=MIN_MESSAGE_WIDTH)
        for i, c in enumerate(r.checks):
            row: list[str | Text] = []
            for name, cells in cols:
                row.append(Text(cells[i], style=STYLE[c.status]) if name == "status" else cells[i])
            table.add_row(*row, c.message)
        console.print(table)
        console.print(Text(summary_line(r), style="bold red" if r.missing else "green"))


def release_table(results: list[FileResult], console: Console) -> None:
    """One row per ref: each check's verdict side by side (the demo and sweep view).

    The columns are the check ids in the order the rules list them; a check id that is also
    a column name ("file") gets " check" appended.
    """
    from rich.table import Table
    from rich.text import Text

    table = Table(pad_edge=False)
    ids = list(dict.fromkeys(c.id for r in results for c in r.checks))
    fixed = ("ref", "kernel", "file")
    for col in (*fixed, *(f"{cid} check" if cid in fixed else cid for cid in ids)):
        table.add_column(col, no_wrap=True)
    for r in results:
        cells = []
        for cid in ids:
            st = r.status_of(cid)
            mark = "?" if any(c.uncertain for c in r.checks if c.id == cid) else ""
            cells.append(Text(str(st) + mark, style=STYLE[st]))
        table.add_row(r.ref or "-", r.kernel_version or "?", r.source, *cells)
    console.print(table)
    missing = [r for r in results if r.missing]
    console.print(
        f"{len(results)} refs checked; {len(missing)} with a missing guard"
        + (f": {', '.join(r.ref or r.source for r in missing)}" if missing else "")
    )


def to_json(results: list[FileResult], sha: str | None = None) -> str:
    """Schema ``reviewbot/1``: one object per result; ``sha``: the commit a ref resolved to."""
    items = []
    for r in results:
        item = r.to_json()
        if sha is not None and r.ref is not None:
            item["sha"] = sha  # "ref": "HEAD" alone does not say which commit was read
        items.append(item)
    doc = {
        "schema": SCHEMA,
        "tool": {"name": "reviewbot", "version": __version__},
        "results": items,
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def artifact(path: str, root: Path | None) -> tuple[str, Path]:
    """A result's artifact URI relative to its root, and that root.

    ``root`` given (a repository): ``path`` is already relative to it. Otherwise ``path`` is a
    file on disk; its root is the kernel tree holding it (as ``checker.files`` finds it), else
    the current directory when the file is under it, else the file's own directory.
    """
    if root is not None:
        return quote(path.lstrip("/")), root.resolve()
    p = Path(path).resolve()
    base = tree_root(p) if p.exists() else None
    if base is None:
        cwd = Path.cwd().resolve()
        base = cwd if p.is_relative_to(cwd) else p.parent
    return quote(p.relative_to(base).as_posix()), base


def to_sarif(results: list[FileResult], rules: tuple[Rule, ...], root: Path | None = None) -> str:
    """SARIF 2.1.0: one reporting descriptor per check/site, one result per missing guard.

    Artifact URIs are relative to ``%SRCROOT%`` (``root``, the repository, when the results
    were read from one; else the kernel tree of each file), which ``originalUriBaseIds`` gives.
    """
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in rules:
        for spec in rule.checks:
            for site in spec.sites:
                rid = f"{rule.id}/{spec.id}" + (f"/{site.id}" if site.id else "")
                index[rid] = len(descriptors)
                descriptors.append(
                    {
                        "id": rid,
                        "name": "".join(w.capitalize() for w in rid.replace("/", "-").split("-")),
                        "shortDescription": {
                            "text": spec.title + (f": {site.title}" if site.id else "")
                        },
                        "fullDescription": {"text": spec.description or spec.title},
                        "help": {
                            "text": rule.help,
                            "markdown": f"{rule.help}\n\nUpstream: {spec.upstream or rule.help_uri}",
                        },
                        "helpUri": rule.help_uri,
                        "defaultConfiguration": {"level": "error"},
                        "properties": {
                            "tags": list(rule.tags),
                            "precision": "high",
                        },
                    }
                )
    by_root: dict[Path, list[dict[str, Any]]] = {}
    for r in results:
        for c in r.checks:
            if c.status is not Status.MISSING:
                continue
            rid = f"{r.rule}/{c.id}" + (f"/{c.site}" if c.site else "")
            uri, base = artifact(c.path or r.source, root)
            loc: dict[str, Any] = {
                "physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": SRCROOT}}
            }
            if c.line:
                loc["physicalLocation"]["region"] = {"startLine": c.line}
            if c.function:
                loc["logicalLocations"] = [{"name": c.function, "kind": "function"}]
            entry: dict[str, Any] = {
                "ruleId": rid,
                "level": "warning" if c.uncertain else "error",
                "message": {"text": c.message},
                "locations": [loc],
                "properties": {
                    "ref": r.ref,
                    "kernelVersion": r.kernel_version,
                    "uncertain": c.uncertain,
                },
            }
            if rid in index:
                entry["ruleIndex"] = index[rid]
            by_root.setdefault(base, []).append(entry)
    if not by_root:  # a clean run still names the root it looked at
        by_root[root.resolve() if root is not None else Path.cwd().resolve()] = []
    # One run per root: originalUriBaseIds is per run (files from two trees: two runs).
    runs = [
        {
            "tool": {"driver": {"name": "reviewbot", "version": __version__, "rules": descriptors}},
            "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}},
            "results": entries,
            "columnKind": "utf16CodeUnits",
        }
        for base, entries in by_root.items()
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    }
    return json.dumps(doc, indent=2) + "\n"


def plain_text(render_fn: Callable[[Console], None]) -> str:
    """What a rich renderer prints, as plain text (no colour), for writing to a file."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    render_fn(Console(file=buf, width=200, no_color=True, highlight=False, soft_wrap=True))
    return buf.getvalue()
