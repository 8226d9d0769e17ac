"""The :class:`~aurora_treesitter.syntax.Syntax` of every supported language, by Aurora's language name.

Node types are those of the grammar wheels in :mod:`aurora_treesitter.grammars`; a
grammar upgrade that renames a node type shows up in tests/test_treesitter_chunker.py.
"""

from __future__ import annotations

import re
from typing import Any

from aurora_treesitter.syntax import CLOSING, Definition, Syntax, field_text, text

_GENERIC_ARGUMENTS = re.compile(r"<.*", re.DOTALL)


def _descendant(node: Any, types: frozenset[str]) -> Any | None:
    """Return the first node of one of ``types`` under ``node`` (breadth first), or None."""
    pending = [node]
    while pending:
        current = pending.pop(0)
        if current.type in types:
            return current
        pending.extend(current.named_children)
    return None


# --- Python -------------------------------------------------------------------------

PYTHON = Syntax(
    kinds={"function_definition": "function", "class_definition": "class"},
    containers=frozenset({"class_definition"}),
    wrappers=frozenset({"decorated_definition"}),
    transparent=frozenset({"block"}),
    prefixes=frozenset({"comment"}),
)


# --- JavaScript, TypeScript ---------------------------------------------------------

_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function", "generator_function"})
_EXPORTS = re.compile(r"^(?:module\.)?exports\.|\.prototype\b")


def _js_variable(node: Any, source: bytes) -> Definition | None:
    """``const f = () => ...`` defines the function ``f``; ``const C = class {...}`` the class ``C``."""
    declarators = [child for child in node.named_children if child.type == "variable_declarator"]
    value = declarators[0].child_by_field_name("value") if len(declarators) == 1 else None
    if value is None:
        return None
    name = field_text(declarators[0], source)
    if value.type in _FUNCTION_VALUES:
        return Definition("function", name)
    if value.type == "class":
        return Definition("class", name, value)
    return None


def _js_assignment(node: Any, source: bytes) -> Definition | None:
    """``exports.f = function ...`` and ``C.prototype.f = function ...`` define ``f`` and ``C.f``."""
    value = node.child_by_field_name("right")
    if value is None or value.type not in _FUNCTION_VALUES:
        return None
    return Definition("function", _EXPORTS.sub("", field_text(node, source, "left") or ""))


def _js_field(node: Any, source: bytes) -> Definition | None:
    """Read a class field holding a function (``onClick = () => {...}``): a method."""
    value = node.child_by_field_name("value")
    if value is None or value.type not in _FUNCTION_VALUES:
        return None
    return Definition("function", field_text(node, source, "property") or field_text(node, source))


_JS_KINDS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "method_definition": "function",
    "class_declaration": "class",
}
_JS_READERS = {
    "lexical_declaration": _js_variable,
    "variable_declaration": _js_variable,
    "assignment_expression": _js_assignment,
    "field_definition": _js_field,
    "public_field_definition": _js_field,
}

JAVASCRIPT = Syntax(
    kinds=_JS_KINDS,
    containers=frozenset({"class_declaration"}),
    readers=_JS_READERS,
    wrappers=frozenset({"export_statement", "expression_statement"}),
    transparent=frozenset({"class_body"}),
    prefixes=frozenset({"comment", "decorator"}),
)

TYPESCRIPT = JAVASCRIPT._replace(
    kinds={
        **_JS_KINDS,
        "abstract_class_declaration": "class",
        "function_signature": "function",
        "method_signature": "function",
        "abstract_method_signature": "function",
        "interface_declaration": "interface",
        "type_alias_declaration": "type",
        "enum_declaration": "enum",
        "internal_module": "module",
        "module": "module",
    },
    containers=frozenset({"class_declaration", "abstract_class_declaration", "internal_module", "module"}),
    wrappers=frozenset({"export_statement", "expression_statement", "ambient_declaration"}),
    transparent=frozenset({"class_body", "statement_block"}),
)


# --- Go -----------------------------------------------------------------------------

