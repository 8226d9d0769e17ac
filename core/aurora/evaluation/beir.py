"""``aurora eval``: run a pipeline over a BEIR-format dataset and score it with trec_eval's measures.

The corpus goes through the same indexer, store and plugins as a project (one chunk
per document, the title indexed with the text); every query goes through the same
:class:`~aurora.search.engine.Searcher`. Metrics come from pytrec_eval (trec_eval's own code):
nDCG@10 and Recall@100, averaged over every query of the qrels split, a query that
returns nothing counting as 0 (trec_eval ``-c``).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aurora.cli.progress import Progress
from aurora.common.layout import DATABASE_NAME, index_dir
from aurora.errors import AuroraError, UsageError
from aurora.evaluation.measures import check_scorable, eval_request, latency_percentiles
from aurora.host.contract import Chunk
from aurora.host.pipeline import Pipeline
from aurora.host.registry import PluginHost
from aurora.index.indexer import index_documents
from aurora.index.sources import SourceFile, content_hash, new_chunk
from aurora.index.store import FileState, Store
from aurora.search.engine import Searcher, run_search

#: trec_eval measure -> report field. pytrec_eval reports "ndcg_cut.10" as "ndcg_cut_10".
MEASURES = {"ndcg_cut.10": "ndcg_at_10", "recall.100": "recall_at_100"}
RANKING_DEPTH = 100


@dataclass
class EvalReport:
    """The scores and timings of one evaluation run."""

    dataset: str
    split: str
    pipeline: str
    mode: str
    documents: int
    queries: int
    ndcg_at_10: float
    recall_at_100: float
    latency_p50_ms: float
    latency_p95_ms: float
    index_s: float

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return asdict(self)

    def text(self) -> str:
        """Return the report as aligned lines for a terminal."""
        return "\n".join(
            [
                f"{self.dataset} ({self.split}): {self.queries:,} queries, {self.documents:,} documents, "
                f"pipeline {self.pipeline}, mode {self.mode}",
                f"nDCG@10      {self.ndcg_at_10:.4f}",
                f"Recall@100   {self.recall_at_100:.4f}",
                f"latency      p50 {self.latency_p50_ms:.1f} ms   p95 {self.latency_p95_ms:.1f} ms",
                f"indexing     {self.index_s:.1f} s",
            ]
        )


def evaluate(
    dataset: Path,
    split: str,
    pipeline: Pipeline,
    host: PluginHost,
    mode: str | None,
    progress: Progress,
    max_queries: int | None = None,
    store_dir: Path | None = None,
) -> EvalReport:
    """Index ``dataset``'s corpus (in ``store_dir``, or a temporary folder) and score ``split``."""
    evaluator_module = _pytrec_eval()
    _check_layout(dataset)
    qrels = load_qrels(dataset, split)
    queries = {qid: text for qid, text in load_queries(dataset).items() if qid in qrels}
    if not queries:
        raise UsageError(f"none of the {len(qrels):,} queries judged in split '{split}' is in queries.jsonl")
    qrels = {qid: qrels[qid] for qid in queries}
    if max_queries:
        queries = dict(list(queries.items())[:max_queries])
        qrels = {qid: qrels[qid] for qid in queries}
    with tempfile.TemporaryDirectory(prefix="aurora-eval-") as scratch:
        root = store_dir or Path(scratch)
        report = index_documents(index_dir(root), load_corpus(dataset), pipeline, host, progress)
        store = Store.open(index_dir(root) / DATABASE_NAME)
        try:
            run, latencies, mode_used = _run_queries(Searcher(root, store, pipeline, host), queries, mode, progress)
        finally:
            store.close()
    evaluator = evaluator_module.RelevanceEvaluator(qrels, set(MEASURES))
    per_query = evaluator.evaluate(run)
    means = {
        name: sum(per_query.get(qid, {}).get(measure.replace(".", "_"), 0.0) for qid in qrels) / len(qrels)
        for measure, name in MEASURES.items()
    }
    p50, p95 = latency_percentiles(latencies)
    return EvalReport(
        dataset=dataset.name,
        split=split,
        pipeline=pipeline.name,
        mode=mode_used,
        documents=report.files,
        queries=len(queries),
        ndcg_at_10=means["ndcg_at_10"],
        recall_at_100=means["recall_at_100"],
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        index_s=report.elapsed_s,
    )


