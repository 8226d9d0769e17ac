"""Cut a syntax tree into pieces a reader would choose: definitions, headers, and the code between them.

Each function, method and type gets a piece that starts at the comments, decorators
and attributes right above it (one blank line between them is allowed). A container
(class, impl block, module) longer than ``merge_lines`` is cut further: its header up to its first member is one
piece, each member another, with dotted symbols (``Client.send``). Code between
definitions is a piece of its own, kind ``module`` at the top and the container's kind
inside one; a gap of lines that say nothing alone (closing brackets, ``end``) is left out. Neighbouring
definitions of the same kind merge: always when they share a symbol (Haskell equations,
Elixir clauses), and otherwise while the merged piece stays within ``merge_lines``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from aurora_treesitter.syntax import CLASS_LIKE, Definition, Syntax, clean_name, identify, is_prefix, members


class Piece(NamedTuple):
    """Lines ``start..end`` (1-based, inclusive) with their symbols and kind, and the nodes they hold.

    ``definition`` is true for a whole definition, false for a header or the code
    between definitions; only definitions merge with their neighbours.
    """

    start: int
    end: int
    symbols: tuple[str, ...]
    kind: str
    nodes: tuple[Any, ...]
    definition: bool

    @property
    def symbol(self) -> str | None:
        """Return the piece's symbol: its symbols joined by commas, None when it has none."""
        return ", ".join(self.symbols) or None


class _Owner(NamedTuple):
    """The definition whose members are being cut: its symbol and kind, its members' symbol prefix, its depth."""

    symbol: str | None
    kind: str
    scope: str | None
    depth: int


_TOP = _Owner(None, "module", None, 0)
#: Containers nested deeper than this stay whole (and are split by lines if long): no deep recursion.
_MAX_DEPTH = 32


def _join(scope: str | None, name: str | None) -> str | None:
    """Return ``scope.name``, or whichever of them there is."""
    if scope and name:
        return f"{scope}.{name}"
    return name or scope


class Outline:
    """Cuts one parsed source into pieces; see the module docstring for the rules."""

    def __init__(self, syntax: Syntax, source: bytes, lines: Sequence[str], merge_lines: int) -> None:
        self._syntax = syntax
        self._source = source
        self._lines = lines
        self._merge_lines = merge_lines

    def pieces(self, root: Any) -> list[Piece]:
        """Return the pieces of the tree under ``root``, in line order."""
        return self._cover(members(self._syntax, root), 1, len(self._lines), _TOP)

    def span(self, node: Any) -> tuple[int, int]:
        """Return the first and last line (1-based) of ``node``, not counting whitespace it ends with."""
        first = node.start_point.row + 1
        row, column = node.end_point  # the column is in bytes, so end_byte - column is where that line starts
        end = node.end_byte
        ends_in_blank = not self._source[end - column : end].strip()
        return first, max(first, row if ends_in_blank else row + 1)

    def starts_line(self, node: Any) -> bool:
        """Say whether ``node`` is the first thing on its line."""
        start = node.start_byte
        return not self._source[start - node.start_point.column : start].strip()

    def _cover(self, nodes: list[Any], start: int, end: int, owner: _Owner) -> list[Piece]:
        """Cut lines ``start..end`` around the definitions among ``nodes``; the rest goes to ``owner``."""
        pieces: list[Piece] = []
        between: list[Any] = []  # nodes since the last definition
        cursor = start
        run_start = None  # first line of the comments and attributes right above the next node
        previous_end = start - 1
        syntax, source, span, starts_line = self._syntax, self._source, self.span, self.starts_line
        for node in nodes:
            first, last = span(node)
            if last < cursor:
                continue
            between.append(node)
            close = first - previous_end <= 2  # at most one blank line since the previous node
            previous_end = last
            if is_prefix(syntax, node, source) and starts_line(node):
                run_start = run_start if run_start is not None and close else first
                continue
            definition = identify(syntax, node, source)
            if definition is None:
                run_start = None
                continue
            begin = max(cursor, run_start if run_start is not None and close else first)
            pieces += self._gap(cursor, begin - 1, owner, between[:-1])
            pieces += self._definition(node, definition, begin, last, owner)
            between, cursor, run_start = [], last + 1, None
        pieces += self._gap(cursor, end, owner, between)
        return self._merge(pieces)

    def _definition(self, node: Any, definition: Definition, begin: int, last: int, owner: _Owner) -> list[Piece]:
        """Return the pieces of one definition: itself, or its header and members when it is a container."""
        kind = "method" if definition.kind == "function" and owner.kind in CLASS_LIKE else definition.kind
        name = clean_name(definition.name) if definition.name else None
        symbol = _join(owner.scope, name)
        whole = Piece(begin, last, (symbol,) if symbol else (), kind, (node,), True)
        if definition.members is None or last - begin < self._merge_lines or owner.depth >= _MAX_DEPTH:
            return [whole]
        scope = _join(owner.scope, clean_name(definition.scope)) if definition.scope else symbol
        inner = self._cover(
            members(self._syntax, definition.members), begin, last, _Owner(symbol, kind, scope, owner.depth + 1)
        )
        return inner if any(piece.definition for piece in inner) else [whole]

    def _gap(self, start: int, end: int, owner: _Owner, nodes: list[Any]) -> list[Piece]:
        """Return lines ``start..end`` as the owner's piece, without blank edges; none when blank or quiet."""
        lines = self._lines
        while start <= end and not lines[start - 1].strip():
            start += 1
        while end >= start and not lines[end - 1].strip():
            end -= 1
        if all(map(self._syntax.quiet.fullmatch, lines[start - 1 : end])):
            return []
        symbols = (owner.symbol,) if owner.symbol else ()
        return [Piece(start, end, symbols, owner.kind, tuple(nodes), False)]

    def _merge(self, pieces: list[Piece]) -> list[Piece]:
        """Merge neighbouring definitions of a kind: first those sharing a symbol, then small ones."""
        clauses = _merged(pieces, lambda previous, piece: previous.symbols == piece.symbols != ())
        return _merged(clauses, lambda previous, piece: piece.end - previous.start < self._merge_lines)


def _merged(pieces: list[Piece], joins: Callable[[Piece, Piece], bool]) -> list[Piece]:
    """Return ``pieces`` with each definition merged into the one before when they are of a kind and ``joins`` them."""
    merged: list[Piece] = []
    for piece in pieces:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.definition
            and piece.definition
            and previous.kind == piece.kind
            and joins(previous, piece)
        ):
            symbols = tuple(dict.fromkeys(previous.symbols + piece.symbols))
            merged[-1] = Piece(previous.start, piece.end, symbols, piece.kind, previous.nodes + piece.nodes, True)
        else:
            merged.append(piece)
    return merged
