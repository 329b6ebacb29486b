"""Render a sweep (one row per ref): grouped text and Markdown, JSON, SARIF, and HTML.

Text and Markdown group consecutive releases with the same verdicts, so 300 releases read as
a handful of lines ("v5.10.1 … v5.10.178: isolate missing"). JSON keeps one result per ref.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

from rich.console import Console
from rich.text import Text

from reviewbot import __version__
from reviewbot.history.sweep import SweepRow
from reviewbot.model.kinds import CellState, RefKind
from reviewbot.model.results import SCHEMA, Status, worst
from reviewbot.render import htmlkit
from reviewbot.render.checks import STYLE, to_sarif
from reviewbot.rules.records import Rule

SHORT = {Status.PRESENT: "present", Status.MISSING: "MISSING", Status.NOT_APPLICABLE: "n/a"}


def check_ids(rows: list[SweepRow]) -> list[str]:
    """The check ids in the rows, in the order their rules list them (first seen first)."""
    return list(dict.fromkeys(c.id for row in rows for r in row.results for c in r.checks))


def state(row: SweepRow, check_id: str) -> CellState:
    """``present`` / ``missing`` / ``not-applicable`` / ``no-file`` for one cell."""
    st = row.status_of(check_id)
    return CellState.NO_FILE if st is None else CellState.of(st)


def overall(row: SweepRow) -> CellState:
    """One colour per ref for timelines: missing wins, then present, then not applicable."""
    if not row.results:
        return CellState.NO_FILE
    st = worst(s for c in check_ids([row]) if (s := row.status_of(c)) is not None)
    return CellState.NOT_APPLICABLE if st is None else CellState.of(st)


@dataclass(frozen=True)
class Group:
    """Consecutive rows with the same verdicts."""

    rows: tuple[SweepRow, ...]

    @property
    def first(self) -> SweepRow:
        """The oldest ref of the group."""
        return self.rows[0]

    @property
    def last(self) -> SweepRow:
        """The newest ref of the group."""
        return self.rows[-1]

    @property
    def refs(self) -> str:
        """``v5.10.1 … v5.10.178``, or the one ref."""
        return self.first.ref if len(self.rows) == 1 else f"{self.first.ref} … {self.last.ref}"

    @property
    def kernels(self) -> str:
        """``5.10.1 – 5.10.178``, or the one kernel version."""
        a, b = self.first.version.version or "?", self.last.version.version or "?"
        return a if a == b else f"{a} – {b}"


def _signature(row: SweepRow, ids: list[str]) -> tuple:
    return (
        tuple((state(row, c), row.uncertain(c)) for c in ids),
        bool(row.note) and not row.results,
    )


def groups(rows: list[SweepRow]) -> list[Group]:
    """Runs of consecutive rows (in version order) whose verdicts are the same."""
    ids = check_ids(rows)
    out: list[list[SweepRow]] = []
    for row in rows:
        if out and _signature(out[-1][-1], ids) == _signature(row, ids):
            out[-1].append(row)
        else:
            out.append([row])
    return [Group(tuple(g)) for g in out]


def _verdict_words(row: SweepRow, ids: list[str]) -> list[tuple[str, str]]:
    if not row.results:
        return [(row.note or "not checked", "yellow")]
    out = []
    for c in ids:
        st = row.status_of(c)
        if st is None:
            continue
        mark = "?" if row.uncertain(c) else ""
        out.append((f"{c} {SHORT[st]}{mark}", STYLE[st]))
    return out


def text(rows: list[SweepRow], console: Console) -> None:
    """Grouped lines: ``v5.10.1 … v5.10.178 (178 refs, 5.10.1 – 5.10.178): scan present · isolate MISSING``."""
    ids = check_ids(rows)
    for g in groups(rows):
        line = Text()
        line.append(g.refs, style="bold")
        count = f"{len(g.rows)} refs, " if len(g.rows) > 1 else ""
        line.append(f" ({count}kernel {g.kernels})  ", style="dim")
        for i, (word, style) in enumerate(_verdict_words(g.first, ids)):
            if i:
                line.append(" · ", style="dim")
            line.append(word, style=style)
        console.print(line)
    console.print(summary(rows))


def summary(rows: list[SweepRow]) -> str:
    """``312 refs (300 tags, 12 branches) in 9 groups; 180 with a missing guard; 3 lack the file``."""
    tags = sum(1 for r in rows if r.kind == RefKind.TAG)
    missing = sum(1 for r in rows if r.missing)
    lacking = sum(1 for r in rows if not r.results)

    def n(k: int, word: str) -> str:
        return f"{k} {word}" + ("" if k == 1 else ("es" if word.endswith("ch") else "s"))

    parts = [
        f"{n(len(rows), 'ref')} ({n(tags, 'tag')}, {n(len(rows) - tags, 'branch')}) in {n(len(groups(rows)), 'group')}",
        f"{missing} with a missing guard",
    ]
    if lacking:
        parts.append(f"{lacking} without the file")
    return "; ".join(parts)


def reasons(row: SweepRow, check_id: str) -> list[str]:
    """Why a check is missing at ``row``: ``function:line: message`` per missing site."""
    return [
        (f"{x.function or '?'}:{x.line}: " if x.line else f"{x.function}: " if x.function else "")
        + x.message
        for r in row.results
        for x in r.checks
        if x.id == check_id and x.status is Status.MISSING
    ]


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[SweepRow]) -> str:
    """A Markdown table of the groups."""
    ids = check_ids(rows)
    head = ["refs", "count", "kernel", *ids]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g in groups(rows):
        row = g.first
        if row.results:
            cells = []
            for c in ids:
                st = row.status_of(c)
                word = "—" if st is None else SHORT[st] + ("?" if row.uncertain(c) else "")
                why = "; ".join(reasons(row, c))
                cells.append(
                    f"**{word}** {_md_cell(why)}".rstrip() if st is Status.MISSING else word
                )
        else:
            cells = [row.note or "not checked"] + [""] * (len(ids) - 1)
        out.append(f"| `{g.refs}` | {len(g.rows)} | {g.kernels} | " + " | ".join(cells) + " |")
    out += ["", summary(rows), ""]
    return "\n".join(out)


def row_json(row: SweepRow) -> list[dict]:
    """The checker's result objects for one ref (``ref`` set), or one saying why there is none."""
    if row.results:
        return [{**r.to_json(), "kind": row.kind, "sha": row.sha} for r in row.results]
    return [
        {
            "source": None,
            "ref": row.ref,
            "kernel_version": row.version.version,
            "version_origin": row.version.origin,
            "rule": None,
            "rule_version": None,
            "checks": [],
            "kind": row.kind,
            "sha": row.sha,
            "note": row.note,
        }
    ]


