"""Chunk vectors in a LanceDB table behind Aurora's VectorStore protocol.

LanceDB creates and writes the tables and builds their vector indexes. Reads (search,
and the rows and counts an index run syncs against) go through Lance, the storage
library LanceDB is built on (the ``pylance`` package), for tables in a folder or in
object storage: ``import lance`` takes 0.23 s where ``import lancedb`` alone takes
1.25 s here (bench/instant.py; it loads its remote and namespace
clients), a cost every one-shot ``aurora search`` would pay (docs/architecture.md). Both
libraries read the same files, ANN index included. Tables on a LanceDB server or cloud
(``db://``) are read through LanceDB. lancedb is imported only when something is written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from aurora.plugin import AuroraError, BackendNotInstalledError

#: Row ids per ``IN (...)`` filter.
_BATCH = 1000
#: The last bytes of every Lance data file.
LANCE_MAGIC = b"LANC"
#: URI schemes of a LanceDB server or cloud database, which only LanceDB can read.
SERVER_SCHEMES = ("db://",)


def _import(module: str) -> Any:
    """Import one of this plugin's libraries, naming the extra that installs it when it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("lancedb", "lance", "pyarrow"):
            raise BackendNotInstalledError(exc.name.split(".")[0], "aurora-search", "lancedb") from None
        raise


def open_table(uri: str, name: str, dimension: int, create: bool, options: Mapping[str, Any]) -> LanceVectorStore:
    """Open table ``name`` at ``uri``, creating it when ``create``; check its vector dimension."""
    table = _create(uri, name, dimension) if create else None
    reader: _Reader
    if uri.startswith(SERVER_SCHEMES):
        reader = _LanceDBReader(table if table is not None else _open_with_lancedb(uri, name))
    else:
        reader = _LanceReader(uri, name)
    stored = reader.schema().field("vector").type.list_size
    if stored != dimension:
        raise ValueError(f"the vector table {name} holds {stored}-dimensional vectors, not {dimension}")
    return LanceVectorStore(uri, name, dimension, options, reader, table)


def _connect(uri: str) -> Any:
    # Check for newer versions on every read, so that a long-lived reader sees what a
    # later `aurora index` wrote (one manifest check per query on a local folder).
    return _import("lancedb").connect(uri, read_consistency_interval=timedelta(0))


def _open_with_lancedb(uri: str, name: str) -> Any:
    """Open an existing table with LanceDB (for writing, or for reading from a server)."""
    try:
        return _connect(uri).open_table(name)
    except ValueError:  # "Table ... was not found"
        raise FileNotFoundError(f"no vector table {name} at {uri}") from None
    except Exception as exc:  # lancedb raises plain RuntimeError/OSError for unreadable data
        raise OSError(f"cannot open the vector store at {uri}: {exc}") from exc


def _create(uri: str, name: str, dimension: int) -> Any:
    """Open table ``name`` for writing, creating it (or replacing one that cannot be read)."""
    pa = _import("pyarrow")
    db = _connect(uri)
    schema = pa.schema(
        [
            pa.field("id", pa.int64()),
            pa.field("content_hash", pa.string()),
            pa.field("path", pa.string()),
            pa.field("line_start", pa.int32()),
            pa.field("line_end", pa.int32()),
            pa.field("vector", pa.list_(pa.float32(), dimension)),
        ]
    )
    # The host asks to create only when it fills the table again from nothing: a table
    # left there (damaged, or of an earlier record) is replaced by an empty one.
    try:
        db.drop_table(name)
    except Exception:  # not there (each LanceDB version says it its own way)
        pass
    return db.create_table(name, schema=schema)


class _LanceReader:
    """Reads a table in a folder or object storage with Lance, following new versions."""

    def __init__(self, uri: str, name: str) -> None:
        lance = _import("lance")
        path = f"{uri.rstrip('/')}/{name}.lance"
        if "://" not in uri and not Path(path).is_dir():
            raise FileNotFoundError(f"no vector table {name} at {uri}")
        self._where = f"the vector table {name} at {uri}"
        try:
            self._dataset = lance.dataset(path)
        except Exception as exc:  # Lance raises ValueError for both a missing and a damaged table
            if "was not found" in str(exc):
                raise FileNotFoundError(f"no vector table {name} at {uri}") from None
            raise OSError(f"cannot open the vector store at {uri}: {exc}") from exc
        if "://" not in uri:
            self._check_data_files(Path(path))

    def _check_data_files(self, folder: Path) -> None:
        """Raise OSError when a data file is missing or its size is not the one recorded (truncated, replaced).

        One ``stat`` per file: a table whose manifest reads fine can still have lost its
        data, which Lance would only report at the first query.
        """
        for fragment in self._dataset.get_fragments():
            for data_file in fragment.metadata.files:
                path = folder / "data" / data_file.path
                expected = getattr(data_file, "file_size_bytes", None)
                try:
                    size = path.stat().st_size
                except OSError as exc:
                    raise OSError(f"{self._where} is damaged: {data_file.path}: {exc.strerror}") from None
                if expected is not None and size != expected:
                    raise OSError(f"{self._where} is damaged: {data_file.path} holds {size} bytes, not {expected}")
                if _tail(path, len(LANCE_MAGIC)) != LANCE_MAGIC:
                    raise OSError(f"{self._where} is damaged: {data_file.path} does not end as a Lance file does")

    def _current(self) -> Any:
        """Return the dataset at its latest version (another process may have written since)."""
        latest = self._dataset.latest_version
        if latest != self._dataset.version:
            self._dataset = self._dataset.checkout_version(latest)
        return self._dataset

    def schema(self) -> Any:
        """Return the table's Arrow schema."""
        return self._current().schema

    def scan(self, columns: list[str], where: str | None = None) -> Any:
        """Return ``columns`` of every row (matching ``where``) as an Arrow table."""
        return self._current().to_table(columns=columns, filter=where)

    def nearest(self, vector: np.ndarray, limit: int, nprobes: int, refine_factor: int) -> Any:
        """Return id, content_hash and cosine ``_distance`` of the ``limit`` nearest rows."""
        query = {"column": "vector", "q": vector, "k": limit, "metric": "cosine", "nprobes": nprobes}
        if refine_factor:
            query["refine_factor"] = refine_factor
        return self._current().to_table(nearest=query, columns=["id", "content_hash", "_distance"])

    def count(self) -> int:
        """Return the number of rows."""
        return int(self._current().count_rows())

    def has_vector_index(self) -> bool:
        """Return whether the vector column has an index."""
        return any("vector" in index.field_names for index in self._current().describe_indices())


