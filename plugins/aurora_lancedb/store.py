"""A LanceDB table of chunk vectors behind Aurora's VectorStore protocol. Imports lancedb and pyarrow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import numpy as np

from aurora.errors import BackendNotInstalledError

#: Row ids per ``IN (...)`` filter.
_BATCH = 1000


def open_table(uri: str, name: str, dimension: int, create: bool, options: Mapping[str, Any]) -> LanceVectorStore:
    """Open table ``name`` at ``uri``, creating it when ``create``; check its vector dimension."""
    try:
        import lancedb
        import pyarrow as pa
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("lancedb", "pyarrow"):
            raise BackendNotInstalledError(exc.name.split(".")[0], "aurora-search", "lancedb") from None
        raise
    try:
        # Check for newer versions on every read, so a long-lived reader sees what
        # a later `aurora index` wrote (one manifest check per query on a local folder).
        db = lancedb.connect(uri, read_consistency_interval=timedelta(0))
        table = db.open_table(name)
    except ValueError:  # "Table ... was not found"
        if not create:
            raise FileNotFoundError(f"no vector table {name} at {uri}") from None
        table = db.create_table(name, schema=_schema(pa, dimension))
    except Exception as exc:  # lancedb raises plain RuntimeError/OSError for unreadable data
        if not create:
            raise OSError(f"cannot open the vector store at {uri}: {exc}") from exc
        db.drop_table(name)  # the host asks to create only when it rebuilds the table
        table = db.create_table(name, schema=_schema(pa, dimension))
    stored = table.schema.field("vector").type.list_size
    if stored != dimension:
        raise ValueError(f"the vector table {name} holds {stored}-dimensional vectors, not {dimension}")
    return LanceVectorStore(table, dimension, options)


def _schema(pa: Any, dimension: int) -> Any:
    return pa.schema(
        [
            pa.field("id", pa.int64()),
            pa.field("content_hash", pa.string()),
            pa.field("path", pa.string()),
            pa.field("line_start", pa.int32()),
            pa.field("line_end", pa.int32()),
            pa.field("vector", pa.list_(pa.float32(), dimension)),
        ]
    )


class LanceVectorStore:
    """One LanceDB table of chunk vectors, compared by cosine similarity."""

    def __init__(self, table: Any, dimension: int, options: Mapping[str, Any]) -> None:
        self._table = table
        self._dimension = dimension
        self._options = options
        self._indexed = self._has_index()

    def rows(self) -> dict[int, str]:
        """Return every stored chunk id with its content hash."""
        data = self._table.search().select(["id", "content_hash"]).limit(None).to_arrow()
        return dict(zip(data["id"].to_pylist(), data["content_hash"].to_pylist(), strict=True))

    def vectors_for(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Return a stored vector for each of ``hashes`` that has one."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), _BATCH):
            quoted = ",".join(f"'{h}'" for h in hashes[start : start + _BATCH] if h.isalnum())
            if not quoted:
                continue
            data = (
                self._table.search()
                .where(f"content_hash IN ({quoted})")
                .select(["content_hash", "vector"])
                .limit(None)
                .to_arrow()
            )
            vectors = data["vector"].combine_chunks().flatten().to_numpy().reshape(-1, self._dimension)
            found.update(zip(data["content_hash"].to_pylist(), vectors, strict=True))
        return found

    def add(
        self, ids: Sequence[int], hashes: Sequence[str], vectors: Any, metadata: Sequence[Mapping[str, Any]]
    ) -> None:
        """Append rows."""
        import pyarrow as pa

        matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self._dimension)
        batch = pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "content_hash": pa.array(hashes, pa.string()),
                "path": pa.array([m["path"] for m in metadata], pa.string()),
                "line_start": pa.array([m["line_start"] for m in metadata], pa.int32()),
                "line_end": pa.array([m["line_end"] for m in metadata], pa.int32()),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(matrix.ravel(), pa.float32()), self._dimension),
            }
        )
        self._table.add(batch)

    def delete(self, ids: Sequence[int]) -> None:
        """Remove the rows of ``ids``."""
        ids = list(ids)
        for start in range(0, len(ids), _BATCH):
            self._table.delete(f"id IN ({','.join(str(int(i)) for i in ids[start : start + _BATCH])})")

    def optimize(self) -> None:
        """Build the ANN index once the table is large enough, fold new rows into it, compact."""
        from lancedb.index import IvfHnswSq

        if self.count() >= self._options["ann_threshold"] and not self._indexed:
            self._table.create_index("vector", config=IvfHnswSq(distance_type="cosine"))
        self._table.optimize(cleanup_older_than=timedelta(hours=1))
        self._indexed = self._has_index()

    def search(self, vector: Any, limit: int) -> list[tuple[int, str, float]]:
        """Return up to ``limit`` (chunk id, content hash, cosine similarity), most similar first."""
        query = self._table.search(np.asarray(vector, dtype=np.float32)).distance_type("cosine").limit(limit)
        if self._indexed:
            query = query.nprobes(self._options["nprobes"])
            if self._options["refine_factor"]:
                query = query.refine_factor(self._options["refine_factor"])
        data = query.select(["id", "content_hash", "_distance"]).to_arrow()
        return [
            (int(i), h, 1.0 - float(d))
            for i, h, d in zip(
                data["id"].to_pylist(), data["content_hash"].to_pylist(), data["_distance"].to_pylist(), strict=True
            )
        ]

    def count(self) -> int:
        """Return the number of stored vectors."""
        return int(self._table.count_rows())

    def _has_index(self) -> bool:
        return any("vector" in index.columns for index in self._table.list_indices())
