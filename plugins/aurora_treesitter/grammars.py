"""Tree-sitter grammars by language name: which PyPI wheel ships each, and a cached parser per language.

Every grammar comes from its own wheel (``tree-sitter-python``, ``tree-sitter-go``, ...),
compiled in, so nothing is downloaded at run time. ``tree_sitter`` and the grammar
modules are imported on first use, never when this module is imported.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import Any

from aurora.plugin import AuroraError

#: Language name (as Aurora names it) -> (grammar module, function returning the grammar, distribution).
GRAMMARS: dict[str, tuple[str, str, str]] = {
    "python": ("tree_sitter_python", "language", "tree-sitter-python"),
    "javascript": ("tree_sitter_javascript", "language", "tree-sitter-javascript"),
    "typescript": ("tree_sitter_typescript", "language_typescript", "tree-sitter-typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx", "tree-sitter-typescript"),
    "go": ("tree_sitter_go", "language", "tree-sitter-go"),
    "rust": ("tree_sitter_rust", "language", "tree-sitter-rust"),
    "java": ("tree_sitter_java", "language", "tree-sitter-java"),
    "kotlin": ("tree_sitter_kotlin", "language", "tree-sitter-kotlin"),
    "scala": ("tree_sitter_scala", "language", "tree-sitter-scala"),
    "c": ("tree_sitter_c", "language", "tree-sitter-c"),
    "cpp": ("tree_sitter_cpp", "language", "tree-sitter-cpp"),
    "csharp": ("tree_sitter_c_sharp", "language", "tree-sitter-c-sharp"),
    "swift": ("tree_sitter_swift", "language", "tree-sitter-swift"),
    "php": ("tree_sitter_php", "language_php", "tree-sitter-php"),
    "ruby": ("tree_sitter_ruby", "language", "tree-sitter-ruby"),
    "elixir": ("tree_sitter_elixir", "language", "tree-sitter-elixir"),
    "haskell": ("tree_sitter_haskell", "language", "tree-sitter-haskell"),
    "lua": ("tree_sitter_lua", "language", "tree-sitter-lua"),
    "zig": ("tree_sitter_zig", "language", "tree-sitter-zig"),
    "shell": ("tree_sitter_bash", "language", "tree-sitter-bash"),
}

_parsers = threading.local()  # parsers keep per-parse state, so each thread gets its own


@functools.cache
def grammar(language: str) -> Any:
    """Return the ``tree_sitter.Language`` of ``language``; raise AuroraError when its wheel is missing."""
    module_name, function, distribution = GRAMMARS[language]
    try:
        import tree_sitter
    except ImportError:
        raise AuroraError("tree-sitter is not installed", hint="pip install tree-sitter") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise AuroraError(f"the {language} grammar is not installed", hint=f"pip install {distribution}") from None
    return tree_sitter.Language(getattr(module, function)())


def parser(language: str) -> Any:
    """Return this thread's ``tree_sitter.Parser`` for ``language``, made once."""
    cache = _parsers.__dict__
    if language not in cache:
        import tree_sitter

        cache[language] = tree_sitter.Parser(grammar(language))
    return cache[language]
