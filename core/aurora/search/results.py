"""What a search answers with: ranked results, their signals and snippets, and the response around them."""

from __future__ import annotations

from typing import Any, NamedTuple

from aurora.index.store import StoredChunk
from aurora.search.snippets import SnippetLine


class Signal(NamedTuple):
    """How one signal ranked a result (``--explain``): its raw score and rank, and its share of the fused score."""

    score: float | None
    rank: int | None
    contribution: float


class SearchResult(NamedTuple):
    """A ranked chunk (or, with ``--files``, the best chunk of a file)."""

    chunk: StoredChunk
    score: float
    scores: dict[str, float]
    snippet: list[SnippetLine]
    matches: int = 1
    explain: dict[str, Signal] | None = None
    adjustments: dict[str, float] | None = None  # what the reranker changed (``--explain``)

    def to_dict(self) -> dict[str, Any]:
        """Return the result in the documented JSON shape (docs/json-output.md)."""
        document = {
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
        if self.explain is not None:
            document["explain"] = {
                name: {
                    "score": None if signal.score is None else round(signal.score, 6),
                    "rank": signal.rank,
                    "contribution": round(signal.contribution, 6),
                }
                for name, signal in self.explain.items()
            }
        if self.adjustments is not None:
            document["rerank"] = {reason: round(value, 6) for reason, value in self.adjustments.items()}
        return document


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
    model: dict[str, Any] | None = None
    answered_by: str = "process"  # "server" (aurora serve), "mcp" (aurora mcp) or "process" (this one)

    def to_dict(self) -> dict[str, Any]:
        """Return the response in the documented JSON shape (docs/json-output.md)."""
        return {
            "query": self.query,
            "mode": self.mode,
            "pipeline": self.pipeline,
            "root": self.root,
            "files": self.files,
            "warnings": self.warnings,
            "model": self.model,
            "answered_by": self.answered_by,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "results": [result.to_dict() for result in self.results],
        }
