"""Value types and protocols that hooks pass between the host and plugins.

Everything here is part of the public plugin contract (see :mod:`aurora.host.hookspecs`)
and is cheap to import: typing only. Records are ``NamedTuple``s, which are five
times cheaper to create at import than frozen dataclasses (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

#: A ranked hit: (document position or chunk id, score). Higher scores rank first.
Hit = tuple[int, float]


class FusedHit(NamedTuple):
    """One chunk of a fused ranking: its fused score and what each signal added to it.

    ``contributions`` maps a signal name to its share of ``score`` (after weighting and
    normalisation); the shares add up to ``score``. ``aurora search --explain`` shows them.
    """

    chunk_id: int
    score: float
    contributions: Mapping[str, float]


class Option(NamedTuple):
    """One option a plugin accepts in its pipeline table, with its default and limits.

    ``kind`` is the expected Python type (``bool``, ``int``, ``float``, ``str`` or
    ``list``); ints are accepted where floats are expected. ``choices``, ``minimum`` and
    ``maximum`` restrict the value, and so does ``pattern`` (a regular expression a string
    must match whole, described in words by ``help``); the host validates the user's TOML
    against them and names the file, the key and what is allowed when a value does not fit.
    """

    default: Any
    help: str
    kind: type = str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None


class PluginDescription(NamedTuple):
    """What a plugin tells the host about itself: a summary, the options it accepts, what it needs.

    ``requires`` names the top-level modules the plugin imports when it does its work
    (not when it is registered), and ``extra`` the extra of the plugin's distribution
    that installs them. The host checks that they are installed, on the filesystem and
    without importing them, before it starts a background load, so that a missing library
    is reported at once with ``pip install 'DISTRIBUTION[extra]'``.

    A chunker lists the ``languages`` it splits (names as :func:`aurora.index.languages.language_of`
    gives them) and a ``version`` that changes whenever its chunks would: files it chunked
    with another version are chunked again. ``api_version`` is the
    :data:`~aurora.host.hookspecs.API_VERSION` the plugin was written for; the host refuses
    a plugin written for a contract it does not implement.
    """

    summary: str
    options: Mapping[str, Option] = {}
    requires: tuple[str, ...] = ()
    extra: str = ""
    languages: tuple[str, ...] = ()
    version: str = ""
    api_version: int | None = None


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
    """A loaded embedding model (returned by ``aurora_embedder_load``).

    ``model_id`` is the name vectors are recorded under (see :func:`aurora.semantic.models.identity`);
    two embedders with the same ``model_id`` and ``dimension`` must produce interchangeable
    vectors (the int8 ONNX and the PyTorch all-MiniLM-L6-v2 agree at cosine 0.9997).
    """

    model_id: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> Any:
        """Return a float32 array of shape (len(texts), dimension), rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> Any:
        """Return a float32 vector of shape (dimension,), L2-normalised."""
        ...


class VectorStore(Protocol):
    """A vector table opened by ``aurora_vector_store_open``.

    Rows are keyed by chunk id and carry the content hash of the text their vector was
    made from, so the host can reuse vectors of unchanged text, repair the table after an
    interrupted run, and drop hits whose chunk changed since.
    """

    def rows(self) -> dict[int, str]:
        """Return every stored chunk id with its content hash."""
        ...

    def vectors_for(self, hashes: Sequence[str]) -> dict[str, Any]:
        """Return a stored vector for each of ``hashes`` that has one."""
        ...

    def add(
        self, ids: Sequence[int], hashes: Sequence[str], vectors: Any, metadata: Sequence[Mapping[str, Any]]
    ) -> None:
        """Append rows (``metadata`` holds path, line_start and line_end of each chunk)."""
        ...

    def delete(self, ids: Sequence[int]) -> None:
        """Remove the rows of ``ids``; unknown ids are ignored."""
        ...

    def optimize(self) -> None:
        """Finish a batch of changes: build or refresh an ANN index when it pays, compact."""
        ...

    def search(self, vector: Any, limit: int) -> list[tuple[int, str, float]]:
        """Return up to ``limit`` (chunk id, content hash, cosine similarity), most similar first."""
        ...

    def count(self) -> int:
        """Return the number of stored vectors."""
        ...


class Chunk(NamedTuple):
    """A span of a file's lines (1-based, inclusive) with the symbol it belongs to, if any.

    ``kind`` says what the span is: ``function``, ``class``, ``method``, ``module``
    (code between definitions), ``section`` (Markdown) or ``text`` (a line window).
    ``signature`` is, for a later part of a definition too long for one chunk, the
    definition's first line (``def send(self, request):``): it is indexed with the part,
    so every part says what it belongs to, but it is not part of the part's lines.
    """

    line_start: int
    line_end: int
    text: str
    symbol: str | None
    kind: str
    signature: str | None = None


class ChunkSettings(NamedTuple):
    """The ``[index]`` sizes every chunker receives (``aurora_chunk``)."""

    window_lines: int = 50
    window_overlap: int = 5
    max_chunk_lines: int = 150


class Candidate(NamedTuple):
    """A fused result offered to a reranker (``aurora_rerank``): its score, signals, metadata and text."""

    chunk_id: int
    score: float
    signals: Mapping[str, float]
    path: str
    language: str
    symbol: str | None
    kind: str
    line_start: int
    line_end: int
    text: str


class Reranked(NamedTuple):
    """A reranker's verdict on one candidate: its new score and what changed it.

    ``adjustments`` maps a short reason (``definition``, ``path``, ...) to what it added
    to the score (negative for a penalty); ``aurora search --explain`` shows them.
    """

    chunk_id: int
    score: float
    adjustments: Mapping[str, float] = {}
