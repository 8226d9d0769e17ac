"""Answer a query from an opened index, in named stages.

A search runs :func:`run_search`: :meth:`Searcher.prepare` decides whether the search
wants a model and starts loading it, the caller waits for it (outside any lock) if the
search waits, then :meth:`Searcher.search` runs the stages:

1. **candidates**: each signal ranks the index (lexical BM25; semantic vectors when the
   model is ready, else the search says why and goes on lexically; activation for
   candidates with a history, :mod:`aurora.activation.usage`);
2. **fuse**: the pipeline's fusion plugin combines lexical and semantic scores into one
   ranking, then activation raises each candidate by a share of its own fused score;
3. **rerank**: the pipeline's reranker plugin, if it has one, reorders the top candidates,
   reading their text and metadata;
4. **group**: the top chunks, or with ``--files`` each file's best chunk and its count;
5. **materialise**: chunks become results with snippets, scores and (``--explain``) the
   breakdown of every signal and reranker adjustment.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from aurora.common.layout import LEXICAL_DIRNAME
from aurora.errors import AuroraError, PluginLoadError, UsageError, VectorIndexError
from aurora.host.contract import Candidate, FusedHit, Hit, Reranked
from aurora.host.pipeline import Pipeline
from aurora.host.registry import PluginHost
from aurora.index import lexical
from aurora.index.store import Store, StoredChunk
from aurora.search.filters import path_filter
from aurora.search.options import MODES, SearchRequest, check_request
from aurora.search.query import read_query
from aurora.search.results import SearchResponse, SearchResult, Signal
from aurora.search.snippets import line_filter, make_snippet

if TYPE_CHECKING:
    from aurora.activation.usage import Usage
    from aurora.semantic.source import SemanticOutcome, SemanticSource

#: ``--files`` counts every lexically matching chunk of a file.
ALL_HITS = 10**9
#: Candidates each signal contributes to fusion.
FUSION_DEPTH = 100
#: How each kind of query (:func:`aurora.search.query.read_query`) scales the pipeline's weights:
#: a symbol is found by its name, so embeddings weigh less (docs/ranking.md, "Adaptive fusion").
KIND_WEIGHTS: dict[str, dict[str, float]] = {"symbol": {"semantic": 0.5}, "mixed": {"semantic": 0.75}, "natural": {}}
#: The usage signal, applied after fusion (:func:`_with_activation`).
ACTIVATION = "activation"
#: Fused candidates a reranker sees (the rest keep their fused order below them).
RERANK_DEPTH = 100
#: Results whose snippet shows the lines matching the query; later ones (of a search for thousands) show their
#: first lines, so that one request's snippet work stays bounded (matching is most of a large search's cost).
MATCHED_SNIPPETS = 1000

Waiting = Callable[[str], AbstractContextManager[Any]]


class Plan(NamedTuple):
    """What :meth:`Searcher.prepare` decided about a search's model: its source (None: no model) and whether to wait."""

    semantic: SemanticSource | None
    waits: bool

    def wait(self, timeout: float, waiting: Waiting | None = None) -> None:
        """Wait up to ``timeout`` seconds for the model if the search waits; ``waiting`` wraps the wait (a spinner)."""
        if self.semantic is not None and self.waits:
            from aurora.semantic.source import no_spinner

            self.semantic.wait(timeout, waiting or no_spinner)


class RankedRow(NamedTuple):
    """One row of a ranking on its way to becoming a result: the chunk, its score and how it got there.

    ``matches`` counts the chunks of its file that matched (``--files``), ``contributions``
    each signal's share of the fused score, ``adjustments`` what the reranker changed.
    """

    chunk: StoredChunk
    score: float
    matches: int
    contributions: Mapping[str, float]
    adjustments: Mapping[str, float]


class Ranked(NamedTuple):
    """A chunk id in a ranking after fusion and reranking."""

    chunk_id: int
    score: float
    contributions: Mapping[str, float]
    adjustments: Mapping[str, float] = {}


