"""Activation in a working session: what the activation weight gains and costs, on a BEIR set.

    python bench/activation.py [DATA_DIR] [--dataset scifact] [--weight 0 --weight 0.5 ...]

A simulated session over the set's judged queries, lexical pipeline, default fusion,
for each activation weight: every query is searched once with its top results
recorded as shown (as `aurora search` does), and for every other query the user marks
the relevant documents as useful (`aurora feedback`). Then every query is searched
again, recording nothing, and nDCG@10 is computed separately for the queries that got
feedback (activation should lift their answers) and for the others (whose candidates
now carry the activation of unrelated earlier results: the noise a weight must not let
dominate). Weight 0 is the session without activation.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from measure import RESULTS, save

from aurora.activation.usage import HISTORY_NAME, chunk_key
from aurora.api import Project
from aurora.cli.progress import Progress
from aurora.common.layout import DATABASE_NAME, index_dir
from aurora.evaluation.beir import _pytrec_eval, load_corpus, load_qrels, load_queries
from aurora.index.indexer import index_documents
from aurora.index.store import Store

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)


def session(root: Path, weight: float, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> dict[str, dict]:
    """Run the session at ``weight``; return the second pass's run (query -> doc -> score)."""
    (root / "aurora.toml").write_text(f"[pipelines.default.weights]\nactivation = {weight}\n", encoding="utf-8")
    for suffix in ("", "-wal", "-shm"):
        (index_dir(root) / f"{HISTORY_NAME}{suffix}").unlink(missing_ok=True)
    project = Project(root)
    usage = project.usage()
    store = Store.open(index_dir(root) / DATABASE_NAME)
    try:
        for number, (qid, text) in enumerate(queries.items()):
            project.search(text, limit=10, record=True)
            if number % 2 == 0 and usage is not None:
                useful = [chunk for doc, grade in qrels[qid].items() if grade > 0 for chunk in store.chunks_at(doc)]
                usage.record_feedback([chunk_key(c.path, c.symbol, c.line_start) for c in useful])
        return {
            qid: {r.chunk.path: r.score for r in project.search(text, limit=100, record=False).results}
            for qid, text in queries.items()
        }
    finally:
        store.close()
        if usage is not None:
            usage.close()
        project.close()


def main() -> None:
    """Run the sessions and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--dataset", default="scifact")
    parser.add_argument("--split", default="test")
    parser.add_argument("--weight", type=float, action="append")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    dataset = args.data / args.dataset
    qrels = load_qrels(dataset, args.split)
    queries = {qid: text for qid, text in load_queries(dataset).items() if qid in qrels and text.strip()}
    evaluator = _pytrec_eval().RelevanceEvaluator({q: qrels[q] for q in queries}, {"ndcg_cut.10"})
    feedback = {qid for number, qid in enumerate(queries) if number % 2 == 0}
    rows = []
    print("| activation weight | nDCG@10, queries with feedback | nDCG@10, the others | all |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        project = Project(root)
        index_documents(index_dir(root), load_corpus(dataset), project.pipeline(), project.host, Progress(False))
        for weight in args.weight or WEIGHTS:
            scores = evaluator.evaluate(session(root, weight, queries, qrels))

            def mean(group: set[str], scores: dict = scores) -> float:
                return sum(scores.get(qid, {}).get("ndcg_cut_10", 0.0) for qid in group) / len(group)

            row = {
                "weight": weight,
                "ndcg_feedback": round(mean(feedback), 4),
                "ndcg_others": round(mean(set(queries) - feedback), 4),
                "ndcg_all": round(mean(set(queries)), 4),
            }
            rows.append(row)
            print(f"| {weight:g} | {row['ndcg_feedback']:.4f} | {row['ndcg_others']:.4f} | {row['ndcg_all']:.4f} |")
    print(f"\nsaved {save(f'activation-{args.dataset}', {'rows': rows}, args.results)}")


if __name__ == "__main__":
    main()
