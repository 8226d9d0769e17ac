"""Answer a query from an opened index: rank chunks (or files), attach snippets, report the mode."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from aurora import lexical
from aurora.config import MODES
from aurora.contract import Embedder, Hit, VectorStore
from aurora.errors import UsageError
from aurora.layout import LEXICAL_DIRNAME
from aurora.pipeline import Pipeline
from aurora.plugins import PluginHost
from aurora.snippets import SnippetLine, line_filter, make_snippet
from aurora.store import Store, StoredChunk

#: ``--files`` ranks every lexically matching chunk so that each file's count is exact.
ALL_HITS = 10**9
#: Candidates each signal contributes to hybrid fusion.
FUSION_DEPTH = 100


class SearchResult(NamedTuple):
    """A ranked chunk (or, with ``--files``, the best chunk of a file)."""

    chunk: StoredChunk
    score: float
    scores: dict[str, float]
    snippet: list[SnippetLine]
    matches: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Return the result in the documented JSON shape (docs/json-output.md)."""
        return {
            "path": self.chunk.path,
            "line_start": self.chunk.line_start,
            "line_end": self.chunk.line_end,
            "symbol": self.chunk.symbol,
            "kind": self.chunk.kind,
            "language": self.chunk.language,
            "score": round(self.score, 6),
            "scores": {name: round(value, 6) for name, value in self.scores.items()},
            "snippet": "\n".join(line.text for line in self.snippet),
            "snippet_lines": [line.number for line in self.snippet],
            "matches": self.matches,
        }


class SearchResponse(NamedTuple):
    """Everything a search answers with; ``to_dict()`` is the ``--json`` document."""

    query: str
    mode: str
    pipeline: str
    root: str
    files: bool
    results: list[SearchResult]
    warnings: list[str]
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        """Return the response in the documented JSON shape (docs/json-output.md)."""
        return {
            "query": self.query,
            "mode": self.mode,
            "pipeline": self.pipeline,
            "root": self.root,
            "files": self.files,
            "warnings": self.warnings,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "results": [result.to_dict() for result in self.results],
        }


