"""Render a backport validation as SARIF 2.1.0: one result per failed check.

The text and JSON views are the validation's own (``Validation.lines`` / ``to_json``); SARIF
needs locations, which a verdict does not carry: they come from the proposed patch. A check's
result points at the patched files its details name (all patched files when they name none),
relative to the repository root (``%SRCROOT%``); the region is the hunk a detail names
(``hunk #N``, with the mismatching line when given), or the file's only hunk.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reviewbot import __version__
from reviewbot.render.checks import SRCROOT

if TYPE_CHECKING:  # the validation imports tree-sitter; rendering needs only its values
    from reviewbot.backport.validate import Validation, Verdict
    from reviewbot.diffs.patches import FilePatch, Hunk, Mail

# What each validation check asks (the ids are backport.validate.CHECK_IDS; a check this table
# does not know still gets a descriptor, titled by its id).
CHECKS = {
    "applies": "The patch applies to the target exactly (offsets allowed, no fuzz).",
    "parses": "The patched file has no new parse errors in the functions the patch touches.",
    "guards": "Every guard the fix adds is present after the patch, and no guard is lost.",
    "scope": "The changes stay in the functions the upstream fix touched.",
    "equivalence": "Added and removed statements equal upstream's, modulo the trees' drift.",
    "need": "The target is affected by the bug and lacks the fix.",
}

# "mm/khugepaged.c: hunk #2: line 611: expected ..." (diffs.patches.ApplyFailure's wording)
HUNK_AT = re.compile(r"hunk #(\d+)(?::\s*line (\d+))?")


def _region(fp: FilePatch, details: list[str]) -> dict[str, int] | None:
    """The hunk a detail names, else the file's only hunk, as lines of the target's file."""
    hunk: Hunk | None = None
    line: int | None = None
    for d in details:
        m = HUNK_AT.search(d)
        if m and 1 <= int(m.group(1)) <= len(fp.hunks):
            hunk = fp.hunks[int(m.group(1)) - 1]
            line = int(m.group(2)) if m.group(2) else None
            break
    if hunk is None and len(fp.hunks) == 1:
        hunk = fp.hunks[0]
    if line is not None:
        return {"startLine": line}
    if hunk is None:
        return None
    start = max(hunk.source_start, 1)  # the pre-image: the file as it is at the target ref
    return {"startLine": start, "endLine": max(start, start + hunk.source_length - 1)}


def _locations(v: Verdict, patch: Mail) -> list[dict[str, Any]]:
    files = [fp for fp in patch.files if fp.path]
    named = [
        (fp, [d for d in v.details if d.startswith(tuple(f"{p}:" for p in {fp.path, fp.source}))])
        for fp in files
    ]
    chosen = [(fp, ds) for fp, ds in named if ds] or [(fp, list(v.details)) for fp in files]
    locations = []
    for fp, details in chosen:
        physical: dict[str, Any] = {
            "artifactLocation": {
                "uri": quote((fp.source or fp.path).lstrip("/")),
                "uriBaseId": SRCROOT,
            }
        }
        region = _region(fp, details)
        if region is not None:
            physical["region"] = region
        locations.append({"physicalLocation": physical})
    return locations


def to_sarif(v: Validation, patch: Mail, root: Path) -> str:
    """SARIF 2.1.0 for one validation: a reporting descriptor per check, a result per failure.

    ``root`` is the repository the patch was validated in; artifact URIs are relative to it.
    """
    ids = list(CHECKS) + [x.id for x in v.verdicts if x.id not in CHECKS]
    descriptors = [
        {
            "id": cid,
            "name": cid.capitalize(),
            "shortDescription": {"text": CHECKS.get(cid, cid)},
            "defaultConfiguration": {"level": "error"},
        }
        for cid in ids
    ]
    results = []
    for x in v.failed:
        text = x.message + "".join(f"\n  {d}" for d in x.details)
        results.append(
            {
                "ruleId": x.id,
                "ruleIndex": ids.index(x.id),
                "level": "error",
                "message": {"text": text},
                "locations": _locations(x, patch),
                "properties": {"ref": v.ref, "upstream": v.upstream, "subject": patch.subject},
            }
        )
    run = {
        "tool": {"driver": {"name": "reviewbot", "version": __version__, "rules": descriptors}},
        "originalUriBaseIds": {SRCROOT: {"uri": root.resolve().as_uri().rstrip("/") + "/"}},
        "results": results,
        "columnKind": "utf16CodeUnits",
        "properties": {"accepted": v.accepted},
    }
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(doc, indent=2) + "\n"
