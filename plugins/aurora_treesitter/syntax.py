"""What a language's syntax tree means to the chunker: which nodes define what, and which belong together.

A :class:`Syntax` describes one grammar as data (node types) plus, for the few node
types whose meaning depends on their content, a function. :func:`identify` turns a
node into a :class:`Definition` (its kind, name and members), and :func:`members`
lists the nodes a definition's chunks are cut around.

Symbols join names with dots whatever the language (``Client.send``, C++
``Client::retry`` becomes ``Client.retry``, a Go method on ``*Client`` is
``Client.Do``); Rust ``impl`` blocks and Swift extensions keep their header as symbol
(``impl Display for Point``) and give their methods the type's name (``Point.fmt``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

#: Kinds whose functions are methods.
CLASS_LIKE = frozenset({"class", "struct", "interface", "trait", "impl", "enum", "object"})

_NOT_NAME = re.compile(r"::|:|\s+")

#: Lines that say nothing alone: closing brackets, separators, ``end``.
CLOSING = re.compile(r"\s*(?:end\b)?[\s)\]};,]*")


class Definition(NamedTuple):
    """What a node defines: its kind, its name, and the node whose members get chunks of their own.

    ``members`` is None for a definition that stays one chunk (a function). ``scope`` is
    what its members' symbols start with when that is not its name.
    """

    kind: str
    name: str | None
    members: Any = None
    scope: str | None = None


#: A function that reads a node of one type: its definition, or None when it defines nothing.
Reader = Callable[[Any, bytes], "Definition | None"]


class Syntax(NamedTuple):
    """One grammar's definitions, containers, and the nodes looked through or attached.

    - ``kinds``: node type -> kind, for nodes named by their ``name`` field;
    - ``containers``: those of ``kinds`` whose members get chunks of their own;
    - ``readers``: node type -> :data:`Reader`, for nodes that need more than a name field;
    - ``wrappers``: nodes that wrap one definition and extend it (decorators, ``export``,
      ``template <...>``): the definition is their last named child;
    - ``transparent``: nodes looked through when listing members (class bodies,
      preprocessor conditionals, namespaces);
    - ``prefixes``: nodes that belong to the definition below them (comments, attributes);
      ``is_prefix`` tests the nodes whose type alone does not tell (Elixir ``@doc``);
    - ``quiet``: lines that make no chunk on their own, between definitions.
    """

    kinds: Mapping[str, str] = {}
    containers: frozenset[str] = frozenset()
    readers: Mapping[str, Reader] = {}
    wrappers: frozenset[str] = frozenset()
    transparent: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()
    is_prefix: Callable[[Any, bytes], bool] | None = None
    quiet: re.Pattern[str] = CLOSING


def text(node: Any, source: bytes) -> str:
    """Return the source text of ``node``."""
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def field_text(node: Any, source: bytes, field: str = "name") -> str | None:
    """Return the text of ``node``'s child in ``field``, or None when it has none."""
    child = node.child_by_field_name(field)
    return None if child is None else text(child, source)


def clean_name(name: str) -> str:
    """Return ``name`` with ``::``, ``:`` and whitespace turned into the symbol separators (``.``, one space)."""
    if name.isidentifier():  # the usual case, and one without colons or whitespace
        return name
    return _NOT_NAME.sub(lambda m: " " if m.group().isspace() else ".", name.strip())


def unwrap(syntax: Syntax, node: Any) -> Any:
    """Return the definition a wrapper node wraps (its last named child), or ``node`` itself."""
    while node.type in syntax.wrappers and node.named_child_count:
        node = node.named_children[-1]
    return node


def identify(syntax: Syntax, node: Any, source: bytes) -> Definition | None:
    """Return what ``node`` (a wrapper, or a definition itself) defines, or None when it defines nothing."""
    node = unwrap(syntax, node)
    node_type = node.type
    reader = syntax.readers.get(node_type)
    if reader is not None:
        return reader(node, source)
    kind = syntax.kinds.get(node_type)
    if kind is None:
        return None
    return Definition(kind, field_text(node, source), node if node_type in syntax.containers else None)


def is_prefix(syntax: Syntax, node: Any, source: bytes) -> bool:
    """Say whether ``node`` belongs to the definition that follows it (a comment, attribute, decorator)."""
    return node.type in syntax.prefixes or (syntax.is_prefix is not None and syntax.is_prefix(node, source))


def members(syntax: Syntax, node: Any) -> list[Any]:
    """Return the named children of ``node`` in order, looking through transparent ones and syntax errors."""
    found = []
    transparent = syntax.transparent
    pending = [iter(node.named_children)]  # a stack, not recursion: transparent nodes nest without bound
    while pending:
        for child in pending[-1]:
            if child.type in transparent or child.is_error:
                pending.append(iter(child.named_children))
                break
            found.append(child)
        else:
            pending.pop()
    return found
