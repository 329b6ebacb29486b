"""Read the expectation header of a fixture file (format: fixtures/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

KEYS = {
    "reviewbot-fixture", "era", "kernel-version", "expect", "expect-site", "expect-function",
    "expect-line", "expect-via", "expect-uncertain", "expect-message", "why",
}
_LINE = re.compile(r"^\s*\*?\s*([a-z][a-z-]*):\s*(.*?)\s*$")


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
    block = text[start:text.index("*/", start)]
    exp = Expectation(path)
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
            exp.line.update({k: int(v) for k, v in _pairs(value).items()})
        elif key == "expect-via":
            exp.via.update(_pairs(value))
        elif key == "expect-uncertain":
            exp.uncertain.update(value.split())
        elif key == "expect-message":
            check, _, needle = value.partition("~")
            exp.messages.append((check.strip(), needle.strip().strip('"')))
    if not exp.status:
        raise ValueError(f"{path.name}: no expect: line")
    return exp
