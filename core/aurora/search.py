"""Answer a query from an opened index: rank chunks (or files), attach snippets, report the mode."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from aurora import lexical
from aurora.config import MODES
from aurora.contract import Hit
from aurora.errors import UsageError
from aurora.layout import LEXICAL_DIRNAME
from aurora.pipeline import Pipeline
from aurora.plugins import PluginHost
from aurora.snippets import SnippetLine, make_snippet
from aurora.store import Store, StoredChunk

#: ``--files`` ranks every matching chunk so that each file's count is exact.
ALL_HITS = 10**9


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

    def search(
        self, query: str, limit: int, mode: str | None = None, files: bool = False, snippet_lines: int = 3
    ) -> SearchResponse:
        """Rank the index for ``query`` and return the top ``limit`` chunks or files."""
        started = time.perf_counter()
        if not query.strip():
            raise UsageError("the query is empty", hint='give words to search for, e.g. aurora search "parse config"')
        if limit < 1:
            raise UsageError(f"--limit must be at least 1 (got {limit})")
        requested = mode or self.pipeline.mode
        if requested not in MODES:
            raise UsageError(f"unknown mode '{requested}'; allowed: {', '.join(MODES)}")
        warnings = []
        if requested != "lexical":
            warnings.append(
                f"pipeline '{self.pipeline.name}' has no embedder, so {requested} search is not available; "
                "answered with lexical search"
            )
        with self.store.snapshot():
            index = self._lexical_index()
            if index.empty:
                warnings.append("the index is empty: no indexable files were found")
            terms = set(index.analyze(query))
            if not terms and not index.empty:
                warnings.append("the query has no searchable terms (only stopwords or one-letter words)")
            if files:
                ranked = self._best_chunk_per_file(index.search(query, ALL_HITS), limit)
            else:
                hits = index.search(query, limit)
                chunks = self.store.chunks([chunk_id for chunk_id, _ in hits])
                ranked = [(chunks[chunk_id], score, 1) for chunk_id, score in hits if chunk_id in chunks]
        results = [
            SearchResult(
                chunk=chunk,
                score=score,
                scores={"lexical": score},
                snippet=make_snippet(chunk.text, chunk.line_start, terms, index.analyze, snippet_lines),
                matches=matches,
            )
            for chunk, score, matches in ranked
        ]
        return SearchResponse(
            query=query,
            mode="lexical",
            pipeline=self.pipeline.name,
            root=str(self.root),
            files=files,
            results=results,
            warnings=warnings,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

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
