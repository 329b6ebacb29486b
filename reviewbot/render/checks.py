"""Render check results: text (rich table), JSON (schema reviewbot/1) and SARIF 2.1.0.

Renderers take model objects only and return strings (text takes a console so colour follows
the terminal). Output is sorted deterministically.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewbot import __version__
from reviewbot.model.results import SCHEMA, FileResult, Status
from reviewbot.rules.spec import Rule

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


def text(results: list[FileResult], console: Console) -> None:
    """Print a table per result and its one-line summary."""
    from rich.table import Table
    from rich.text import Text

    for r in results:
        table = Table(title=None, show_lines=False, expand=False, pad_edge=False)
        for col in ("check", "status", "function", "line", "via", "message"):
            table.add_column(col, overflow="fold", no_wrap=col in ("check", "status", "line"))
        for c in r.checks:
            status = str(c.status) + ("?" if c.uncertain else "")
            table.add_row(
                c.key,
                Text(status, style=STYLE[c.status]),
                c.function or "-",
                str(c.line) if c.line else "-",
                c.via or "-",
                c.message,
            )
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


def to_json(results: list[FileResult]) -> str:
    """Schema ``reviewbot/1``: one object per result."""
    doc = {
        "schema": SCHEMA,
        "tool": {"name": "reviewbot", "version": __version__},
        "results": [r.to_json() for r in results],
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def to_sarif(results: list[FileResult], rules: tuple[Rule, ...]) -> str:
    """SARIF 2.1.0: one reporting descriptor per check/site, one result per missing guard."""
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
    sarif_results: list[dict[str, Any]] = []
    for r in results:
        for c in r.checks:
            if c.status is not Status.MISSING:
                continue
            rid = f"{r.rule}/{c.id}" + (f"/{c.site}" if c.site else "")
            loc: dict[str, Any] = {
                "physicalLocation": {"artifactLocation": {"uri": (c.path or r.source).lstrip("/")}}
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
            sarif_results.append(entry)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": "reviewbot", "version": __version__, "rules": descriptors}
                },
                "results": sarif_results,
                "columnKind": "utf16CodeUnits",
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def plain_text(render_fn: Callable[[Console], None]) -> str:
    """What a rich renderer prints, as plain text (no colour), for writing to a file."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    render_fn(Console(file=buf, width=200, no_color=True, highlight=False, soft_wrap=True))
    return buf.getvalue()
