"""Self-contained HTML pieces: a page shell, a sortable table and an SVG release timeline.

Everything is inline (CSS, a few lines of JavaScript, SVG): the file opens offline, from a mail
attachment or a CI artifact, and loads nothing from the network. All text is escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

# Verdict colours, chosen to stay distinguishable for red-green colour blindness (blue/orange
# carry the contrast; the legend spells each one out anyway).
COLOURS = {
    "present": "#1a7f37",
    "fixed": "#1a7f37",
    "missing": "#d1242f",
    "needs-backport": "#d1242f",
    "regressed": "#8250df",
    "not-applicable": "#afb8c1",
    "not-affected": "#afb8c1",
    "no-file": "#ffffff",
}
LABELS = {
    "present": "guard present",
    "missing": "guard missing",
    "not-applicable": "not applicable (feature absent)",
    "no-file": "file absent",
    "fixed": "fixed",
    "needs-backport": "needs backport",
    "regressed": "regressed",
    "not-affected": "not affected",
}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.sub{color:#59636e;margin:0 0 16px}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border-bottom:1px solid #d1d9e0;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" \\25B2";font-size:10px}th.sorted-desc::after{content:" \\25BC";font-size:10px}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;white-space:nowrap}
.pill.not-applicable,.pill.not-affected{color:#1f2328}.pill.no-file{color:#1f2328;border:1px solid #8c959f}
.legend span{margin-right:14px;white-space:nowrap}.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px;border:1px solid #8c959f}
.card{border:1px solid #d1d9e0;border-radius:6px;padding:10px 14px;margin:10px 0}
.warn{color:#8250df;font-weight:600}pre{background:#f6f8fa;padding:8px 10px;border-radius:6px;overflow-x:auto}
svg text{font:12px system-ui,sans-serif}svg .mono{font:11px ui-monospace,monospace}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var asc=!th.classList.contains('sorted-asc');
      t.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc')});
      th.classList.add(asc?'sorted-asc':'sorted-desc');
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[i].getAttribute('data-sort')||a.cells[i].textContent,
            y=b.cells[i].getAttribute('data-sort')||b.cells[i].textContent;
        return (x<y?-1:x>y?1:0)*(asc?1:-1);
      });
      rows.forEach(function(r){body.appendChild(r)});
    });
  });
});
"""


def page(title: str, subtitle: str, body: str) -> str:
    """A complete HTML document with the shared style and the table-sorting script."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{escape(title)}</title>'
        f'<style>{_CSS}</style></head><body>\n<h1>{escape(title)}</h1>\n<p class="sub">{escape(subtitle)}</p>\n'
        f"{body}\n<script>{_JS}</script>\n</body></html>\n"
    )


def pill(state: str, text: str | None = None) -> str:
    """A rounded label in the colour of ``state`` (a verdict or a fix status), saying ``text``."""
    colour = COLOURS.get(state, "#59636e")
    return f'<span class="pill {escape(state)}" style="background:{colour}">{escape(text or state)}</span>'


def legend(states: list[str]) -> str:
    """One line naming the colour of each state."""
    items = "".join(
        f'<span><i style="background:{COLOURS[s]}"></i>{escape(LABELS[s])}</span>' for s in states
    )
    return f'<p class="legend">{items}</p>'


@dataclass(frozen=True)
class Cell:
    """A table cell: shown HTML, plus the key the column sorts by."""

    html: str
    sort: str = ""


def text_cell(text: str, sort: str = "", mono: bool = False) -> Cell:
    """A cell showing escaped ``text`` (monospaced with ``mono``)."""
    inner = f'<span class="mono">{escape(text)}</span>' if mono else escape(text)
    return Cell(inner, sort)


def table(headers: list[str], rows: list[list[Cell]], cls: str = "sortable") -> str:
    """A table whose columns sort on click (by each cell's ``sort`` key, else its text)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td data-sort="{escape(c.sort)}">{c.html}</td>' if c.sort else f"<td>{c.html}</td>"
            for c in row
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


@dataclass(frozen=True)
class Mark:
    """One release on a timeline lane."""

    name: str
    state: str
    tooltip: str
    highlight: bool = False  # e.g. the release that brought the fix


def timeline(lanes: list[tuple[str, list[Mark]]], width: int = 1100) -> str:
    """An SVG with one lane per branch/series: a square per release, coloured by verdict.

    The first and last release of each lane are named under it; highlighted releases are
    named too and get a marker, so the page reads without hovering (tooltips add detail).
    """
    label_w, cell, gap, lane_h = 150, 14, 2, 44
    longest = max((len(m) for _, m in lanes), default=1)
    # Few releases get wide spacing so each can be named; many shrink down to 3 px a release.
    step = max(3, min(72, (width - label_w - 80) // max(longest, 1)))
    # Wide steps get separate squares; narrow ones become a continuous bar of full-height cells.
    width_each = min(cell, step - gap) if step >= 8 else step
    size = cell
    height = lane_h * len(lanes) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="release timeline">'
    ]
    for i, (label, marks) in enumerate(lanes):
        y = 8 + i * lane_h
        out.append(f'<text x="0" y="{y + size - 2}" class="mono">{escape(label)}</text>')
        for j, m in enumerate(marks):
            x = label_w + j * step
            stroke = ' stroke="#57606a" stroke-width="1"' if m.state == "no-file" else ""
            out.append(
                f'<rect x="{x}" y="{y}" width="{width_each}" height="{size}" rx="{2 if step >= 8 else 0}" fill="{COLOURS.get(m.state, "#59636e")}"{stroke}>'
                f"<title>{escape(m.name)}: {escape(m.tooltip)}</title></rect>"
            )
            if m.highlight:
                out.append(
                    f'<path d="M{x + width_each / 2} {y + size + 2} l-4 6 h8 z" fill="#1f2328"/>'
                )
        # Names under the lane, without overlaps: highlighted first, then the ends, then the
        # releases where the verdict changes, then the rest.
        n = len(marks)
        changes = [j for j in range(1, n) if marks[j].state != marks[j - 1].state]
        order = [j for j in range(n) if marks[j].highlight] + [0, n - 1] + changes + list(range(n))
        placed: list[tuple[float, float]] = []
        for j in dict.fromkeys(k for k in order if 0 <= k < n):
            x0 = label_w + j * step
            x1 = x0 + 7 * len(marks[j].name)
            if x1 > width or any(x0 < b + 6 and a < x1 + 6 for a, b in placed):
                continue
            placed.append((x0, x1))
            out.append(
                f'<text x="{x0}" y="{y + size + 20}" class="mono">{escape(marks[j].name)}</text>'
            )
    out.append("</svg>")
    return "".join(out)
