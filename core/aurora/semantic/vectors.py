"""Host side of semantic search: the vector table of a model, kept in sync with the store.

Vectors are a derived index, brought up to date after the store's transaction commits:
rows whose chunk is gone or changed are deleted, new chunks are embedded, and a chunk
whose text is unchanged reuses its vector (matched by content hash), so an edit to one
function re-embeds that function only. Every row carries its chunk's content hash and
search drops hits whose hash no longer matches, so an interrupted run (Ctrl-C keeps
what was embedded so far) never returns a wrong chunk; the next run finishes the job.
Vectors are recorded under the model's identity: the same model used through another
plugin (fastembed's int8 export or sentence-transformers) shares them.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from aurora.cli.progress import Progress
from aurora.errors import REPAIR_HINT, AuroraError, ModelUnavailableError, VectorIndexError
from aurora.host.contract import Embedder, ModelLocation, ModelSpec, VectorStore
from aurora.host.registry import LoadedPlugin, PluginHost
from aurora.index.store import Store

_META_PREFIX = "vectors:"
#: Distinct texts embedded (and written) per step; a Ctrl-C loses at most one step.
STEP = 128


class SemanticRole(NamedTuple):
    """A pipeline's embedder (with its model) and vector store, with their resolved options."""

    embedder: LoadedPlugin
    embedder_options: Mapping[str, Any]
    model: ModelSpec
    model_id: str
    store: LoadedPlugin
    store_options: Mapping[str, Any]
    uri: str

    @property
    def key(self) -> str:
        """Return a short key for the model's vectors (tables are named after it)."""
        return f"{zlib.crc32(self.model_id.encode()):08x}"


class SyncReport(NamedTuple):
    """What a vector sync did."""

    embedded: int
    reused: int
    deleted: int
    vectors: int
    embed_s: float
    #: Why the table was made again from nothing (it could not be read), or None.
    repaired: str | None = None


def recorded(store: Store) -> dict[str, dict[str, Any]]:
    """Return the vector tables the index has, by key: model, dimension, table, uri, embedder."""
    return {key.removeprefix(_META_PREFIX): json.loads(value) for key, value in store.meta_items(_META_PREFIX)}


def locate(host: PluginHost, role: SemanticRole) -> ModelLocation | None:
    """Ask the embedder plugin where its model is on disk (filesystem only)."""
    return host.call(role.embedder, "aurora_model_locate", model=role.model, options=role.embedder_options)


def load_embedder(host: PluginHost, role: SemanticRole, location: ModelLocation | None) -> Embedder:
    """Load the embedder, turning every failure into one clear error."""
    try:
        return host.require(
            role.embedder,
            "aurora_embedder_load",
            model=role.model,
            location=location,
            model_id=role.model_id,
            options=role.embedder_options,
        )
    except AuroraError:
        raise
    except (Exception, MemoryError) as exc:  # any library error: offline hub, damaged files, ...
        reason = _first_line(exc)
        if location is None:
            raise ModelUnavailableError(
                f"model {role.model_id} is not on this machine and could not be downloaded: {reason}",
                hint="connect to the network once, or set the embedder's model to a local folder "
                "(`aurora models` shows where Aurora looked)",
            ) from exc
        raise ModelUnavailableError(
            f"cannot load model {role.model_id} from {location.path} ({location.source}): {reason}",
            hint="the model files look damaged or incomplete; delete them and download again, or reinstall the package",
        ) from exc


def open_store(host: PluginHost, role: SemanticRole, table: str, dimension: int, create: bool) -> VectorStore:
    """Open the vector table, turning failures into one clear error."""
    try:
        return host.require(
            role.store,
            "aurora_vector_store_open",
            uri=role.uri,
            table=table,
            dimension=dimension,
            create=create,
            options=role.store_options,
        )
    except AuroraError:
        raise
    except FileNotFoundError:
        raise VectorIndexError(f"the vector table {table} is missing from {role.uri}", hint=REPAIR_HINT) from None
    except ValueError as exc:
        raise VectorIndexError(str(exc), hint=REPAIR_HINT) from None
    except Exception as exc:  # unreadable data in whatever form the backend reports it
        raise VectorIndexError(
            f"cannot open the vector store at {role.uri}: {_first_line(exc)}", hint=REPAIR_HINT
        ) from exc


