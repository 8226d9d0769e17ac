"""Aurora's LanceDB vector-store plugin: vectors in a local folder, object storage or a LanceDB server.

Registered as ``lancedb`` in the ``aurora.store`` group; needs the ``lancedb`` extra.
Tables are searched by brute force until they reach ``ann_threshold`` rows, then
through an IVF_HNSW_SQ index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aurora.plugin import Option, PluginDescription, hookimpl


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the plugin and its options."""
    return PluginDescription(
        summary="Vectors in LanceDB: a local folder, object storage (s3://, gs://, az://) or a LanceDB server (db://)",
        options={
            "uri": Option("", "where the tables live (default: .aurora/vectors in the project)"),
            "ann_threshold": Option(10_000, "rows from which an ANN index is built", int, minimum=1),
            "nprobes": Option(20, "IVF partitions searched per query", int, minimum=1, maximum=10_000),
            "refine_factor": Option(
                1, "re-rank this many times the asked-for candidates with exact distances (0: off)", int, minimum=0
            ),
        },
    )


@hookimpl
def aurora_vector_store_open(uri: str, table: str, dimension: int, create: bool, options: Mapping[str, Any]) -> Any:
    """Open a LanceDB table; with ``create``, make it (or replace one that cannot be read)."""
    from aurora_lancedb.store import open_table

    return open_table(uri, table, dimension, create, options)
