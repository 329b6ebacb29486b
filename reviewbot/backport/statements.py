"""Read C code into statements: tokens, items with heads and child blocks, hunk fragments.

Both sides of a comparison (the upstream function, or just the lines a hunk shows, and the
target function) are read the same way: tree-sitter leaves become :class:`Tok` (identifiers,
fields, labels and comments marked), statements become :class:`Item` (the head such as
``if (cond)``, every visible token, child :class:`Block` s). A hunk shows only a slice of a
function; :func:`fragment` parses it by closing the braces it leaves open outside the slice,
and marks the statements the slice cuts (``cut_start``: only the tail is visible).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node, Unit

ID_KINDS = {
    "identifier": "id",
    "field_identifier": "field",
    "type_identifier": "type",
    "statement_identifier": "label",
}


# --- tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tok:
    """One token: its text (comments whitespace-normalised), kind and side line."""

    text: str
    kind: str  # "id" | "field" | "type" | "label" | "comment" | "tok"
    line: int  # side line (0-based)
    start: int = 0  # byte offset in the parsed unit (not compared)


def leaves(node: Node) -> Iterator[Node]:
    """The tokens below ``node`` in source order: non-empty leaves, parser-invented (missing) ones left out."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.child_count == 0:
            if not n.is_missing and n.end_byte > n.start_byte:
                yield n
            continue
        stack.extend(reversed(n.children))


@dataclass
class Side:
    """One version of the code: a parsed unit and which of its lines are real (visible).

    ``base`` is the unit line of side line 0 (a fragment is wrapped in a fake function, one
    line above); lines outside ``[0, len(lines))`` are synthetic.
    """

    unit: Unit
    lines: list[str]
    base: int = 0

    def line_of(self, row: int) -> int:
        return row - self.base

    def visible(self, row: int) -> bool:
        return 0 <= row - self.base < len(self.lines)

    def toks(self, node: Node) -> tuple[Tok, ...]:
        """Visible tokens of ``node`` (comments normalised, multi-word leaves split)."""
        out = []
        for leaf in leaves(node):
            row = leaf.start_point[0]
            if not self.visible(row):
                continue
            text = syntax.text(leaf)
            kind = ID_KINDS.get(leaf.type, "comment" if leaf.type == "comment" else "tok")
            if kind == "comment":
                out.append(Tok(" ".join(text.split()), kind, row - self.base, leaf.start_byte))
            elif kind == "tok" and any(c.isspace() for c in text):
                out.extend(Tok(w, "tok", row - self.base, leaf.start_byte) for w in text.split())
            else:
                out.append(Tok(text, kind, row - self.base, leaf.start_byte))
        return tuple(out)


def code(toks: tuple[Tok, ...] | list[Tok]) -> tuple[Tok, ...]:
    """Tokens without comments."""
    return tuple(t for t in toks if t.kind != "comment")


def texts(toks) -> tuple[str, ...]:
    """The texts of tokens, for comparing and showing."""
    return tuple(t.text for t in toks)


def line_tokens(side: Side) -> list[tuple[Tok, ...]]:
    """Code tokens per side line."""
    out: list[list[Tok]] = [[] for _ in side.lines]
    for t in code(side.toks(side.unit.root)):
        if 0 <= t.line < len(out):
            out[t.line].append(t)
    return [tuple(x) for x in out]


def declarator_top(lines: list[str], opening: int) -> int:
    """The first line of the declarator right above a body's ``{`` at ``opening``: up to a
    blank, a statement, a brace or a comment (``opening`` when there is none)."""
    first = opening
    while first > 0:
        x = lines[first - 1].rstrip()
        if not x or x.endswith((";", "}", "*/")) or x.lstrip().startswith(("#", "*", "/*", "//")):
            break
        first -= 1
    return first


def _without_signature(lines: list[str]) -> list[str]:
    """A hunk that starts inside a function's declarator (``\t\tstruct pofs *pofs)`` then
    ``{``): its lines up to the body's ``{`` are blanked, so the body parses as a block."""
    opening = next((k for k, x in enumerate(lines) if x.rstrip() == "{"), None)
    if opening is None or opening == 0:
        return lines
    first = declarator_top(lines, opening)
    if first == opening:
        return lines
    return [*lines[:first], *([""] * (opening - first)), *lines[opening:]]


