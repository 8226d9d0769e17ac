"""Value types and protocols that hooks pass between the host and plugins.

Everything here is part of the public plugin contract (see :mod:`aurora.hookspecs`)
and is cheap to import: typing only. Records are ``NamedTuple``s, which are five
times cheaper to create at import than frozen dataclasses (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

#: A ranked hit: (document position or chunk id, score). Higher scores rank first.
Hit = tuple[int, float]


class Option(NamedTuple):
    """One option a plugin accepts in its pipeline table, with its default and limits.

    ``kind`` is the expected Python type (``bool``, ``int``, ``float``, ``str`` or
    ``list``); ints are accepted where floats are expected. ``choices``, ``minimum`` and
    ``maximum`` restrict the value; the host validates the user's TOML against them and
    names the file, the key and what is allowed when a value does not fit.
    """

    default: Any
    help: str
    kind: type = str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


class PluginDescription(NamedTuple):
    """What a plugin tells the host about itself: a summary and the options it accepts."""

    summary: str
    options: Mapping[str, Option] = {}


class LexicalIndex(Protocol):
    """A saved lexical index opened for querying (returned by ``aurora_lexical_open``)."""

    def search(self, query: str, limit: int) -> list[Hit]:
        """Return up to ``limit`` (document position, score) pairs, best first.

        Positions index the ``texts`` sequence the index was built from. Documents
        that share no term with the query are left out.
        """
        ...

    def analyze(self, text: str) -> list[str]:
        """Return the index terms of ``text`` (used to find and highlight matches)."""
        ...


class ModelSpec(NamedTuple):
    """A model named by a pipeline: a hub name, a local folder or a Python package.

    Exactly one of ``name`` (hub id such as ``sentence-transformers/all-MiniLM-L6-v2``),
    ``path`` (a local folder) or ``package`` (an installed distribution that ships the
    model files) identifies the model.
    """

    name: str | None = None
    path: Path | None = None
    package: str | None = None


class ModelLocation(NamedTuple):
    """Where a model was found on disk, and through which mechanism (``source``)."""

    path: Path
    source: str


class Embedder(Protocol):
    """A loaded embedding model (returned by ``aurora_embedder_load``)."""

    model_id: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> Any:
        """Return a float32 array of shape (len(texts), dimension), L2-normalised."""
        ...

    def embed_query(self, text: str) -> Any:
        """Return a float32 vector of shape (dimension,), L2-normalised."""
        ...


class VectorStore(Protocol):
    """A vector table opened by ``aurora_vector_store_open``; ids are chunk ids."""

    def upsert(self, ids: Sequence[int], vectors: Any, metadata: Sequence[Mapping[str, Any]]) -> None:
        """Insert or replace the vectors of ``ids``, with per-row metadata."""
        ...

    def delete(self, ids: Sequence[int]) -> None:
        """Remove the rows of ``ids``; unknown ids are ignored."""
        ...

    def search(self, vector: Any, limit: int) -> list[Hit]:
        """Return up to ``limit`` (chunk id, similarity) pairs, most similar first."""
        ...

    def count(self) -> int:
        """Return the number of stored vectors."""
        ...
