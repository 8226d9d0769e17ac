"""``aurora stats``: what an index holds, how big it is on disk, its models and its most used chunks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aurora.activation.usage import HISTORY_NAME
from aurora.common.layout import DATABASE_NAME, LEXICAL_DIRNAME, index_dir
from aurora.index.store import Store
from aurora.semantic import vectors

if TYPE_CHECKING:
    from aurora.api import Project


def index_stats(project: Project, top: int) -> dict[str, Any]:
    """Return the statistics of ``project``'s index as a JSON-ready document (docs/json-output.md)."""
    folder = index_dir(project.root)
    store = Store.open(folder / DATABASE_NAME)
    try:
        counts = store.counts()
        models = list(vectors.recorded(store).values())
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