_GO_TYPES = {"struct_type": "struct", "interface_type": "interface"}


def _go_method(node: Any, source: bytes) -> Definition:
    """``func (c *Client) Do()`` defines ``Client.Do``: the receiver's type, pointer or not, then the name."""
    receiver = node.child_by_field_name("receiver")
    owner = receiver and _descendant(receiver, frozenset({"type_identifier"}))
    name = field_text(node, source)
    return Definition("method", f"{text(owner, source)}.{name}" if owner is not None else name)


def _go_type(node: Any, source: bytes) -> Definition | None:
    """``type X struct {...}`` is a struct, ``type X interface {...}`` an interface, any other a type."""
    spec = next((child for child in node.named_children if child.type in ("type_spec", "type_alias")), None)
    if spec is None:
        return None
    shape = spec.child_by_field_name("type")
    return Definition(_GO_TYPES.get(shape.type if shape else "", "type"), field_text(spec, source))


GO = Syntax(
    kinds={"function_declaration": "function"},
    readers={"method_declaration": _go_method, "type_declaration": _go_type},
    prefixes=frozenset({"comment"}),
)


# --- Rust ---------------------------------------------------------------------------


def _rust_impl(node: Any, source: bytes) -> Definition:
    """``impl Display for Point`` is named so, and its methods are ``Point.fmt``."""
    implemented = field_text(node, source, "type") or ""
    trait = field_text(node, source, "trait")
    header = f"impl {trait} for {implemented}" if trait else f"impl {implemented}"
    return Definition("impl", header, node, _GENERIC_ARGUMENTS.sub("", implemented))


def _rust_module(node: Any, source: bytes) -> Definition:
    """``mod tests { ... }`` holds definitions; ``mod tests;`` is one line."""
    return Definition("module", field_text(node, source), node if node.child_by_field_name("body") else None)


RUST = Syntax(
    kinds={
        "function_item": "function",
        "function_signature_item": "function",
        "struct_item": "struct",
        "union_item": "struct",
        "enum_item": "enum",
        "type_item": "type",
        "trait_item": "trait",
        "macro_definition": "macro",
    },
    containers=frozenset({"trait_item"}),
    readers={"impl_item": _rust_impl, "mod_item": _rust_module},
    transparent=frozenset({"declaration_list"}),
    prefixes=frozenset({"line_comment", "block_comment", "attribute_item"}),
)


# --- Java, Kotlin, Scala, C# ------------------------------------------------------------

JAVA = Syntax(
    kinds={
        "class_declaration": "class",
        "record_declaration": "class",
        "interface_declaration": "interface",
        "annotation_type_declaration": "interface",
        "enum_declaration": "enum",
        "method_declaration": "function",
        "constructor_declaration": "function",
        "compact_constructor_declaration": "function",
    },
    containers=frozenset(
        {
            "class_declaration",
            "record_declaration",
            "interface_declaration",
            "annotation_type_declaration",
            "enum_declaration",
        }
    ),
    transparent=frozenset(
        {"class_body", "interface_body", "enum_body", "enum_body_declarations", "annotation_type_body"}
    ),
    prefixes=frozenset({"line_comment", "block_comment"}),
)


def _kotlin_class(node: Any, source: bytes) -> Definition:
    """Kotlin writes classes, interfaces and enums as one node type; the keyword or the body tells them apart."""
    tokens = {child.type for child in node.children}
    kind = "interface" if "interface" in tokens else "enum" if "enum_class_body" in tokens else "class"
    return Definition(kind, field_text(node, source), node)


KOTLIN = Syntax(
    kinds={"object_declaration": "object", "function_declaration": "function"},
    containers=frozenset({"object_declaration"}),
    readers={"class_declaration": _kotlin_class},
    transparent=frozenset({"class_body", "enum_class_body", "companion_object"}),
    prefixes=frozenset({"line_comment", "block_comment"}),
)

