"""A ``goto`` to a label the target function does not have, written as the target leaves (d).

Upstream jumps to ``out:`` (clean-up the older function never needed); where the hunk's own
context shows upstream's ``if (err) goto out;`` and the target function has the same test
followed by ``return err;``, that return is the target's exit for the label. The added lines
then say it the way maintainers write it:

- ``goto out;`` becomes ``return err;``;
- ``err = -EINVAL; goto out;`` becomes ``return -EINVAL;`` (the value returned directly), and a
  block left with that one statement loses its braces (``if (!x) return -EINVAL;``).

Only with that evidence, one exit per label, and never when the function has the label.
"""

from __future__ import annotations

import re

from reviewbot.backport.places import indent, norm

_GOTO = re.compile(r"^\s*goto\s+(\w+)\s*;\s*$")
_RETURN = re.compile(r"^\s*return\b[^;]*;\s*$")
_ASSIGN = re.compile(r"^(\s*)(\w+)\s*=\s*(.+?);\s*$")


def learn(context: list[str], target: list[str], labels: set[str]) -> dict[str, str]:
    """Label -> the target's exit statement (``return err;``), from ``context`` lines (the
    hunk's) where upstream tests and jumps, and ``target`` (the function's lines) where the
    same test returns. Labels the function has, or exits that disagree, are left out."""
    seen: dict[str, set[str]] = {}
    heads = [norm(x) for x in target]
    for k in range(1, len(context)):
        m = _GOTO.match(context[k])
        if m is None or m.group(1) in labels or not norm(context[k - 1]):
            continue
        head = norm(context[k - 1])
        for i, x in enumerate(heads[:-1]):
            if x == head:
                # every place the target tests so must leave the same way (a return), else
                # one of them may be the jump upstream's label stands for
                then = norm(target[i + 1])
                seen.setdefault(m.group(1), set()).add(then if _RETURN.match(then) else "")
    return {
        label: exit_
        for label, exits in seen.items()
        if len(exits) == 1 and (exit_ := next(iter(exits)))
    }


def inline(lines: list[str], exits: dict[str, str]) -> tuple[list[str], list[str]]:
    """``lines`` with each ``goto`` to a label of ``exits`` written as that exit; the notes."""
    out: list[str] = []
    notes: list[str] = []
    made: set[int] = set()  # the returns written here (only their blocks lose braces)
    for x in lines:
        m = _GOTO.match(x)
        if m is None or m.group(1) not in exits:
            out.append(x)
            continue
        exit_ = exits[m.group(1)]
        value = re.fullmatch(r"return\s+(\w+)\s*;", exit_)
        prev = _ASSIGN.match(out[-1]) if out else None
        if (
            value is not None
            and prev is not None
            and prev.group(2) == value.group(1)
            and indent(out[-1]) == indent(x)
        ):
            out[-1] = f"{prev.group(1)}return {prev.group(3)};"
            made.add(len(out) - 1)
            notes.append(
                f"{prev.group(2)} = {prev.group(3)}; goto {m.group(1)} -> return {prev.group(3)}"
            )
        else:
            out.append(indent(x) + exit_)
            made.add(len(out) - 1)
            notes.append(f"goto {m.group(1)} -> {exit_}")
    return _unbraced(out, made), notes


def _unbraced(lines: list[str], made: set[int]) -> list[str]:
    """``if (c) {`` / one ``return ...;`` written here / ``}`` as ``if (c)`` / the return."""
    out = list(lines)
    for k in sorted(made, reverse=True):
        if k < 1 or k + 1 >= len(out):
            continue
        head, body, close = out[k - 1], out[k], out[k + 1]
        if (
            head.rstrip().endswith(") {")
            and head.lstrip().startswith("if")
            and _RETURN.match(body)
            and close.strip() == "}"
            and indent(close) == indent(head)
            and not (k + 2 < len(out) and out[k + 2].strip().startswith("else"))
        ):
            out[k - 1 : k + 2] = [head.rstrip()[:-1].rstrip(), body]
    return out
