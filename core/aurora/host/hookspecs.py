"""The plugin contract: every hook a plugin can implement.

A plugin is an importable module (or object) registered under an entry point in one of
the groups of :data:`aurora.host.registry.ROLE_GROUPS`; the entry-point name is the name
pipelines use. The host imports a plugin only when a pipeline selects it, registers it
with pluggy, and calls the hooks of *that* plugin only, so several backends can be
installed side by side. Every hook here is ``firstresult``: the selected plugin answers,
and ``None`` means "not mine / not applicable".

Implement hooks with :data:`hookimpl`::

    from aurora.plugin import hookimpl, PluginDescription

    @hookimpl
    def aurora_describe():
        return PluginDescription(summary="...")

A hook implementation may accept fewer arguments than the spec lists (pluggy passes
only those it asks for), which keeps older plugins working when a later
:data:`API_VERSION` adds an argument.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
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
        PluginDescription,
        Reranked,
        VectorStore,
    )

#: Version of this contract. Additive changes keep the number; breaking ones bump it.
#: 2: ``aurora_fuse`` returns :class:`~aurora.host.contract.FusedHit` records (score and each
#: signal's contribution) instead of ``(chunk id, score)`` pairs, and takes ``calibrated``.
#: 3: plugins import the contract from :mod:`aurora.plugin`; chunker (``aurora_chunk``) and
#: reranker (``aurora_rerank``) roles.
API_VERSION = 3
#: The oldest contract a plugin may declare (``PluginDescription.api_version``) and still load.
OLDEST_SUPPORTED_API = 3

hookspec = pluggy.HookspecMarker("aurora")
hookimpl = pluggy.HookimplMarker("aurora")


# --- what a plugin is -------------------------------------------------------------


@hookspec(firstresult=True)
def aurora_describe() -> PluginDescription:
    """Describe the plugin: a one-line summary and the options it accepts.

    Every plugin should implement it. The host validates a pipeline's options for this
    plugin against ``options`` (unknown keys and values out of range are reported with
    the file they came from) and fills in defaults, so the other hooks receive a
    complete ``options`` mapping. Must not import heavy libraries.
    """


# --- lexical scoring ---------------------------------------------------------------


@hookspec(firstresult=True)
def aurora_lexical_build(texts: Sequence[str], directory: Path, options: Mapping[str, Any]) -> bool | None:
    """Build a lexical index over ``texts`` and save it into the empty ``directory``.

    Document positions are the indexes of ``texts``. The host writes into a temporary
    directory and swaps it in atomically, so the plugin need not care about partial
    writes. Return ``True`` once the index is saved.
    """


@hookspec(firstresult=True)
def aurora_lexical_build_delta(
    texts: Sequence[str], base: Path, directory: Path, options: Mapping[str, Any]
) -> bool | None:
    """Index ``texts`` into the empty ``directory`` as a delta segment of the index saved in ``base`` (optional).

    A delta keeps a one-file edit from rebuilding the whole index: the host indexes the
    added and changed chunks alone and masks the replaced ones out of ``base``. Score
    the new documents with ``base``'s statistics (document count, average length,
    document frequencies plus the delta's own), so that their scores compare with the
    base's, and save them so that ``aurora_lexical_open`` opens ``directory`` like any
    index. Return ``True`` once saved; ``None`` (or not implementing the hook) makes
    the host rebuild the whole index instead. The host folds the delta into a full
    build once it grows past a share of the corpus.
    """


@hookspec(firstresult=True)
def aurora_lexical_open(directory: Path, options: Mapping[str, Any]) -> LexicalIndex | None:
    """Open the index saved in ``directory`` by ``aurora_lexical_build`` for querying.

    Called on every search in a fresh process, so it should be fast: memory-map rather
    than read, and import nothing heavy. Raise ``OSError`` or ``ValueError`` when the
    files are missing or damaged; the host reports that as a corrupt index.
    """


# --- model-cache detection and model loading -----------------------------------------


@hookspec(firstresult=True)
def aurora_model_locate(model: ModelSpec, options: Mapping[str, Any]) -> ModelLocation | None:
    """Say whether ``model`` is available locally and where, by looking at the filesystem only.

    Must not import the embedding library (torch, onnxruntime, ...) or touch the
    network, and should answer in well under a millisecond: the host calls it on every
    search to decide whether to start loading the model. Return ``None`` when the model
    is not available locally.
    """


@hookspec(firstresult=True)
def aurora_embedder_load(
    model: ModelSpec, location: ModelLocation | None, model_id: str, options: Mapping[str, Any]
) -> Embedder | None:
    """Load ``model`` and return an :class:`~aurora.host.contract.Embedder` whose ``model_id`` is ``model_id``.

    ``location`` is what ``aurora_model_locate`` found; load from there, without
    touching the network. ``None`` means the model is not on disk: download it the
    library's usual way if that is possible. This is where the heavy import happens.
    ``options`` carries the plugin's options (device, batch size, ...). Raise
    :class:`aurora.errors.BackendNotInstalledError` when the library is missing, and
    any exception with a clear message when the files are unusable.
    """


# --- vector storage ----------------------------------------------------------------


@hookspec(firstresult=True)
def aurora_vector_store_open(
    uri: str, table: str, dimension: int, create: bool, options: Mapping[str, Any]
) -> VectorStore | None:
    """Open the vector table ``table`` at ``uri`` for vectors of ``dimension``.

    With ``create``, make the table if it does not exist, or replace it if it cannot be
    read (the host asks for this only when it is about to fill the table again).
    ``uri`` is a local directory or any URI the backend supports (object storage, a
    server). Return a :class:`~aurora.host.contract.VectorStore`. Raise ``FileNotFoundError``
    when the table does not exist and ``create`` is false, ``ValueError`` when it holds
    vectors of another dimension, and ``OSError`` when it cannot be opened.
    """


# --- result fusion -----------------------------------------------------------------


@hookspec(firstresult=True)
def aurora_fuse(
    signals: Mapping[str, Sequence[Hit]],
    weights: Mapping[str, float],
    calibrated: Collection[str],
    options: Mapping[str, Any],
) -> list[FusedHit] | None:
    """Combine ranked lists into one ranking.

    ``signals`` maps a signal name (``lexical``, ``semantic``) to its hits, best first,
    keyed by chunk id; a chunk missing from a signal's list got nothing from that signal
    (activation is not fused: the host applies it to the fused scores). ``weights`` gives
    each signal's weight (0 or more), already adapted to the query. Signals named in
    ``calibrated`` already score in [0, 1] on a scale that means the same for every query:
    use their scores as they are rather than normalising them per query (the host names
    none since activation left fusion; the argument stays for contract 3). Return
    :class:`~aurora.host.contract.FusedHit` records, best first, each with every signal's
    contribution to its score.
    """


# --- chunking ------------------------------------------------------------------------


@hookspec(firstresult=True)
def aurora_chunk(
    text: str, path: str, language: str, settings: ChunkSettings, options: Mapping[str, Any]
) -> list[Chunk] | None:
    """Split one file's text into chunks: the units that are indexed, scored and shown.

    Called only for files whose ``language`` is among the ``languages`` the plugin's
    :class:`~aurora.host.contract.PluginDescription` declares. ``text`` has its newlines
    normalised to line feeds; ``path`` is relative to the root (for messages). ``settings``
    carries the ``[index]`` sizes (window lines and overlap, the longest chunk). Return
    :class:`~aurora.host.contract.Chunk` records in line order, each at most
    ``settings.max_chunk_lines`` long (see :func:`aurora.plugin.limit_chunks`), or
    ``None`` when this text cannot be split this way (a syntax error, say): the host then
    falls back to the ``[index] fallback_chunker`` and warns. The plugin's name and
    ``PluginDescription.version`` are stored with every file it chunked: a new version
    re-chunks exactly those files, so bump it whenever the chunks would change.
    """


# --- reranking -----------------------------------------------------------------------


@hookspec(firstresult=True)
def aurora_rerank(query: str, candidates: Sequence[Candidate], options: Mapping[str, Any]) -> list[Reranked] | None:
    """Reorder the fused candidates of ``query``, best first.

    ``candidates`` are the fused ranking's top chunks, best first, each with its fused
    score, every signal's raw score, its metadata (path, language, symbol, kind, lines)
    and its text. Return :class:`~aurora.host.contract.Reranked` records, best first:
    each with its new score and ``adjustments``, what the reranker changed and why
    (``--explain`` shows them). A candidate left out of the answer is dropped. Must be
    fast: it runs on every search (100 candidates by default).
    """