def fragment(lines: list[str], path: str = "<fragment>") -> Side:
    """Parse a slice of a function body: unmatched braces are closed outside the slice."""
    body = "\n".join(_without_signature(lines)) + "\n"
    probe = syntax.parse(body.encode(), path)
    depth = low = 0
    for leaf in leaves(probe.root):
        if leaf.type == "{":
            depth += 1
        elif leaf.type == "}":
            depth -= 1
            low = min(low, depth)
    lead, trail = -low, depth - low
    # A hunk may start inside a block comment: its first `*/` comes before any `/*`.
    close, opening = body.find("*/"), body.find("/*")
    starts_in_comment = (
        bool(lines) and re.match(r"^\s*\*(?!/)", lines[0]) is not None and "/*" not in lines[0]
    ) or (close >= 0 and (opening < 0 or close < opening))
    head = "void __reviewbot_fragment(void) {" + "{" * lead + ("/*" if starts_in_comment else "")
    if starts_in_comment:
        # the comment's `*/` may not be among the lines (a context line between two runs of
        # added lines): then it closes where its `*` lines end and code starts
        rows = body.split("\n")
        code = next(
            (
                k
                for k, x in enumerate(rows)
                if x.strip() and re.match(r"^\s*\*(?!/)", x) is None and "/*" not in x
            ),
            None,
        )
        if code and not any("*/" in x for x in rows[:code]):
            rows[code - 1] += " */"
            body = "\n".join(rows)
    # ... and may end inside one (its last line is a `*` line, the comment closes later)
    opened = body.rfind("/*") > body.rfind("*/") or (starts_in_comment and "*/" not in body)
    text = head + "\n" + body + ("*/" if opened else "") + "}" * trail + "}\n"
    return Side(syntax.parse(text.encode(), path), list(lines), base=1)


def whole(data: bytes, path: str, unit: Unit | None = None) -> Side:
    """A whole file as a side (the target blob, or the upstream pre-image)."""
    unit = unit or syntax.parse(data, path)
    return Side(unit, data.decode("utf-8", "replace").split("\n"), base=0)


# --- items ----------------------------------------------------------------------------


@dataclass(eq=False)
class Block:
    """The statements of a body: a compound statement, a braceless body or a directive's lines."""

    items: list[Item]
    open_line: int | None  # side line of "{" (or of the directive), None if not visible
    close_line: int | None
    owner: Item | None
    braced: bool = True

    def code_items(self) -> list[Item]:
        return [i for i in self.items if i.kind != "comment"]


@dataclass(eq=False)
class Item:
    """One statement: its head (``if (cond)``), visible tokens, lines and child blocks."""

    node: Node
    kind: str
    toks: tuple[Tok, ...]
    head: tuple[Tok, ...]
    start: int
    end: int
    cut_start: bool
    cut_end: bool
    blocks: list[Block] = field(default_factory=list)
    parent: Block | None = None
    cond: Node | None = None  # the node heads are anti-unified on

    @property
    def code(self) -> tuple[Tok, ...]:
        return code(self.toks)

    @property
    def label(self) -> str:
        """The first visible line of the item, for messages."""
        toks = self.code or self.toks
        return " ".join(t.text for t in toks if t.line == toks[0].line) if toks else ""

    def walk(self) -> Iterator[Item]:
        yield self
        for b in self.blocks:
            for i in b.items:
                yield from i.walk()


def _line_span(side: Side, node: Node) -> tuple[int, int, bool, bool]:
    s, e = side.line_of(node.start_point[0]), side.line_of(node.end_point[0])
    if node.end_point[1] == 0 and e > s:
        e -= 1
    n = len(side.lines)
    return max(s, 0), min(e, n - 1), s < 0, e >= n


def _item(
    side: Side,
    node: Node,
    kind: str | None = None,
    blocks_of: list[Node] | None = None,
    end_node: Node | None = None,
    cond: Node | None = None,
) -> Item:
    s, e, cs, ce = _line_span(side, node)
    if end_node is not None:
        _, e, _, ce = _line_span(side, end_node)
    toks = side.toks(node) if end_node is None else side.toks(node) + side.toks(end_node)
    item = Item(node, kind or node.type, toks, (), s, e, cs, ce, cond=cond)
    first_block = None
    for b in blocks_of or []:
        blk = build_block(side, b, item)
        item.blocks.append(blk)
        first_block = first_block or b
    item.head = (
        toks if first_block is None else tuple(t for t in toks if t.start < first_block.start_byte)
    )
    return item


