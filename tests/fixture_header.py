"""Read a fixture's expectation header and its line annotations (format: fixtures/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

KEYS = {
    "reviewbot-fixture",
    "era",
    "kernel-version",
    "expect",
    "expect-site",
    "expect-function",
    "expect-line",
    "expect-via",
    "expect-uncertain",
    "expect-message",
    "why",
}
_LINE = re.compile(r"^\s*\*?\s*([a-z][a-z-]*):\s*(.*?)\s*$")
# The annotation that marks the line a check must report, appended to that very source line:
# ``/* expect-line: isolate */``, or ``// expect-line: isolate`` where the line is itself inside a
# block comment (a ``*/`` there would end that comment).
ANNOTATION = re.compile(
    rb"(?:/\*\s*expect-line:\s*([a-z][a-z ]*?)\s*\*/|//\s*expect-line:\s*([a-z][a-z ]*?)\s*$)"
)


@dataclass
class Expectation:
    path: Path
    kernel_version: str | None = None
    status: dict[str, str] = field(default_factory=dict)  # check id or site id -> status
    function: dict[str, str] = field(default_factory=dict)
    line: dict[str, int] = field(default_factory=dict)
    via: dict[str, str] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)
    messages: list[tuple[str, str]] = field(default_factory=list)


def _pairs(value: str) -> dict[str, str]:
    out = {}
    for item in value.split():
        if "=" not in item:
            raise ValueError(f"expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k] = v
    return out


def read(path: Path) -> Expectation:
    """Parse the first comment block of ``path``; unknown keys are an error."""
    text = path.read_text("utf-8", errors="replace")
    start = text.index("/*")
    block = text[start : text.index("*/", start)]
    exp = Expectation(path)
    line_keys: list[str] = []  # expect-line keys whose line is given by an annotation
    last = None
    for raw in block.splitlines():
        m = _LINE.match(raw)
        if not m or m.group(1) not in KEYS and last == "why":
            continue  # continuation of a free-text value
        key, value = m.group(1), m.group(2)
        if key not in KEYS:
            raise ValueError(f"{path.name}: unknown header key {key!r}")
        last = key
        if key == "kernel-version":
            exp.kernel_version = value
        elif key in ("expect", "expect-site"):
            exp.status.update(_pairs(value))
        elif key == "expect-function":
            exp.function.update(_pairs(value))
        elif key == "expect-line":
            for item in value.split():
                k, eq, v = item.partition("=")
                if eq:
                    raise ValueError(
                        f"{path.name}: expect-line {item!r}: annotate the line instead"
                    )
                if k in exp.line or k in line_keys:
                    raise ValueError(f"{path.name}: expect-line {k!r} given twice")
                if eq:
                    exp.line[k] = int(v)
                else:
                    line_keys.append(k)
        elif key == "expect-via":
            exp.via.update(_pairs(value))
        elif key == "expect-uncertain":
            exp.uncertain.update(value.split())
        elif key == "expect-message":
            check, _, needle = value.partition("~")
            exp.messages.append((check.strip(), needle.strip().strip('"')))
    if not exp.status:
        raise ValueError(f"{path.name}: no expect: line")
    exp.line.update(_annotated_lines(path, path.read_bytes(), line_keys))
    return exp


def _annotated_lines(path: Path, data: bytes, keys: list[str]) -> dict[str, int]:
    """key -> 1-based number of the line carrying ``/* expect-line: key */``; every key the
    header lists must be annotated exactly once, and no other key may be."""
    found: dict[str, int] = {}
    for number, line in enumerate(data.split(b"\n"), 1):
        for m in ANNOTATION.finditer(line):
            for key in (m.group(1) or m.group(2)).decode().split():
                if key in found:
                    raise ValueError(f"{path.name}: expect-line {key!r} annotated twice")
                found[key] = number
    if sorted(found) != sorted(keys):
        raise ValueError(
            f"{path.name}: header expect-line lists {sorted(keys)}, lines annotated {sorted(found)}"
        )
    return found
