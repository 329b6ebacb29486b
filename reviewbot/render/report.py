"""Render a fix's report: Markdown/text for a reply on the stable list, JSON, and HTML.

Markdown and text give a summary table, then a table per branch with the evidence, and for
every branch that needs a maintainer the commands to run — the shape of the stable queue's
FAILED mails. HTML is one self-contained page: the same tables (sortable) and an SVG timeline
of each branch's releases coloured by the verdict of the checks the fix targets.
"""

from __future__ import annotations

import json
from html import escape

from reviewbot import __version__
from reviewbot.history.fixes import BranchStatus
from reviewbot.history.report import Report
from reviewbot.model.kinds import FIX_STATUS_ORDER, CellState, FixStatus
from reviewbot.model.results import SCHEMA
from reviewbot.model.versions import KernelVersion
from reviewbot.render import htmlkit


def _series(st: BranchStatus) -> str:
    kv = KernelVersion.try_parse(st.tip_version or "")
    return f"{kv.series}.y" if kv else st.branch


def commands(report: Report, st: BranchStatus) -> list[str]:
    """What a maintainer runs to backport the fix onto the branch, in this repository.

    A remote-tracking branch is fetched from its own remote; a local branch is checked out.
    The pick signs off itself, so a clean pick or ``git am`` needs nothing more.
    """
    fix = report.fix
    sha = fix.sha or "<upstream sha>"
    if st.upstream is not None:
        remote, branch = st.upstream
        get = [f"git fetch {remote} {branch}", f"git checkout -b {branch}-backport FETCH_HEAD"]
    else:
        get = [f"git checkout {st.branch}"]
    if fix.in_repo:
        pick = [
            f"git cherry-pick -x -s {sha}",
            "# on a conflict: resolve, build, test, git add, git cherry-pick --continue",
        ]
    else:
        pick = [
            f"git am -3 -s {fix.origin}    # the fix is not in this repository",
            "# on a conflict: resolve, build, test, git add, git am --continue",
        ]
    return [
        *get,
        *pick,
        f"git send-email --to '<stable@vger.kernel.org>' --in-reply-to '<message-id>' --subject-prefix 'PATCH {_series(st)}' HEAD^..",
    ]


def _fix_line(report: Report) -> str:
    fix = report.fix
    fixes = ", ".join(f'{a} ("{s}")' if s else a for a, s in fix.fixes) or "none"
    where = "in this repository" if fix.in_repo else f"not in this repository (from {fix.origin})"
    return f'{fix.short} ("{fix.subject}"), {where}; Fixes: {fixes}'


def _headline(st: BranchStatus) -> str:
    if st.status == FixStatus.FIXED:
        by = f" by {st.fixed_by[:12]}" if st.fixed_by else ""
        return f"fixed{by}" + (f" in {st.fixed_in}" if st.fixed_in else "")
    return st.status


def _counts(report: Report) -> str:
    counts: dict[str, int] = {}
    for b in report.branches:
        counts[b.status] = counts.get(b.status, 0) + 1
    return ", ".join(f"{counts[s]} {s}" for s in FIX_STATUS_ORDER if s in counts)


def markdown(report: Report) -> str:
    """A reply fit for the stable list."""
    out = [
        f"# {report.fix.subject}",
        "",
        f"Upstream: {_fix_line(report)}",
        f"Checks the fix targets: {', '.join(report.targets) or 'none found'} · {len(report.branches)} branches: {_counts(report)}",
        "",
        "| branch | tip | status | fixed by | fixed in | CVE range |",
        "|---|---|---|---|---|---|",
    ]
    for b in report.branches:
        status = f"**{b.status}**" if FixStatus(b.status).actionable else b.status
        out.append(
            f"| {b.branch} | {b.tip} | {status} | {b.fixed_by[:12] if b.fixed_by else ''} | {b.fixed_in or ''} | "
            f"{'`' + b.cve_range + '`' if b.cve_range else ''} |"
        )
    for b in report.branches:
        out += [
            "",
            f"## {b.branch} ({b.tip}): {_headline(b)}",
            "",
            "| signal | commit | release | detail |",
            "|---|---|---|---|",
        ]
        for e in b.evidence:
            detail = e.detail.replace("|", "\\|")
            out.append(f"| {e.kind} | {e.sha[:12] if e.sha else ''} | {e.ref or ''} | {detail} |")
        for d in b.disagreements:
            out.append(f"\n> **Signals disagree:** {d}")
        if FixStatus(b.status).actionable:
            what = "backport" if b.status == FixStatus.NEEDS_BACKPORT else "restore"
            out += ["", f"To {what} the fix on {b.branch}:", "", "```", *commands(report, b), "```"]
    out += ["", f"-- reviewbot {__version__}", ""]
    return "\n".join(out)