def to_json(rows: list[SweepRow]) -> str:
    """Schema ``reviewbot/1``; one result per line (thousands of refs stay fast to write and grep)."""
    head = json.dumps({"schema": SCHEMA, "tool": {"name": "reviewbot", "version": __version__}})[
        :-1
    ]
    items = ",\n  ".join(
        json.dumps(item, separators=(",", ":")) for row in rows for item in row_json(row)
    )
    return f'{head}, "results": [\n  {items}\n]}}\n' if items else f'{head}, "results": []}}\n'


def to_jsonl(rows: list[SweepRow]) -> str:
    """JSON Lines for streaming: one result object per line, each naming the schema it follows."""
    return "".join(
        json.dumps({"schema": SCHEMA, **item}, separators=(",", ":")) + "\n"
        for row in rows
        for item in row_json(row)
    )


def to_sarif_rows(rows: list[SweepRow], rules: tuple[Rule, ...], root: Path | None = None) -> str:
    """SARIF 2.1.0 of every ref's results (one result per missing guard, its ref in properties);
    URIs relative to ``root``, the repository swept."""
    return to_sarif([r for row in rows for r in row.results], rules, root=root)


def series_lanes(rows: list[SweepRow]) -> list[tuple[str, list[htmlkit.Mark]]]:
    """Timeline lanes: one per kernel series (tags), one for the branches."""
    lanes: dict[str, list[htmlkit.Mark]] = {}
    for row in rows:
        kv = row.kernel
        lane = "branches" if row.kind != RefKind.TAG else (kv.series if kv else "other")
        tip = "; ".join(w for w, _ in _verdict_words(row, check_ids([row]))) or "-"
        lanes.setdefault(lane, []).append(
            htmlkit.Mark(row.ref, overall(row), f"kernel {row.version.version or '?'}: {tip}")
        )
    return list(lanes.items())


def html(rows: list[SweepRow], title: str = "reviewbot sweep") -> str:
    """One self-contained page: a timeline per series and a sortable table of every ref."""
    ids = check_ids(rows)
    table_rows = []
    for i, row in enumerate(rows):
        cells = [
            htmlkit.text_cell(row.ref, f"{i:06d}", mono=True),
            htmlkit.text_cell(row.kind),
            htmlkit.text_cell(row.version.version or "?", f"{i:06d}"),
            htmlkit.text_cell(row.source or "-", mono=True),
        ]
        for c in ids:
            st = state(row, c)
            checks = [x for r in row.results for x in r.checks if x.id == c]
            where = ", ".join(f"{x.function or '?'}:{x.line}" for x in checks if x.line)
            why = "; ".join(x.message for x in checks if x.status is Status.MISSING)
            label = {CellState.NO_FILE: "—", CellState.NOT_APPLICABLE: "n/a"}.get(st, st.value) + (
                "?" if row.uncertain(c) else ""
            )
            cells.append(
                htmlkit.Cell(
                    htmlkit.pill(st, label)
                    + (f' <span class="mono">{escape(where)}</span>' if where else "")
                    + (f"<br><small>{escape(why)}</small>" if why else ""),
                    st,
                )
            )
        cells.append(htmlkit.text_cell(row.note or ""))
        table_rows.append(cells)
    body = [
        f"<p>{escape(summary(rows))}</p>",
        "<h2>Timeline</h2>",
        htmlkit.legend(
            [CellState.PRESENT, CellState.MISSING, CellState.NOT_APPLICABLE, CellState.NO_FILE]
        ),
        '<p class="sub">One cell per release, left to right in version order, coloured by its worst verdict (a missing guard wins). Hover for the ref.</p>',
        htmlkit.timeline(series_lanes(rows)),
        '<h2>Every ref</h2><p class="sub">Click a column to sort.</p>',
        htmlkit.table(["ref", "kind", "kernel", "file", *ids, "note"], table_rows),
    ]
    return htmlkit.page(title, f"reviewbot {__version__} · schema {SCHEMA}", "\n".join(body))
