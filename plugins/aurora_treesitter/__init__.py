"""Syntax-aware chunking for twenty languages with tree-sitter: one chunk per definition a reader would pick.

Registered as the ``treesitter`` entry point in the ``aurora.chunker`` group. Each
function, method and type gets a chunk with its leading comments, decorators and
attributes and a dotted symbol (``Client.send``, Go ``Client.Do``, ``impl Display for
Point``); containers (classes, impl blocks, modules) get a header chunk and one per
member; code between definitions gets chunks of kind ``module``; small neighbours merge;
long definitions are split where statements start (:mod:`aurora_treesitter.outline`,
:mod:`aurora_treesitter.parts`). Binary, minified, oversized and mostly broken files,
and parses that take too long, are left to the fallback chunker.

Grammars come from per-language PyPI wheels, dependencies of aurora-search, so nothing
is downloaded at run time; tree-sitter is imported on the first chunk only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aurora.plugin import API_VERSION, Chunk, ChunkSettings, Option, PluginDescription, hookimpl
from aurora_treesitter.grammars import GRAMMARS


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the chunker: its languages, version and limits."""
    return PluginDescription(
        summary="definitions of 20 languages (tree-sitter); long ones split where statements start",
        options={
            "merge_lines": Option(
                20,
                "neighbouring definitions merge into one chunk while it spans at most this many lines",
                int,
                minimum=0,
            ),
            "max_chars": Option(1_000_000, "longer files go to the fallback chunker", int, minimum=1),
            "timeout_ms": Option(
                10_000, "a file that takes longer to parse goes to the fallback chunker", int, minimum=1
            ),
        },
        requires=("tree_sitter",),
        languages=tuple(GRAMMARS),
        version="3",
        api_version=API_VERSION,
    )


@hookimpl
def aurora_chunk(text: str, language: str, settings: ChunkSettings, options: Mapping[str, Any]) -> list[Chunk] | None:
    """Return the chunks of one file, or None when it should be split by the fallback chunker."""
    from aurora_treesitter.chunker import chunk

    return chunk(text, language, settings, options)