def _tail(path: Path, size: int) -> bytes:
    """Return the last ``size`` bytes of the file at ``path`` (fewer when it is shorter)."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        handle.seek(max(0, handle.tell() - size))
        return handle.read()


class _LanceDBReader:
    """Reads a table through LanceDB (a table on a LanceDB server)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def schema(self) -> Any:
        """Return the table's Arrow schema."""
        return self._table.schema

    def scan(self, columns: list[str], where: str | None = None) -> Any:
        """Return ``columns`` of every row (matching ``where``) as an Arrow table."""
        query = self._table.search()
        if where is not None:
            query = query.where(where)
        return query.select(columns).limit(None).to_arrow()

    def nearest(self, vector: np.ndarray, limit: int, nprobes: int, refine_factor: int) -> Any:
        """Return id, content_hash and cosine ``_distance`` of the ``limit`` nearest rows."""
        query = self._table.search(vector).distance_type("cosine").limit(limit).nprobes(nprobes)
        if refine_factor:
            query = query.refine_factor(refine_factor)
        return query.select(["id", "content_hash", "_distance"]).to_arrow()

    def count(self) -> int:
        """Return the number of rows."""
        return int(self._table.count_rows())

    def has_vector_index(self) -> bool:
        """Return whether the vector column has an index."""
        return any("vector" in index.columns for index in self._table.list_indices())


_Reader = _LanceReader | _LanceDBReader


def _reading(method: Callable[..., Any]) -> Callable[..., Any]:
    """Report what the libraries raise for unreadable data (Arrow, Lance and I/O errors alike) as one OSError."""

    @functools.wraps(method)
    def read(self: LanceVectorStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except AuroraError:
            raise
        except Exception as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise OSError(f"the vector table {self._name} at {self._uri} cannot be read: {reason}") from exc

    return read


class LanceVectorStore:
    """One table of chunk vectors, compared by cosine similarity: written with LanceDB, read with Lance."""

    def __init__(
        self,
        uri: str,
        name: str,
        dimension: int,
        options: Mapping[str, Any],
        reader: _Reader,
        table: Any = None,
    ) -> None:
        self._uri = uri
        self._name = name
        self._dimension = dimension
        self._options = options
        self._reader = reader
        self._table = table  # the LanceDB table, opened on the first write

    @property
    def _writer(self) -> Any:
        if self._table is None:
            self._table = _open_with_lancedb(self._uri, self._name)
        return self._table

    @_reading
    def rows(self) -> dict[int, str]:
        """Return every stored chunk id with its content hash."""
        data = self._reader.scan(["id", "content_hash"])
        return dict(zip(data["id"].to_pylist(), data["content_hash"].to_pylist(), strict=True))

    @_reading
    def vectors_for(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Return a stored vector for each of ``hashes`` that has one."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), _BATCH):
            quoted = ",".join(f"'{h}'" for h in hashes[start : start + _BATCH] if h.isalnum())
            if not quoted:
                continue
            data = self._reader.scan(["content_hash", "vector"], where=f"content_hash IN ({quoted})")
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
        self._writer.add(batch)

    def delete(self, ids: Sequence[int]) -> None:
        """Remove the rows of ``ids``."""
        ids = list(ids)
        for start in range(0, len(ids), _BATCH):
            self._writer.delete(f"id IN ({','.join(str(int(i)) for i in ids[start : start + _BATCH])})")

    def optimize(self) -> None:
        """Build the ANN index once the table is large enough, fold new rows into it, compact."""
        from lancedb.index import IvfHnswSq

        if self.count() >= self._options["ann_threshold"] and not self.indexed:
            self._writer.create_index("vector", config=IvfHnswSq(distance_type="cosine"))
        self._writer.optimize(cleanup_older_than=timedelta(hours=1))

    @_reading
    def search(self, vector: Any, limit: int) -> list[tuple[int, str, float]]:
        """Return up to ``limit`` (chunk id, content hash, cosine similarity), most similar first."""
        data = self._reader.nearest(
            np.asarray(vector, dtype=np.float32), limit, self._options["nprobes"], self._options["refine_factor"]
        )
        return [
            (int(i), h, 1.0 - float(d))
            for i, h, d in zip(
                data["id"].to_pylist(), data["content_hash"].to_pylist(), data["_distance"].to_pylist(), strict=True
            )
        ]

    @_reading
    def count(self) -> int:
        """Return the number of stored vectors."""
        return self._reader.count()

    @property
    @_reading
    def indexed(self) -> bool:
        """Whether the table has an ANN index (below ``ann_threshold`` rows it is searched by brute force)."""
        return self._reader.has_vector_index()