def open_for_search(store: Store, host: PluginHost, role: SemanticRole) -> tuple[VectorStore, int]:
    """Open the table holding this model's vectors, or explain what the index has instead."""
    entry = check_recorded(store, role)
    return open_store(host, role, entry["table"], entry["dimension"], create=False), entry["dimension"]


def check_recorded(store: Store, role: SemanticRole) -> dict[str, Any]:
    """Return the record of this model's vector table (store metadata only), or explain what the index has."""
    tables = recorded(store)
    entry = tables.get(role.key)
    if entry is None or entry["model"] != role.model_id:
        others = sorted(e["model"] for e in tables.values())
        if others:
            raise VectorIndexError(
                f"the index has vectors for {', '.join(others)}, not for {role.model_id}",
                hint="run `aurora index` with this pipeline or --backend to embed with that model, "
                "or search with a pipeline that uses one of those models",
            )
        raise VectorIndexError(
            "the index has no vectors yet",
            hint="run `aurora index` with an embedder, e.g. `aurora index --backend fastembed`",
        )
    return entry


def check_dimension(embedder: Embedder, dimension: int) -> None:
    """Refuse a model whose vectors do not fit the table (the model files changed, say)."""
    if embedder.dimension != dimension:
        raise VectorIndexError(
            f"model {embedder.model_id} makes {embedder.dimension}-dimensional vectors, but the index holds "
            f"{dimension}-dimensional ones",
            hint="run `aurora index --rebuild` to embed everything again",
        )


def sync(
    store: Store,
    host: PluginHost,
    role: SemanticRole,
    load: Callable[[], Embedder],
    progress: Progress,
    rebuild: bool = False,
) -> SyncReport:
    """Bring the model's vector table up to date with the chunks in ``store``.

    ``load`` is called for the embedder only when something needs embedding, so a run
    with nothing new does not pay for loading the model. ``rebuild`` embeds everything again.
    """
    wanted = store.chunk_hashes()
    table, have, repaired = (None, {}, None) if rebuild else _current_table(store, host, role)
    stale = [chunk_id for chunk_id, digest in have.items() if wanted.get(chunk_id) != digest]
    missing = [chunk_id for chunk_id, digest in wanted.items() if have.get(chunk_id) != digest]
    if table is None and not wanted:
        return SyncReport(0, 0, 0, 0, 0.0)
    if table is None or missing:
        embedder = load()
        if table is None or recorded(store)[role.key]["dimension"] != embedder.dimension:
            table = _create_table(store, host, role, embedder.dimension)
            have, stale, missing = {}, [], list(wanted)
    reusable = table.vectors_for(sorted({wanted[i] for i in missing})) if missing else {}
    reused = [i for i in missing if wanted[i] in reusable]
    if reused:
        _add(store, table, reused, wanted, [reusable[wanted[i]] for i in reused])
    to_embed = [i for i in missing if wanted[i] not in reusable]
    started = time.perf_counter()
    if to_embed:
        _embed_missing(store, table, embedder, to_embed, wanted, progress)
    embed_s = time.perf_counter() - started
    if stale:
        table.delete(stale)
    if missing or stale:
        with progress.task("Optimising the vector index", unit=""):
            table.optimize()
    return SyncReport(len(to_embed), len(reused), len(stale), table.count(), embed_s, repaired)