def run_search(
    searcher: Searcher,
    query: str,
    request: SearchRequest,
    waiting: Waiting | None = None,
    lock: AbstractContextManager[Any] | None = None,
) -> SearchResponse:
    """Run one search end to end: prepare the model, wait for it outside ``lock``, then rank under ``lock``.

    Every front end (CLI, server, MCP, eval, the Python API) searches through here, so
    they all answer alike. ``lock`` serialises the searcher's use (a project shared by
    threads); a search waiting for its model holds up no other.
    """
    guard = lock if lock is not None else nullcontext()
    check_request(query, request)
    with guard:
        plan = searcher.prepare(request)
        if plan.waits:
            searcher.open_lexical()  # the lexical side's start-up overlaps the model's load
    plan.wait(request.wait_timeout, waiting)
    with guard:
        return searcher.search(query, request, plan)


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

    def prepare(self, request: SearchRequest) -> Plan:
        """Decide whether the search wants a model and waits for it; start loading it if it will be used.

        The model starts loading when the search waits for it, or when this process lives
        on to use it later (``request.background``). The caller waits (:meth:`Plan.wait`)
        before :meth:`search`, outside any lock, so that other searches go on meanwhile.
        """
        mode, _ = resolve_mode(self.pipeline, request.mode)
        if mode not in ("semantic", "hybrid"):
            return Plan(None, False)
        semantic = self.semantic_source()
        semantic.prepare(self.store)
        waits = mode == "semantic" or (request.wait if request.wait is not None else semantic.should_wait())
        if waits or request.background:
            semantic.start()
        return Plan(semantic, waits)

    def search(self, query: str, request: SearchRequest, plan: Plan) -> SearchResponse:
        """Rank the index for ``query`` through the stages (module docstring), with the model if it is ready.

        Called by :func:`run_search`, which has checked the request.
        """
        started = time.perf_counter()
        mode, warnings = resolve_mode(self.pipeline, request.mode)
        warnings[:0], self._notices = self._notices, []
        if mode == "hybrid":
            self.pipeline.fusion()  # a misconfigured method is an error even when one signal answers
        with self.store.snapshot():
            index = self._lexical_index()
            terms = set(index.analyze(query))
            weights = query_weights(self.pipeline.weights, query)
            rank, mode, outcome = self._candidates(query, request, mode, plan, index, terms, warnings)
            matching = (lambda: index.search(query, ALL_HITS)) if mode != "semantic" else None
            depth = max(request.limit, FUSION_DEPTH)
            while True:  # with --files or filters, deepen the pool until it holds `limit` rows or everything
                signals, truncated = rank(depth)
                rows = self._group(self._rerank(query, self._fuse(signals, weights), warnings), request, matching)
                if len(rows) >= request.limit or not truncated:
                    break
                depth *= 4
            changed = changed_files(self.root, self.store, {row.chunk.path for row in rows})
        if changed:
            warnings.append(_changed_warning(changed))
        if request.record and self._usage is not None:
            try:
                self._usage.record_results(self.store, [row.chunk.id for row in rows])
            except AuroraError as exc:  # the answer stands; only its use was not recorded
                warnings.append(f"this search was not recorded in the access history: {exc.message}")
        return SearchResponse(
            query=query,
            mode=mode,
            pipeline=self.pipeline.name,
            root=str(self.root),
            files=request.files,
            results=self._materialise(query, terms, index, signals, rows, request),
            warnings=warnings,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            model=_model_report(outcome),
        )

    # --- stage 1: candidates ---------------------------------------------------------

    def _candidates(
        self,
        query: str,
        request: SearchRequest,
        mode: str,
        plan: Plan,
        index: lexical.OpenLexicalIndex,
        terms: set[str],
        warnings: list[str],
    ) -> tuple[Callable[[int], tuple[dict[str, list[Hit]], bool]], str, SemanticOutcome | None]:
        """Decide which signals answer (the model's outcome, the query's vector, computed once).

        Return a function that ranks the index with each signal, ``depth`` hits deep, keeping
        the chunks of the files the request's filters allow (and whether a signal may have
        more hits), the mode that answers and the model's outcome.
        """
        if index.empty:
            warnings.append("the index is empty: no indexable files were found")
        if not terms and not index.empty and mode != "semantic":
            warnings.append("the query has no searchable terms (only stopwords or one-letter words)")
        outcome = None
        vector = None
        if plan.semantic is not None:
            outcome = self._semantic_outcome(plan.semantic, mode, plan.waits, request.wait_timeout)
            if outcome.index is not None:
                vector = outcome.index.embed_query(query)
                if outcome.note:
                    warnings.append(outcome.note)
            else:
                mode = "lexical"
                warnings.append(_degraded(outcome))
        lexical_too = mode != "semantic"
        answering = [name for name, used in (("lexical", lexical_too), ("semantic", vector is not None)) if used]
        if not index.empty and answering and all(self.pipeline.weights.get(name, 1.0) <= 0 for name in answering):
            warnings.append(_weightless_warning(self.pipeline.name, mode, answering))
        allowed = self._allowed(request)

        def rank(depth: int) -> tuple[dict[str, list[Hit]], bool]:
            signals = {"lexical": index.search(query, depth)} if lexical_too else {}
            if vector is not None:
                from aurora.semantic import vectors

                try:
                    signals["semantic"] = vectors.search(self.store, outcome.index.table, vector, depth)
                except VectorIndexError as exc:  # damaged since it opened: rank with what is left
                    note = f"{exc.message}; ranked without it ({exc.hint})"
                    if note not in warnings:
                        warnings.append(note)
            truncated = any(len(hits) >= depth for hits in signals.values())
            if allowed is not None:
                signals = allowed(signals)
            if self._usage is not None and self.pipeline.weights[ACTIVATION] > 0:
                candidates = list({chunk_id for hits in signals.values() for chunk_id, _ in hits})
                try:
                    active = self._usage.signal(self.store, candidates)
                except AuroraError as exc:  # a history damaged while open: rank without it
                    active = []
                    note = f"ranked without activation: {exc.message}"
                    if note not in warnings:
                        warnings.append(note)
                if active:
                    signals[ACTIVATION] = active
            return signals, truncated

        return rank, mode, outcome

    def _allowed(self, request: SearchRequest) -> Callable[[dict[str, list[Hit]]], dict[str, list[Hit]]] | None:
        """Return what keeps only the hits in files the request's filters allow (None: no filters).

        Each chunk's verdict is remembered for the search, so that a deepening pool looks up
        only the chunks it has not seen.
        """
        keeps = path_filter(request.path, request.exclude, request.lang)
        if keeps is None:
            return None
        verdicts: dict[int, bool] = {}

        def allowed(signals: dict[str, list[Hit]]) -> dict[str, list[Hit]]:
            unseen = list({chunk_id for hits in signals.values() for chunk_id, _ in hits} - verdicts.keys())
            by_path: dict[str, bool] = {}
            for chunk_id, path in self.store.paths(unseen).items():
                verdicts[chunk_id] = by_path[path] if path in by_path else by_path.setdefault(path, keeps(path))
            return {name: [hit for hit in hits if verdicts.get(hit[0])] for name, hits in signals.items()}

        return allowed

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

    # --- stage 2: fuse --------------------------------------------------------------

    def _fuse(self, signals: dict[str, list[Hit]], weights: Mapping[str, float]) -> list[FusedHit]:
        """Fuse the signals with the pipeline's method (a lone signal keeps its own scores), then add activation.

        A signal with weight 0 is left out, so that it neither adds chunks nor changes the
        scale. Activation is not fused: it raises a candidate's fused score by
        ``weight * P`` of itself, so that a history never changes the other signals' scale.
        ``weights`` are the pipeline's, adapted to the query (:func:`query_weights`).
        """
        ranked = self._fused_signals(signals)
        activation = ranked.pop(ACTIVATION, [])
        if len(ranked) <= 1:
            name, hits = next(iter(ranked.items()), ("lexical", []))
            fused = [FusedHit(chunk_id, score, {name: score}) for chunk_id, score in hits]
        else:
            plugin, options = self.pipeline.fusion()
            fused = self._host.require(
                plugin, "aurora_fuse", signals=ranked, weights=weights, calibrated=frozenset(), options=options
            )
            if fused and not isinstance(fused[0], FusedHit):
                raise PluginLoadError(
                    f"fusion plugin '{plugin.name}' returned {type(fused[0]).__name__} items, not FusedHit",
                    hint="it was written for an older hook contract; upgrade it (docs/plugins.md)",
                )
        return _with_activation(fused, activation, weights[ACTIVATION]) if activation else fused

    def _fused_signals(self, signals: dict[str, list[Hit]]) -> dict[str, list[Hit]]:
        """Return the signals that fusion combines: those with hits and a weight above 0."""
        weights = self.pipeline.weights
        return {name: hits for name, hits in signals.items() if hits and weights.get(name, 1.0) > 0}

    # --- stage 3: rerank ------------------------------------------------------------

    def _rerank(self, query: str, fused: list[FusedHit], warnings: list[str]) -> list[Ranked]:
        """Let the pipeline's reranker reorder the top :data:`RERANK_DEPTH` fused hits; the rest follow unchanged.

        A reranker that fails or answers with something else than ``Reranked`` records
        leaves the fused order as it was, with a warning: a plugin bug never costs the answer.
        """
        ranking = [Ranked(hit.chunk_id, hit.score, hit.contributions) for hit in fused]
        reranker = self.pipeline.reranker()
        if reranker is None or not fused:
            return ranking
        plugin, options = reranker
        top = fused[:RERANK_DEPTH]
        chunks = self.store.chunks([hit.chunk_id for hit in top])
        candidates = [_candidate(hit, chunks[hit.chunk_id]) for hit in top if hit.chunk_id in chunks]
        try:
            answer = self._host.require(plugin, "aurora_rerank", query=query, candidates=candidates, options=options)
            if not all(isinstance(item, Reranked) for item in answer):
                raise TypeError("it returned other records than Reranked")
        except AuroraError:
            raise
        except Exception as exc:  # any plugin bug: keep the fused order
            note = f"reranker '{plugin.name}' failed ({type(exc).__name__}: {exc}); results are not reranked"
            if note not in warnings:  # said once, however often a --files search deepens its pool
                warnings.append(note)
            return ranking
        by_id = {item.chunk_id: item for item in ranking}
        reranked = [
            Ranked(item.chunk_id, item.score, by_id[item.chunk_id].contributions, dict(item.adjustments))
            for item in answer
            if item.chunk_id in by_id
        ]
        return reranked + ranking[len(top) :]

    # --- stage 4: group --------------------------------------------------------------

    def _group(
        self, ranking: list[Ranked], request: SearchRequest, matching: Callable[[], list[Hit]] | None
    ) -> list[RankedRow]:
        """Return the top ``limit`` chunks, or with ``--files`` each file's best chunk with its count of matches.

        A file's count is of its chunks that match the query lexically (``matching`` lists
        them all, not only those in the pool), or of its chunks in the pool when the search
        has no lexical signal.
        """
        if not request.files:
            top = ranking[: request.limit]
            chunks = self.store.chunks([item.chunk_id for item in top])
            return [_row(chunks[item.chunk_id], item, 1) for item in top if item.chunk_id in chunks]
        paths = self.store.paths([item.chunk_id for item in ranking])
        best: dict[str, Ranked] = {}
        for item in ranking:
            path = paths.get(item.chunk_id)
            if path is not None:
                best.setdefault(path, item)
        top_files = list(best.items())[: request.limit]
        counted = self.store.paths([chunk_id for chunk_id, _ in matching()]) if matching else paths
        counts = Counter(counted.values())
        chunks = self.store.chunks([item.chunk_id for _, item in top_files])
        return [_row(chunks[i.chunk_id], i, max(counts[path], 1)) for path, i in top_files if i.chunk_id in chunks]

    # --- stage 5: materialise --------------------------------------------------------

    def _materialise(
        self,
        query: str,
        terms: set[str],
        index: lexical.OpenLexicalIndex,
        signals: dict[str, list[Hit]],
        rows: list[RankedRow],
        request: SearchRequest,
    ) -> list[SearchResult]:
        """Attach each row's per-signal scores, snippet and (with ``explain``) signal and reranker breakdown."""
        positions = {
            name: {chunk_id: (score, rank) for rank, (chunk_id, score) in enumerate(hits, 1)}
            for name, hits in signals.items()
        }
        fused = len(self._fused_signals(signals)) > 1
        candidates = line_filter(query, terms)
        results = []
        for position, row in enumerate(rows):
            chunk = row.chunk
            scores = {name: found[chunk.id][0] for name, found in positions.items() if chunk.id in found}
            if fused:
                scores["fused"] = row.score - sum(row.adjustments.values())
            explain = None
            if request.explain:
                explain = {
                    name: Signal(*found.get(chunk.id, (None, None)), row.contributions.get(name, 0.0))
                    for name, found in positions.items()
                }
            wanted = terms if position < MATCHED_SNIPPETS else ()  # a bounded request: later ones show first lines
            snippet = make_snippet(
                chunk.text, chunk.line_start, wanted, index.analyze, request.snippet_lines, candidates, request.context
            )
            adjustments = dict(row.adjustments) if request.explain and row.adjustments else None
            results.append(SearchResult(chunk, row.score, scores, snippet, row.matches, explain, adjustments))
        return results

    def _lexical_index(self) -> lexical.OpenLexicalIndex:
        """Return the live lexical generation, reopening it when an indexing run replaced it."""
        role = self.pipeline.require_lexical()
        generation = lexical.live_generation(self.store, role)
        if self._lexical is None or self._lexical.generation != generation:
            folder = self.store.path.parent / LEXICAL_DIRNAME
            self._lexical = lexical.open_generation(self._host, role, folder, generation)
        return self._lexical