def _stmt_item(side: Side, node: Node) -> Item:
    t = node.type
    if t == "if_statement":
        blocks = [node.child_by_field_name("consequence")]
        alt = node.child_by_field_name("alternative")
        if alt is not None:
            inner = (
                alt.named_children[-1] if alt.type == "else_clause" and alt.named_children else alt
            )
            blocks.append(inner)
        return _item(
            side,
            node,
            blocks_of=[b for b in blocks if b is not None],
            cond=node.child_by_field_name("condition"),
        )
    if t in ("for_statement", "while_statement", "do_statement", "switch_statement"):
        body = node.child_by_field_name("body")
        cond = node if t == "for_statement" else node.child_by_field_name("condition")
        return _item(side, node, blocks_of=[body] if body is not None else [], cond=cond)
    if t == "compound_statement":
        return _item(side, node, blocks_of=[node])
    if t in ("preproc_ifdef", "preproc_if", "preproc_elif", "preproc_else"):
        return _item(
            side,
            node,
            blocks_of=[node],
            cond=node.child_by_field_name("name") or node.child_by_field_name("condition"),
        )
    return _item(side, node, cond=node)


def _children(node: Node) -> list[Node]:
    if node.type == "compound_statement":
        return [c for c in node.named_children]
    if node.type in ("preproc_ifdef", "preproc_if", "preproc_elif", "preproc_else"):
        skip = {
            node.child_by_field_name("name"),
            node.child_by_field_name("condition"),
            node.child_by_field_name("alternative"),
        }
        return [c for c in node.named_children if c not in skip]
    return [node]


def build_block(side: Side, node: Node, owner: Item | None) -> Block:
    """The items of a block (a compound statement, a braceless body or a directive's lines)."""
    braced = node.type == "compound_statement" or node.type.startswith("preproc_")
    open_line = close_line = None
    if braced and node.children:
        first, last = node.children[0], node.children[-1]
        if side.visible(first.start_point[0]):
            open_line = side.line_of(first.start_point[0])
        if not last.is_missing and side.visible(last.end_point[0]) and last.type in ("}", "#endif"):
            close_line = side.line_of(last.end_point[0])
    if braced and node.type.startswith("preproc_"):
        alt = node.child_by_field_name("alternative")
        if alt is not None and side.visible(alt.start_point[0]):
            close_line = side.line_of(alt.start_point[0])
    block = Block([], open_line, close_line, owner, braced)
    kids = _children(node)
    k = 0
    while k < len(kids):
        c = kids[k]
        body = syntax.loop_macro_body(c) if c.type == "expression_statement" else None
        if body is not None and k + 1 < len(kids) and kids[k + 1] == body:
            it = _item(
                side, c, "macro_loop", blocks_of=[body], end_node=body, cond=c.named_children[0]
            )
            k += 2
        elif c.type == "labeled_statement":
            label = c.child_by_field_name("label")
            assert label is not None  # the grammar requires it
            it = _item(side, label, "label")
            block.items.append(it)
            it.parent = block
            inner = [x for x in c.named_children if x != label]
            kids[k + 1 : k + 1] = inner
            k += 1
            continue
        elif c.type == "case_statement":
            value = c.child_by_field_name("value")
            stmts = [x for x in c.named_children if x != value and x.type != "comment"]
            it = _item(side, c, "case")
            if stmts:
                it.toks = it.head = tuple(t for t in it.toks if t.start < stmts[0].start_byte)
                it.end = max(it.start, side.line_of(stmts[0].start_point[0]) - 1)
            block.items.append(it)
            it.parent = block
            kids[k + 1 : k + 1] = stmts
            k += 1
            continue
        else:
            it = _stmt_item(side, c)
            k += 1
        if c.type == "comment":
            it.kind = "comment"
        it.parent = block
        block.items.append(it)
    return block


def function_block(side: Side, fn_node: Node) -> Block:
    """The body block of a function definition (a system call's node is its block)."""
    body = fn_node if fn_node.type == "compound_statement" else fn_node.child_by_field_name("body")
    assert body is not None  # a function definition has a body
    return build_block(side, body, None)


def fragment_block(side: Side) -> Block:
    """The top block of a fragment (the fake function's body)."""
    fn = side.unit.root.named_children[0] if side.unit.root.named_children else side.unit.root
    body = fn.child_by_field_name("body") if fn.type == "function_definition" else None
    if body is None:
        return Block([], None, None, None)
    blk = build_block(side, body, None)
    blk.open_line = blk.close_line = None
    return blk


def all_blocks(block: Block) -> Iterator[Block]:
    """``block`` and every block nested in it, outermost first."""
    yield block
    for it in block.items:
        for b in it.blocks:
            yield from all_blocks(b)
