"""``aurora stats``: what an index holds, how big it is on disk, its models and its most used chunks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aurora.activation.usage import HISTORY_NAME
from aurora.common.layout import DATABASE_NAME, LEXICAL_DIRNAME, index_dir
from aurora.errors import UsageError
from aurora.index.store import Store
from aurora.search.options import MAX_LIMIT
from aurora.semantic import vectors
from aurora.semantic.coverage import Coverage, measure

if TYPE_CHECKING:
    from aurora.api import Project


def index_stats(project: Project, top: int) -> dict[str, Any]:
    """Return the statistics of ``project``'s index as a JSON-ready document (docs/json-output.md).

    ``top``: how many of the most used chunks to list, from 0 to as many as a search shows (``MAX_LIMIT``).
    """
    if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= MAX_LIMIT:
        raise UsageError(f"--top must be a whole number from 0 to {MAX_LIMIT:,} (got {top!r})")
    folder = index_dir(project.root)
    store = Store.open(folder / DATABASE_NAME)
    try:
        counts = store.counts()
        models = [{**model, "embedded": _embedded(project, store, model)} for model in vectors.recorded(store).values()]
    finally:
        store.close()
    usage = project.usage()
    now = time.time()
    active = []
    accesses = 0
    if usage is not None:
        try:
            accesses = usage.accesses()
            active = [
                {
                    "chunk": item.key,
                    "accesses": round(item.accesses, 2),
                    "last_access_s_ago": round(now - item.last_access, 1),
                    "activation": round(item.base_level, 4),
                    "probability": round(item.probability, 4),
                }
                for item in usage.most_active(top)
            ]
        finally:
            usage.close()
    return {
        "root": str(project.root),
        "files": counts["files"],
        "chunks": counts["chunks"],
        "size_bytes": _sizes(folder, models),
        "models": models,
        "accesses": accesses,
        "most_active": active,
    }


def model_text(model: dict[str, Any], chunks: int) -> str:
    """Return the human line of one model of :func:`index_stats`: name, dimensions, embedder and coverage."""
    covered = "" if model["embedded"] is None else f": {_coverage_text(Coverage(model['embedded'], chunks))}"
    return f"{model['model']}, {model['dimension']} dimensions, embedded with {model['embedder']}{covered}"


def _coverage_text(coverage: Coverage) -> str:
    if not coverage.partial:
        return f"all {coverage.chunks:,} chunks"
    return f"{coverage.embedded:,} of {coverage.chunks:,} chunks ({coverage.share()}; `aurora index` embeds the rest)"


def _embedded(project: Project, store: Store, model: dict[str, Any]) -> int | None:
    """Return how many chunks have a vector of their current text in ``model``'s table (None: it cannot be read).

    Opens the table with the default pipeline's vector store plugin (imports it, and its library).
    """
    plugin, options = project.pipeline().store()
    try:
        table = project.host.require(
            plugin,
            "aurora_vector_store_open",
            uri=model["uri"],
            table=model["table"],
            dimension=model["dimension"],
            create=False,
            options=options,
        )
        return measure(store, table).embedded
    except Exception:  # a missing or unreadable table (any backend's error): the rest of the stats still show
        return None


def _sizes(folder: Path, models: list[dict[str, Any]]) -> dict[str, int]:
    """Return the bytes on disk of each part of the index (vectors only where they are local)."""
    sizes = {
        "store": sum(_bytes(path) for path in folder.glob(f"{DATABASE_NAME}*")),
        "lexical": _bytes(folder / LEXICAL_DIRNAME),
        "vectors": sum(_bytes(Path(uri)) for uri in {m["uri"] for m in models if "://" not in m["uri"]}),
        "activation": sum(_bytes(path) for path in folder.glob(f"{HISTORY_NAME}*")),
    }
    sizes["total"] = sum(sizes.values())
    return sizes


def _bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
