"""Everything a plugin author needs, in one import: ``from aurora.plugin import hookimpl, PluginDescription``.

First-party plugins and the packages in ``contrib/`` import from here only, never from
Aurora's internals, so that the internals can move without breaking plugins. The hook
specifications themselves, with what each hook receives and returns, are in
:mod:`aurora.host.hookspecs`; docs/plugins.md walks through writing a plugin.

What is here:

- the contract: :data:`hookimpl`, :data:`API_VERSION` and the records and protocols hooks
  exchange (options, descriptions, hits, models, embedders, vector stores, chunks,
  rerank candidates);
- the errors a plugin raises (:class:`BackendNotInstalledError` when its library is missing);
- helpers: length-sorted embedding batches, model-folder detection on the filesystem,
  Aurora's per-user cache folder and atomic folder writes (for files a plugin prepares
  once), line spans and windows for chunkers, and the reading of a query (its kind, the
  identifiers and words it holds) for rerankers.

Importing this module is cheap (the standard library and pluggy, which the host has
loaded already): a lexical search imports it with its lexical plugin.
"""

from __future__ import annotations

from aurora.common.atomic import staged_folder
from aurora.common.dirs import user_cache_dir
from aurora.errors import AuroraError, BackendNotInstalledError, ConfigError, ModelUnavailableError
from aurora.host.contract import (
    Candidate,
    Chunk,
    ChunkSettings,
    Embedder,
    FusedHit,
    Hit,
    LexicalIndex,
    ModelLocation,
    ModelSpec,
    Option,
    PluginDescription,
    Reranked,
    VectorStore,
)
from aurora.host.hookspecs import API_VERSION, hookimpl
from aurora.index.windows import limit_chunks, line_span, line_windows
from aurora.search.query import QueryProfile, compact_name, name_words, read_query
from aurora.semantic.batching import length_batches
from aurora.semantic.models import find_in_hub_layout, has_files, hub_cache, locate_folder, package_folder

__all__ = [
    "API_VERSION",
    "AuroraError",
    "BackendNotInstalledError",
    "Candidate",
    "Chunk",
    "ChunkSettings",
    "ConfigError",
    "Embedder",
    "FusedHit",
    "Hit",
    "LexicalIndex",
    "ModelLocation",
    "ModelSpec",
    "ModelUnavailableError",
    "Option",
    "PluginDescription",
    "QueryProfile",
    "Reranked",
    "VectorStore",
    "compact_name",
    "find_in_hub_layout",
    "has_files",
    "hookimpl",
    "hub_cache",
    "length_batches",
    "limit_chunks",
    "line_span",
    "line_windows",
    "locate_folder",
    "name_words",
    "package_folder",
    "read_query",
    "staged_folder",
    "user_cache_dir",
]