class Searcher:
    """Searches one index with one pipeline; keeps the opened indexes between queries."""

    def __init__(self, root: Path, store: Store, pipeline: Pipeline, host: PluginHost) -> None:
        self.root = root
        self.store = store
        self.pipeline = pipeline
        self._host = host
        self._lexical: lexical.OpenLexicalIndex | None = None
        self._semantic: tuple[Embedder, VectorStore] | None = None

    def search(
        self, query: str, limit: int, mode: str | None = None, files: bool = False, snippet_lines: int = 3
    ) -> SearchResponse:
        """Rank the index for ``query`` and return the top ``limit`` chunks or files."""
        started = time.perf_counter()
        if not query.strip():
            raise UsageError("the query is empty", hint='give words to search for, e.g. aurora search "parse config"')
        if limit < 1:
            raise UsageError(f"--limit must be at least 1 (got {limit})")
        mode, warnings = self._mode(mode)
        with self.store.snapshot():
            index = self._lexical_index()
            if index.empty:
                warnings.append("the index is empty: no indexable files were found")
            terms = set(index.analyze(query))
            if not terms and not index.empty and mode != "semantic":
                warnings.append("the query has no searchable terms (only stopwords or one-letter words)")
            signals = self._signals(index, query, mode, _depth(mode, limit, files))
            fused = self._fuse(signals) if mode == "hybrid" else next(iter(signals.values()))
            ranked = self._best_chunk_per_file(fused, limit) if files else self._top(fused, limit)
        per_signal = {name: dict(hits) for name, hits in signals.items()}
        candidates = line_filter(query, terms)
        results = [
            SearchResult(
                chunk=chunk,
                score=score,
                scores=_scores(chunk.id, per_signal, score if mode == "hybrid" else None),
                snippet=make_snippet(chunk.text, chunk.line_start, terms, index.analyze, snippet_lines, candidates),
                matches=matches,
            )
            for chunk, score, matches in ranked
        ]
        return SearchResponse(
            query=query,
            mode=mode,
            pipeline=self.pipeline.name,
            root=str(self.root),
            files=files,
            results=results,
            warnings=warnings,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def _mode(self, requested: str | None) -> tuple[str, list[str]]:
        """Return the mode that will answer (``auto`` resolved) and warnings about the choice."""
        mode = requested or self.pipeline.mode
        if mode not in MODES:
            raise UsageError(f"unknown mode '{mode}'; allowed: {', '.join(MODES)}")
        if mode == "auto":
            return ("hybrid" if self.pipeline.has_embedder else "lexical"), []
        if mode != "lexical" and not self.pipeline.has_embedder:
            return "lexical", [
                f"pipeline '{self.pipeline.name}' has no embedder, so {mode} search is not available; "
                "answered with lexical search (try --backend fastembed)"
            ]
        return mode, []

    def _signals(self, index: lexical.OpenLexicalIndex, query: str, mode: str, depth: int) -> dict[str, list[Hit]]:
        """Rank the index with each signal the mode uses, best first."""
        signals = {}
        if mode in ("lexical", "hybrid"):
            signals["lexical"] = index.search(query, depth)
        if mode in ("semantic", "hybrid"):
            from aurora import vectors

            embedder, table = self._semantic_index()
            signals["semantic"] = vectors.search(self.store, table, embedder.embed_query(query), depth)
        return signals

    def _fuse(self, signals: dict[str, list[Hit]]) -> list[Hit]:
        plugin, options = self.pipeline.fusion()
        return self._host.require(plugin, "aurora_fuse", signals=signals, weights={}, options=options)

    def _top(self, hits: list[Hit], limit: int) -> list[tuple[StoredChunk, float, int]]:
        chunks = self.store.chunks([chunk_id for chunk_id, _ in hits[:limit]])
        return [(chunks[chunk_id], score, 1) for chunk_id, score in hits[:limit] if chunk_id in chunks]

    def _semantic_index(self) -> tuple[Embedder, VectorStore]:
        """Return the embedder and vector table, opening them on first use."""
        if self._semantic is None:
            from aurora import vectors

            role = self.pipeline.semantic(self.store.path.parent)
            table, dimension = vectors.open_for_search(self.store, self._host, role)
            embedder = vectors.load_embedder(self._host, role, vectors.locate(self._host, role))
            vectors.check_dimension(embedder, dimension)
            self._semantic = (embedder, table)
        return self._semantic

    def _best_chunk_per_file(self, hits: list[Hit], limit: int) -> list[tuple[StoredChunk, float, int]]:
        """Rank files by their best chunk (``hits`` are best first) and count each file's matching chunks."""
        paths = self.store.paths([chunk_id for chunk_id, _ in hits])
        best: dict[str, Hit] = {}
        counts: Counter[str] = Counter()
        for chunk_id, score in hits:
            path = paths.get(chunk_id)
            if path is not None:
                counts[path] += 1
                best.setdefault(path, (chunk_id, score))
        top = list(best.items())[:limit]
        chunks = self.store.chunks([chunk_id for _, (chunk_id, _) in top])
        return [(chunks[chunk_id], score, counts[path]) for path, (chunk_id, score) in top if chunk_id in chunks]

    def _lexical_index(self) -> lexical.OpenLexicalIndex:
        """Return the live lexical generation, reopening it when an indexing run replaced it."""
        role = self.pipeline.require_lexical()
        generation = lexical.live_generation(self.store, role)
        if self._lexical is None or self._lexical.generation != generation:
            folder = self.store.path.parent / LEXICAL_DIRNAME
            self._lexical = lexical.open_generation(self._host, role, folder, generation)
        return self._lexical


def _depth(mode: str, limit: int, files: bool) -> int:
    """Return how many hits each signal ranks."""
    if files:
        return ALL_HITS if mode == "lexical" else max(limit * 10, FUSION_DEPTH)
    return max(limit, FUSION_DEPTH) if mode == "hybrid" else limit


def _scores(chunk_id: int, per_signal: dict[str, dict[int, float]], fused: float | None) -> dict[str, float]:
    """Return the score of each signal that ranked the chunk, and the fused score."""
    scores = {name: hits[chunk_id] for name, hits in per_signal.items() if chunk_id in hits}
    if fused is not None:
        scores["fused"] = fused
    return scores
