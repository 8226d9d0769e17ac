"""Answer a query from an opened index: rank chunks (or files), attach snippets, report the mode.

A search first starts loading its model when the mode wants one (:meth:`Searcher.start_model`);
its caller waits for the model if the search waits, then the search ranks, with the model
if it is ready or without it, saying why (:mod:`aurora.semantic.source`). Activation
(:mod:`aurora.activation.usage`) joins as a third signal whenever candidates have a history, and
the pipeline's fusion plugin combines the signals.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aurora.common.layout import LEXICAL_DIRNAME
from aurora.config.layers import MODES
from aurora.errors import AuroraError, PluginLoadError, UsageError
from aurora.host.contract import FusedHit, Hit
from aurora.host.pipeline import Pipeline
from aurora.host.registry import PluginHost
from aurora.index import lexical
from aurora.index.store import Store, StoredChunk
from aurora.search.options import SearchRequest, check_request
from aurora.search.results import SearchResponse, SearchResult, Signal
from aurora.search.snippets import line_filter, make_snippet

if TYPE_CHECKING:
    from aurora.activation.usage import Usage
    from aurora.semantic.source import SemanticOutcome, SemanticSource

#: ``--files`` ranks every lexically matching chunk so that each file's count is exact.
ALL_HITS = 10**9
#: Candidates each signal contributes to fusion.
FUSION_DEPTH = 100
#: Signals whose scores are already probabilities (see the fusion hook).
CALIBRATED = frozenset({"activation"})

Waiting = Callable[[str], AbstractContextManager[Any]]


def resolve_mode(pipeline: Pipeline, requested: str | None) -> tuple[str, list[str]]:
    """Return the mode to try (``auto`` resolved) and warnings about the choice."""
    mode = requested or pipeline.mode
    if mode not in MODES:
        raise UsageError(f"unknown mode '{mode}'; allowed: {', '.join(MODES)}")
    if mode == "auto":
        return ("hybrid" if pipeline.has_embedder else "lexical"), []
    if mode != "lexical" and not pipeline.has_embedder:
        return "lexical", [
            f"pipeline '{pipeline.name}' has no embedder, so {mode} search is not available; "
            "answered with lexical search (try --backend fastembed)"
        ]
    return mode, []


class Searcher:
    """Searches one index with one pipeline; keeps the opened indexes (and the model) between queries."""

    def __init__(
        self,
        root: Path,
        store: Store,
        pipeline: Pipeline,
        host: PluginHost,
        usage: Usage | None = None,
        fetch_hint: str = "run `aurora models` to see where Aurora looked",
        notices: list[str] | None = None,
    ) -> None:
        self.root = root
        self.store = store
        self.pipeline = pipeline
        self._host = host
        self._usage = usage
        self._fetch_hint = fetch_hint
        self._lexical: lexical.OpenLexicalIndex | None = None
        self._semantic: SemanticSource | None = None
        self._notices = list(notices or [])  # told once, with the first response

    def start_model(self, request: SearchRequest) -> tuple[SemanticSource | None, bool]:
        """Prepare the search's model, and start loading it if the search will wait for it (or lives on to use it).

        Return the model's source (None when the mode wants no model) and whether the
        search waits for it. The caller waits (:meth:`SemanticSource.wait`) before
        :meth:`search`, outside any lock, so that other searches go on meanwhile.
        """
        mode, _ = resolve_mode(self.pipeline, request.mode)
        if mode not in ("semantic", "hybrid"):
            return None, False
        semantic = self.semantic_source()
        semantic.prepare(self.store)
        wait = mode == "semantic" or (request.wait if request.wait is not None else semantic.should_wait())
        if wait or request.background:
            semantic.start()
        return semantic, wait

    def search(
        self,
        query: str,
        request: SearchRequest,
        waiting: Waiting | None = None,
        model: tuple[SemanticSource | None, bool] | None = None,
    ) -> SearchResponse:
        """Rank the index for ``query``, with the model when it is ready.

        ``model`` is what :meth:`start_model` returned to a caller that has waited
        already (outside its lock: Project.search); without it the model is started and
        waited for here, ``waiting(message)`` wrapping the wait (a spinner).
        """
        started = time.perf_counter()
        check_request(query, request)
        mode, warnings = resolve_mode(self.pipeline, request.mode)
        warnings[:0], self._notices = self._notices, []
        if mode == "hybrid":
            self.pipeline.fusion()  # a misconfigured method is an error even when one signal answers
        if model is not None:
            semantic, wait = model
        else:
            semantic, wait = self.start_model(request)
            if semantic is not None and wait:
                from aurora.semantic.source import no_spinner

                semantic.wait(request.wait_timeout, waiting or no_spinner)
        depth = _depth(mode, request.limit, request.files)
        outcome = None
        with self.store.snapshot():
            index = self._lexical_index()
            if index.empty:
                warnings.append("the index is empty: no indexable files were found")
            terms = set(index.analyze(query))
            if not terms and not index.empty and mode != "semantic":
                warnings.append("the query has no searchable terms (only stopwords or one-letter words)")
            signals = {"lexical": index.search(query, depth)} if mode != "semantic" else {}
            if semantic is not None:
                outcome = self._semantic_outcome(semantic, mode, wait, request.wait_timeout)
                if outcome.index is not None:
                    from aurora.semantic import vectors

                    vector = outcome.index.embed_query(query)
                    signals["semantic"] = vectors.search(self.store, outcome.index.table, vector, depth)
                else:
                    mode = "lexical"
                    warnings.append(_degraded(outcome))
            if self._usage is not None and self.pipeline.weights["activation"] > 0:
                candidates = list({chunk_id for hits in signals.values() for chunk_id, _ in hits[:FUSION_DEPTH]})
                try:
                    active = self._usage.signal(self.store, candidates)
                except AuroraError as exc:  # a history damaged while open: rank without it
                    active = []
                    warnings.append(f"ranked without activation: {exc.message}")
                if active:
                    signals["activation"] = active
            fused = self._fuse(signals)
            ranked = (
                self._best_chunk_per_file(fused, request.limit) if request.files else self._top(fused, request.limit)
            )
        if request.record and self._usage is not None:
            try:
                self._usage.record_results(self.store, [chunk.id for chunk, _, _, _ in ranked])
            except AuroraError as exc:  # the answer stands; only its use was not recorded
                warnings.append(f"this search was not recorded in the access history: {exc.message}")
        return SearchResponse(
            query=query,
            mode=mode,
            pipeline=self.pipeline.name,
            root=str(self.root),
            files=request.files,
            results=self._results(query, terms, index, signals, ranked, request),
            warnings=warnings,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            model=_model_report(outcome),
        )

    def open_lexical(self) -> None:
        """Open the live lexical index now (imports, memory maps, vocabulary), e.g. while a model loads."""
        with self.store.snapshot():
            self._lexical_index()

    def preload(self) -> None:
        """Open the live lexical index and, with an embedder, start loading the model (see Project.preload)."""
        self.open_lexical()
        if self.pipeline.has_embedder:
            semantic = self.semantic_source()
            semantic.prepare(self.store)
            semantic.start()

    def close(self) -> None:
        """Close the store and the access history."""
        self.store.close()
        if self._usage is not None:
            self._usage.close()

    def semantic_source(self) -> SemanticSource:
        """Return the pipeline's model and vectors (loaded in the background on first use)."""
        if self._semantic is None:
            from aurora.semantic.source import SemanticSource

            self._semantic = SemanticSource(self.store.path.parent, self.pipeline, self._host, self._fetch_hint)
        return self._semantic

    def _semantic_outcome(self, semantic: SemanticSource, mode: str, waited: bool, timeout: float) -> SemanticOutcome:
        """Take the model if it is ready; a semantic-only search fails without it."""
        outcome = semantic.outcome(waited, timeout)
        if outcome.index is None and mode == "semantic" and outcome.error is not None:
            raise outcome.error  # nothing else can answer a semantic-only search
        return outcome

    def _fuse(self, signals: dict[str, list[Hit]]) -> list[FusedHit]:
        """Fuse the signals with the pipeline's method; a lone signal keeps its own scores.

        A signal with weight 0 is left out, so that it neither adds chunks nor changes the scale.
        """
        weights = self.pipeline.weights
        ranked = self._fused_signals(signals)
        if len(ranked) <= 1:
            name, hits = next(iter(ranked.items()), ("lexical", []))
            return [FusedHit(chunk_id, score, {name: score}) for chunk_id, score in hits]
        plugin, options = self.pipeline.fusion()
        fused = self._host.require(
            plugin, "aurora_fuse", signals=ranked, weights=weights, calibrated=CALIBRATED, options=options
        )
        if fused and not isinstance(fused[0], FusedHit):
            raise PluginLoadError(
                f"fusion plugin '{plugin.name}' returned {type(fused[0]).__name__} items, not FusedHit",
                hint="it was written for an older hook contract; upgrade it (docs/plugins.md)",
            )
        return fused

    def _fused_signals(self, signals: dict[str, list[Hit]]) -> dict[str, list[Hit]]:
        """Return the signals that fusion combines: those with hits and a weight above 0."""
        weights = self.pipeline.weights
        return {name: hits for name, hits in signals.items() if hits and weights.get(name, 1.0) > 0}

    def _top(self, fused: list[FusedHit], limit: int) -> list[tuple[StoredChunk, float, int, FusedHit]]:
        chunks = self.store.chunks([hit.chunk_id for hit in fused[:limit]])
        return [(chunks[hit.chunk_id], hit.score, 1, hit) for hit in fused[:limit] if hit.chunk_id in chunks]

    def _best_chunk_per_file(self, fused: list[FusedHit], limit: int) -> list[tuple[StoredChunk, float, int, FusedHit]]:
        """Rank files by their best chunk (``fused`` is best first) and count each file's matching chunks."""
        paths = self.store.paths([hit.chunk_id for hit in fused])
        best: dict[str, FusedHit] = {}
        counts: Counter[str] = Counter()
        for hit in fused:
            path = paths.get(hit.chunk_id)
            if path is not None:
                counts[path] += 1
                best.setdefault(path, hit)
        top = list(best.items())[:limit]
        chunks = self.store.chunks([hit.chunk_id for _, hit in top])
        return [(chunks[hit.chunk_id], hit.score, counts[path], hit) for path, hit in top if hit.chunk_id in chunks]

    def _results(
        self,
        query: str,
        terms: set[str],
        index: lexical.OpenLexicalIndex,
        signals: dict[str, list[Hit]],
        ranked: list[tuple[StoredChunk, float, int, FusedHit]],
        request: SearchRequest,
    ) -> list[SearchResult]:
        """Attach each ranked chunk's per-signal scores, snippet and (with ``explain``) signal breakdown."""
        positions = {
            name: {chunk_id: (score, rank) for rank, (chunk_id, score) in enumerate(hits, 1)}
            for name, hits in signals.items()
        }
        fused = len(self._fused_signals(signals)) > 1
        candidates = line_filter(query, terms)
        results = []
        for chunk, score, matches, hit in ranked:
            scores = {name: found[chunk.id][0] for name, found in positions.items() if chunk.id in found}
            if fused:
                scores["fused"] = score
            explain = None
            if request.explain:
                explain = {
                    name: Signal(*found.get(chunk.id, (None, None)), hit.contributions.get(name, 0.0))
                    for name, found in positions.items()
                }
            snippet = make_snippet(
                chunk.text, chunk.line_start, terms, index.analyze, request.snippet_lines, candidates
            )
            results.append(SearchResult(chunk, score, scores, snippet, matches, explain))
        return results

    def _lexical_index(self) -> lexical.OpenLexicalIndex:
        """Return the live lexical generation, reopening it when an indexing run replaced it."""
        role = self.pipeline.require_lexical()
        generation = lexical.live_generation(self.store, role)
        if self._lexical is None or self._lexical.generation != generation:
            folder = self.store.path.parent / LEXICAL_DIRNAME
            self._lexical = lexical.open_generation(self._host, role, folder, generation)
        return self._lexical


def _degraded(outcome: SemanticOutcome) -> str:
    """Return the warning for a hybrid search answered lexically: what happened, and what to do."""
    assert outcome.error is not None
    hint = f" ({outcome.error.hint})" if outcome.error.hint else ""
    return f"{outcome.error.message}; answered with lexical search{hint}"


def _model_report(outcome: SemanticOutcome | None) -> dict[str, Any] | None:
    """Return the ``model`` field of the JSON output: which model, and in which state it was."""
    if outcome is None:
        return None
    load_s = None if outcome.load_s is None else round(outcome.load_s, 3)
    return {"id": outcome.model, "state": outcome.state, "load_s": load_s}


def _depth(mode: str, limit: int, files: bool) -> int:
    """Return how many hits each signal ranks (a pool deep enough for fusion to reorder)."""
    if files:
        return ALL_HITS if mode == "lexical" else max(limit * 10, FUSION_DEPTH)
    return max(limit, FUSION_DEPTH)