def text(report: Report) -> str:
    """Plain text: the same content as Markdown, aligned for a terminal or a mail."""
    rows = [("branch", "tip", "status", "fixed by", "fixed in", "CVE range")]
    for b in report.branches:
        rows.append(
            (
                b.branch,
                b.tip,
                b.status,
                b.fixed_by[:12] if b.fixed_by else "-",
                b.fixed_in or "-",
                b.cve_range or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = [
        report.fix.subject,
        f"upstream: {_fix_line(report)}",
        f"checks: {', '.join(report.targets) or 'none found'}; {_counts(report)}",
        "",
    ]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for b in report.branches:
        out += ["", f"{b.branch} ({b.tip}): {_headline(b)}"]
        for e in b.evidence:
            out.append(
                f"  {e.kind:13} {e.sha[:12] if e.sha else '-':12}  {(e.ref or '-'):10}  {e.detail}"
            )
        for d in b.disagreements:
            out.append(f"  ! signals disagree: {d}")
        if FixStatus(b.status).actionable:
            out += ["  commands:", *("    " + c for c in commands(report, b))]
    return "\n".join(out) + "\n"


def to_json(report: Report) -> str:
    """Schema ``reviewbot/1``: the fix, then one object per branch with its evidence and releases."""
    fix = report.fix
    doc = {
        "schema": SCHEMA,
        "tool": {"name": "reviewbot", "version": __version__},
        "fix": {
            "sha": fix.sha,
            "subject": fix.subject,
            "author": fix.author,
            "in_repo": fix.in_repo,
            "origin": fix.origin,
            "patch_id": fix.patch_id,
            "targets": list(report.targets),
            "fixes": [{"sha": a, "subject": s} for a, s in fix.fixes],
        },
        "branches": [
            {
                "branch": b.branch,
                "tip": b.tip,
                "tip_sha": b.tip_sha,
                "tip_version": b.tip_version,
                "status": b.status,
                "fixed_by": b.fixed_by,
                "fixed_in": b.fixed_in,
                "cve_range": b.cve_range,
                "evidence": [
                    {"kind": e.kind, "sha": e.sha, "ref": e.ref, "detail": e.detail}
                    for e in b.evidence
                ],
                "disagreements": list(b.disagreements),
                "releases": [
                    {"ref": r.ref, "kernel_version": r.version, "state": r.state}
                    for r in report.timeline(b.branch)
                ],
            }
            for b in report.branches
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def html(report: Report) -> str:
    """One self-contained page: summary table, timeline per branch, evidence and commands."""
    fix = report.fix
    summary_rows = []
    for i, b in enumerate(report.branches):
        summary_rows.append(
            [
                htmlkit.text_cell(b.branch, f"{i:04d}", mono=True),
                htmlkit.text_cell(b.tip, f"{i:04d}", mono=True),
                htmlkit.Cell(htmlkit.pill(b.status), b.status),
                htmlkit.text_cell(b.fixed_by[:12] if b.fixed_by else "", mono=True),
                htmlkit.text_cell(b.fixed_in or ""),
                htmlkit.text_cell(b.cve_range or "", mono=True),
                htmlkit.text_cell(str(len(b.disagreements)) if b.disagreements else ""),
            ]
        )
    lanes = []
    for b in report.branches:
        marks = [
            htmlkit.Mark(
                r.ref,
                r.state,
                f"kernel {r.version or '?'}: {r.detail}",
                highlight=r.ref == b.fixed_in,
            )
            for r in report.timeline(b.branch)
        ]
        lanes.append((f"{b.branch}", marks))
    body = [
        f'<p>Upstream: <span class="mono">{escape(_fix_line(report))}</span></p>',
        f"<p>Checks the fix targets: <b>{escape(', '.join(report.targets) or 'none found')}</b> · "
        f"{len(report.branches)} branches: {escape(_counts(report))}</p>",
        '<h2>Branches</h2><p class="sub">Click a column to sort.</p>',
        htmlkit.table(
            ["branch", "tip", "status", "fixed by", "fixed in", "CVE range", "disagreements"],
            summary_rows,
        ),
        "<h2>Releases of each branch</h2>",
        htmlkit.legend(
            [CellState.PRESENT, CellState.MISSING, CellState.NOT_APPLICABLE, CellState.NO_FILE]
        ),
        '<p class="sub">One cell per release, left to right in version order, coloured by the checks the fix targets; ▲ marks the release that brought the fix. Hover for details.</p>',
        htmlkit.timeline(lanes),
        "<h2>Evidence</h2>",
    ]
    for b in report.branches:
        ev_rows = [
            [
                htmlkit.text_cell(e.kind),
                htmlkit.text_cell(e.sha[:12] if e.sha else "", mono=True),
                htmlkit.text_cell(e.ref or ""),
                htmlkit.text_cell(e.detail),
            ]
            for e in b.evidence
        ]
        card = [
            f'<div class="card"><b class="mono">{escape(b.branch)}</b> ({escape(b.tip)}) {htmlkit.pill(b.status, _headline(b))}',
            htmlkit.table(["signal", "commit", "release", "detail"], ev_rows),
        ]
        card += [f'<p class="warn">Signals disagree: {escape(d)}</p>' for d in b.disagreements]
        if FixStatus(b.status).actionable:
            card.append(f"<pre>{escape(chr(10).join(commands(report, b)))}</pre>")
        card.append("</div>")
        body.append("".join(card))
    return htmlkit.page(
        f"{fix.subject}", f"reviewbot {__version__} report · {report.repo}", "\n".join(body)
    )