def _run_queries(
    searcher: Searcher, queries: dict[str, str], mode: str | None, progress: Progress
) -> tuple[dict[str, dict[str, float]], list[float], str]:
    run: dict[str, dict[str, float]] = {}
    latencies = []
    mode_used = mode or searcher.pipeline.mode
    request = eval_request(RANKING_DEPTH, mode)
    with progress.task("Querying", total=len(queries), unit="queries") as advance:
        for qid, text in queries.items():
            advance(1)
            if not text.strip():
                run[qid] = {}
                continue
            started = time.perf_counter()
            response = run_search(searcher, text, request)
            check_scorable(response, mode_used)
            latencies.append((time.perf_counter() - started) * 1000)
            run[qid] = {result.chunk.path: result.score for result in response.results}
            mode_used = response.mode
    return run, latencies, mode_used


def load_corpus(dataset: Path) -> Iterator[SourceFile]:
    """Yield each corpus document as a one-chunk source (title indexed as context)."""
    for doc_id, record in _read_jsonl(dataset / "corpus.jsonl"):
        title, text = record.get("title") or "", record.get("text") or ""
        body = text if text.strip() else title
        chunk = Chunk(1, body.count("\n") + 1, body, title or None, "document")
        state = FileState(len(body), 0, content_hash(f"{title}\n{body}".encode()))
        yield SourceFile(doc_id, state, "text", [new_chunk(chunk, title)])


def load_queries(dataset: Path) -> dict[str, str]:
    """Return the queries by id."""
    return {qid: str(record.get("text") or "") for qid, record in _read_jsonl(dataset / "queries.jsonl")}


def load_qrels(dataset: Path, split: str) -> dict[str, dict[str, int]]:
    """Return the relevance judgements of ``split`` (query id -> doc id -> grade)."""
    path = dataset / "qrels" / f"{split}.tsv"
    if not path.is_file():
        splits = sorted(p.stem for p in (dataset / "qrels").glob("*.tsv"))
        raise UsageError(f"{dataset} has no '{split}' split; available: {', '.join(splits) or 'none'}")
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.strip().split("\t")
            if fields == [""]:
                continue
            try:
                query_id, doc_id, grade = fields
                qrels.setdefault(query_id, {})[doc_id] = int(float(grade))
            except ValueError:
                if number == 1:
                    continue  # the header line
                raise UsageError(
                    f"{path}:{number}: expected query-id, corpus-id and an integer score separated by tabs"
                ) from None
    if not qrels:
        raise UsageError(f"{path} has no relevance judgements")
    return qrels


def _check_layout(dataset: Path) -> None:
    for name in ("corpus.jsonl", "queries.jsonl", "qrels"):
        if not (dataset / name).exists():
            raise UsageError(
                f"{dataset} is not a BEIR dataset folder: {name} is missing",
                hint="it needs corpus.jsonl, queries.jsonl and qrels/<split>.tsv",
            )


def _read_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (``_id``, record) for every non-blank line of a BEIR JSON-lines file."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
            if not isinstance(record, dict) or "_id" not in record:
                raise UsageError(f"{path}:{number}: expected an object with an _id")
            yield str(record["_id"]), record


def _pytrec_eval() -> Any:
    try:
        import pytrec_eval
    except ImportError:
        raise AuroraError(
            "aurora eval needs pytrec_eval (trec_eval's measures)", hint="pip install 'aurora-search[eval]'"
        ) from None
    return pytrec_eval