SCALA = Syntax(
    kinds={
        "class_definition": "class",
        "object_definition": "object",
        "trait_definition": "trait",
        "enum_definition": "enum",
        "function_definition": "function",
        "function_declaration": "function",
        "type_definition": "type",
    },
    containers=frozenset({"class_definition", "object_definition", "trait_definition", "enum_definition"}),
    transparent=frozenset({"template_body", "enum_body"}),
    prefixes=frozenset({"comment", "block_comment"}),
)

CSHARP = Syntax(
    kinds={
        "class_declaration": "class",
        "record_declaration": "class",
        "struct_declaration": "struct",
        "record_struct_declaration": "struct",
        "interface_declaration": "interface",
        "enum_declaration": "enum",
        "delegate_declaration": "type",
        "method_declaration": "function",
        "constructor_declaration": "function",
        "destructor_declaration": "function",
        "operator_declaration": "function",
    },
    containers=frozenset(
        {
            "class_declaration",
            "record_declaration",
            "struct_declaration",
            "record_struct_declaration",
            "interface_declaration",
        }
    ),
    transparent=frozenset({"namespace_declaration", "declaration_list"}),
    prefixes=frozenset({"comment"}),
)


# --- C, C++ -------------------------------------------------------------------------


def _c_function(node: Any, source: bytes) -> Definition:
    """Name a C or C++ function by its declarator: ``*f(...)``, ``Client::retry(...)``, ``operator==``."""
    declarator = node.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator") or (
            declarator.named_children[-1] if declarator.named_child_count else None
        )
    name = field_text(declarator, source, "declarator") if declarator is not None else None
    return Definition("method" if name and "::" in name else "function", name)


def _c_record(kind: str, container: bool) -> Any:
    """Read a ``struct``/``union``/``enum``/``class`` with a body (one without is a use, not a definition)."""

    def read(node: Any, source: bytes) -> Definition | None:
        if node.child_by_field_name("body") is None:
            return None
        return Definition(kind, field_text(node, source), node if container else None)

    return read


def _c_typedef(node: Any, source: bytes) -> Definition | None:
    """``typedef struct {...} name;`` defines the struct ``name``; other typedefs are code between definitions."""
    shape = node.child_by_field_name("type")
    if shape is None or shape.child_by_field_name("body") is None:
        return None
    kind = "enum" if shape.type == "enum_specifier" else "struct"
    return Definition(kind, field_text(node, source, "declarator") or field_text(shape, source))


_PREPROCESSOR_BLOCKS = frozenset({"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef"})
#: Conditional compilation lines (``#ifdef X``, ``#endif``) around definitions make no chunk of their own.
_C_QUIET = re.compile(rf"{CLOSING.pattern}|\s*#\s*(?:if|ifdef|ifndef|elif|elifdef|else|endif)\b.*")

C = Syntax(
    kinds={"preproc_function_def": "macro"},
    readers={
        "function_definition": _c_function,
        "struct_specifier": _c_record("struct", container=False),
        "union_specifier": _c_record("struct", container=False),
        "enum_specifier": _c_record("enum", container=False),
        "type_definition": _c_typedef,
    },
    transparent=_PREPROCESSOR_BLOCKS | {"linkage_specification", "declaration_list"},
    prefixes=frozenset({"comment"}),
    quiet=_C_QUIET,
)

CPP = C._replace(
    readers={
        **C.readers,
        "class_specifier": _c_record("class", container=True),
        "struct_specifier": _c_record("struct", container=True),
        "union_specifier": _c_record("struct", container=True),
    },
    wrappers=frozenset({"template_declaration"}),
    transparent=C.transparent | {"namespace_definition", "field_declaration_list"},
)


# --- Swift, PHP, Ruby ------------------------------------------------------------------

_SWIFT_KINDS = {"class": "class", "actor": "class", "struct": "struct", "enum": "enum", "extension": "impl"}