def _current_table(
    store: Store, host: PluginHost, role: SemanticRole
) -> tuple[VectorStore | None, dict[int, str], str | None]:
    """Open the table recorded for the model, with its rows; a missing or unreadable one is made again from nothing.

    The third value says why an existing table is not used (None when it is, or when there is none).
    """
    entry = recorded(store).get(role.key)
    if entry is None or entry["model"] != role.model_id:
        return None, {}, None
    try:
        table = open_store(host, role, entry["table"], entry["dimension"], create=False)
        return table, table.rows(), None
    except (VectorIndexError, OSError) as exc:
        message = exc.message if isinstance(exc, VectorIndexError) else _first_line(exc)
        return (
            None,
            {},
            f"the vector table of {role.model_id} could not be read ({message}); embedding everything again",
        )


def _create_table(store: Store, host: PluginHost, role: SemanticRole, dimension: int) -> VectorStore:
    name = f"chunks_{role.key}_{dimension}"
    table = open_store(host, role, name, dimension, create=True)
    if table.count():  # left by an earlier record of this model: start clean
        table.delete(list(table.rows()))
    store.set_meta(
        _META_PREFIX + role.key,
        json.dumps(
            {
                "model": role.model_id,
                "dimension": dimension,
                "table": name,
                "uri": role.uri,
                "embedder": role.embedder.name,
            }
        ),
    )
    return table


def _embed_missing(
    store: Store, vectors: VectorStore, embedder: Embedder, ids: list[int], wanted: dict[int, str], progress: Progress
) -> None:
    """Embed each distinct text once, longest first (batches pad less), writing every step.

    Only the texts of one step are held at a time (their lengths are read first), so that
    memory does not grow with the corpus.
    """
    import numpy as np

    by_hash: dict[str, list[int]] = {}
    for chunk_id in ids:
        by_hash.setdefault(wanted[chunk_id], []).append(chunk_id)
    lengths = _text_lengths(store, [group[0] for group in by_hash.values()])
    order = sorted(by_hash, key=lambda digest: -lengths[by_hash[digest][0]])
    with progress.task("Embedding", total=len(ids), unit="chunks") as advance:
        for start in range(0, len(order), STEP):
            step = order[start : start + STEP]
            texts = store.texts([by_hash[digest][0] for digest in step])
            embedded = embedder.embed_documents([texts[by_hash[digest][0]] for digest in step])
            chunk_ids = [chunk_id for digest in step for chunk_id in by_hash[digest]]
            rows = np.repeat(embedded, [len(by_hash[digest]) for digest in step], axis=0)
            _add(store, vectors, chunk_ids, wanted, rows)
            advance(len(chunk_ids))


def _text_lengths(store: Store, ids: list[int]) -> dict[int, int]:
    """Return the length of each chunk's indexed text, reading the texts a block at a time."""
    lengths: dict[int, int] = {}
    for start in range(0, len(ids), 8 * STEP):
        lengths.update((chunk_id, len(text)) for chunk_id, text in store.texts(ids[start : start + 8 * STEP]).items())
    return lengths


def _add(store: Store, vectors: VectorStore, ids: Sequence[int], wanted: dict[int, str], rows: Any) -> None:
    chunks = store.chunks(ids)
    metadata = [
        {"path": chunks[i].path, "line_start": chunks[i].line_start, "line_end": chunks[i].line_end} for i in ids
    ]
    vectors.add(ids, [wanted[i] for i in ids], rows, metadata)


def search(store: Store, vectors: VectorStore, query_vector: Any, limit: int) -> list[tuple[int, float]]:
    """Return (chunk id, similarity) of the nearest chunks whose vector is still current."""
    try:
        hits = vectors.search(query_vector, limit)
    except OSError as exc:  # damaged data files (the store plugin reports them so)
        raise VectorIndexError(f"the vector table cannot be read: {_first_line(exc)}", hint=REPAIR_HINT) from None
    current = store.chunk_hashes([chunk_id for chunk_id, _, _ in hits])
    return [(chunk_id, score) for chunk_id, digest, score in hits if current.get(chunk_id) == digest]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