def query_weights(weights: Mapping[str, float], query: str) -> dict[str, float]:
    """Return the pipeline's signal weights scaled for the kind of ``query`` (:data:`KIND_WEIGHTS`)."""
    factors = KIND_WEIGHTS[read_query(query).kind]
    return {name: weight * factors.get(name, 1.0) for name, weight in weights.items()}


def _with_activation(fused: list[FusedHit], activation: list[Hit], weight: float) -> list[FusedHit]:
    """Raise each fused hit by ``weight * P`` of its score (P: its retrieval probability), best first again."""
    probability = dict(activation)
    raised = []
    for hit in fused:
        gain = abs(hit.score) * weight * probability.get(hit.chunk_id, 0.0)
        if gain:
            hit = FusedHit(hit.chunk_id, hit.score + gain, {**hit.contributions, ACTIVATION: gain})
        raised.append(hit)
    raised.sort(key=lambda hit: (-hit.score, hit.chunk_id))
    return raised


def _candidate(hit: FusedHit, chunk: StoredChunk) -> Candidate:
    """Return what a reranker sees of a fused hit."""
    return Candidate(
        hit.chunk_id,
        hit.score,
        dict(hit.contributions),
        chunk.path,
        chunk.language,
        chunk.symbol,
        chunk.kind,
        chunk.line_start,
        chunk.line_end,
        chunk.text,
    )