def _swift_type(node: Any, source: bytes) -> Definition:
    """Swift writes classes, structs, enums and extensions as one node type, told apart by ``declaration_kind``."""
    keyword = field_text(node, source, "declaration_kind") or "class"
    name = field_text(node, source) or ""
    if keyword == "extension":
        return Definition("impl", f"extension {name}", node, _GENERIC_ARGUMENTS.sub("", name))
    return Definition(_SWIFT_KINDS.get(keyword, "class"), name, node)


SWIFT = Syntax(
    kinds={
        "protocol_declaration": "interface",
        "function_declaration": "function",
        "protocol_function_declaration": "function",
        "typealias_declaration": "type",
    },
    containers=frozenset({"protocol_declaration"}),
    readers={
        "class_declaration": _swift_type,
        "init_declaration": lambda node, source: Definition("function", "init"),
        "deinit_declaration": lambda node, source: Definition("function", "deinit"),
        "subscript_declaration": lambda node, source: Definition("function", "subscript"),
    },
    transparent=frozenset({"class_body", "enum_class_body", "protocol_body"}),
    prefixes=frozenset({"comment", "multiline_comment"}),
)

PHP = Syntax(
    kinds={
        "class_declaration": "class",
        "interface_declaration": "interface",
        "trait_declaration": "trait",
        "enum_declaration": "enum",
        "method_declaration": "function",
        "function_definition": "function",
    },
    containers=frozenset({"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"}),
    transparent=frozenset({"declaration_list", "enum_declaration_list", "namespace_definition", "compound_statement"}),
    prefixes=frozenset({"comment"}),
)

RUBY = Syntax(
    kinds={"class": "class", "module": "module", "method": "function", "singleton_method": "function"},
    containers=frozenset({"class", "module"}),
    transparent=frozenset({"body_statement", "singleton_class"}),
    prefixes=frozenset({"comment"}),
)


# --- Elixir, Haskell, Lua, Zig, shell ----------------------------------------------------

_ELIXIR_FUNCTIONS = {
    "def": "function",
    "defp": "function",
    "defdelegate": "function",
    "defguard": "function",
    "defguardp": "function",
    "defn": "function",
    "defnp": "function",
    "defmacro": "macro",
    "defmacrop": "macro",
}
_ELIXIR_MODULES = {"defmodule": "module", "defprotocol": "interface", "defimpl": "impl"}
_ELIXIR_DOCS = frozenset({"doc", "spec", "impl", "deprecated", "decorate"})


def _elixir_call(node: Any, source: bytes) -> Definition | None:
    """``def name(...)``, ``defmodule Name do`` and their kin are calls; other calls define nothing."""
    keyword = field_text(node, source, "target")
    arguments = next((child for child in node.named_children if child.type == "arguments"), None)
    if arguments is None or not arguments.named_child_count:
        return None
    head = arguments.named_children[0]
    if keyword in _ELIXIR_MODULES:
        return Definition(_ELIXIR_MODULES[keyword], text(head, source), node)
    if keyword not in _ELIXIR_FUNCTIONS:
        return None
    if head.type == "binary_operator":  # def name(x) when guard(x)
        head = head.child_by_field_name("left") or head
    if head.type == "call":
        head = head.child_by_field_name("target") or head
    return Definition(_ELIXIR_FUNCTIONS[keyword], text(head, source))


def _elixir_doc(node: Any, source: bytes) -> bool:
    """``@doc``, ``@spec``, ``@impl`` ... belong to the function below them."""
    if node.type != "unary_operator":
        return False
    operand = node.child_by_field_name("operand")
    return operand is not None and operand.type == "call" and field_text(operand, source, "target") in _ELIXIR_DOCS


ELIXIR = Syntax(
    readers={"call": _elixir_call},
    transparent=frozenset({"do_block"}),
    prefixes=frozenset({"comment"}),
    is_prefix=_elixir_doc,
)


def _haskell_instance(node: Any, source: bytes) -> Definition:
    """``instance Show Point where`` is named ``instance Show Point``."""
    header = text(node, source).split(" where", 1)[0]
    return Definition("impl", header)