def _row(chunk: StoredChunk, item: Ranked, matches: int) -> RankedRow:
    return RankedRow(chunk, item.score, matches, item.contributions, item.adjustments)


def _degraded(outcome: SemanticOutcome) -> str:
    """Return the warning for a hybrid search answered lexically: what happened, and what to do."""
    assert outcome.error is not None
    hint = f" ({outcome.error.hint})" if outcome.error.hint else ""
    return f"{outcome.error.message}; answered with lexical search{hint}"


def _weightless_warning(pipeline: str, mode: str, signals: list[str]) -> str:
    """Return why a search whose every signal has weight 0 finds nothing, naming the settings to change."""
    settings = " and ".join(f"pipelines.{pipeline}.weights.{name} = 0" for name in signals)
    return (
        f"no results can rank: this {mode} search has only signals of weight 0 ({settings}); "
        "give one a weight above 0 in aurora.toml (`aurora config show` says where it is set)"
    )


def _model_report(outcome: SemanticOutcome | None) -> dict[str, Any] | None:
    """Return the ``model`` field of the JSON output: which model, and in which state it was."""
    if outcome is None:
        return None
    load_s = None if outcome.load_s is None else round(outcome.load_s, 3)
    return {"id": outcome.model, "state": outcome.state, "load_s": load_s}


def changed_files(root: Path, store: Store, paths: set[str]) -> list[str]:
    """Return which of ``paths`` (relative to ``root``) differ on disk from the size and mtime the index holds.

    One ``os.stat`` per file: a file edited, replaced or deleted since indexing is listed.
    """
    if not paths:
        return []
    states = store.file_states(sorted(paths))
    changed = []
    for path in sorted(paths):
        state = states.get(path)
        try:
            info = os.stat(root / path)
        except OSError:
            changed.append(path)
            continue
        if state is None or (info.st_size, info.st_mtime_ns) != (state.size, state.mtime_ns):
            changed.append(path)
    return changed


def _changed_warning(changed: list[str]) -> str:
    """Return the one warning about result files changed since indexing."""
    shown = ", ".join(changed[:3]) + (", ..." if len(changed) > 3 else "")
    files = "1 result file" if len(changed) == 1 else f"{len(changed)} result files"
    return f"{files} changed since indexing ({shown}): run `aurora index`"