HASKELL = Syntax(
    kinds={
        "function": "function",
        "bind": "function",
        "data_type": "type",
        "newtype": "type",
        "type_synonym": "type",
        "type_family": "type",
        "data_family": "type",
        "class": "class",
    },
    readers={"instance": _haskell_instance},
    transparent=frozenset({"declarations", "imports"}),
    prefixes=frozenset({"comment", "haddock", "signature"}),
)


def _lua_function(node: Any, source: bytes) -> Definition:
    """Read ``function M:send()`` as the method ``M.send``, ``function M.new()`` as the function ``M.new``."""
    name = node.child_by_field_name("name")
    kind = "method" if name is not None and name.type == "method_index_expression" else "function"
    return Definition(kind, text(name, source) if name is not None else None)


def _lua_assignment(node: Any, source: bytes) -> Definition | None:
    """``M.connect = function (...) ... end`` defines the function ``M.connect``."""
    targets = next((child for child in node.named_children if child.type == "variable_list"), None)
    values = next((child for child in node.named_children if child.type == "expression_list"), None)
    if targets is None or values is None or targets.named_child_count != 1 or values.named_child_count != 1:
        return None
    if values.named_children[0].type != "function_definition":
        return None
    return Definition("function", text(targets, source))


LUA = Syntax(
    readers={"function_declaration": _lua_function, "assignment_statement": _lua_assignment},
    wrappers=frozenset({"variable_declaration"}),
    prefixes=frozenset({"comment"}),
)

_ZIG_CONTAINERS = {
    "struct_declaration": "struct",
    "union_declaration": "struct",
    "opaque_declaration": "struct",
    "enum_declaration": "enum",
}


def _zig_variable(node: Any, source: bytes) -> Definition | None:
    """``const Client = struct {...};`` defines the struct ``Client``; other constants are code."""
    value = next((child for child in node.named_children if child.type in _ZIG_CONTAINERS), None)
    name = next((child for child in node.named_children if child.type == "identifier"), None)
    if value is None or name is None:
        return None
    return Definition(_ZIG_CONTAINERS[value.type], text(name, source), value)


def _zig_test(node: Any, source: bytes) -> Definition:
    """``test "name" {...}`` is named ``test "name"``."""
    label = next((child for child in node.named_children if child.type in ("string", "identifier")), None)
    return Definition("function", f"test {text(label, source)}" if label is not None else "test")


ZIG = Syntax(
    kinds={"function_declaration": "function"},
    readers={"variable_declaration": _zig_variable, "test_declaration": _zig_test},
    prefixes=frozenset({"comment"}),
)

SHELL = Syntax(kinds={"function_definition": "function"}, prefixes=frozenset({"comment"}))


#: Aurora's language name -> its syntax (same keys as :data:`aurora_treesitter.grammars.GRAMMARS`).
SYNTAXES: dict[str, Syntax] = {
    "python": PYTHON,
    "javascript": JAVASCRIPT,
    "typescript": TYPESCRIPT,
    "tsx": TYPESCRIPT,
    "go": GO,
    "rust": RUST,
    "java": JAVA,
    "kotlin": KOTLIN,
    "scala": SCALA,
    "c": C,
    "cpp": CPP,
    "csharp": CSHARP,
    "swift": SWIFT,
    "php": PHP,
    "ruby": RUBY,
    "elixir": ELIXIR,
    "haskell": HASKELL,
    "lua": LUA,
    "zig": ZIG,
    "shell": SHELL,
}

#: A grammar to try too when a file's own grammar finds errors (C++ in a header named ``.h``,
#: TSX in a file Aurora calls TypeScript), with the marks that make it go first: a file
#: that has them is parsed in the alternative first, and in its own grammar only when
#: that tree has errors. The tree with fewer errors wins.
ALTERNATIVES: dict[str, tuple[str, re.Pattern[bytes]]] = {
    "c": (
        "cpp",
        re.compile(rb"^[ \t]*(?:class|namespace|template|using)\b|\b(?:public|private|protected)[ \t]*:|::", re.M),
    ),
    "typescript": ("tsx", re.compile(rb"</|/>")),
}
