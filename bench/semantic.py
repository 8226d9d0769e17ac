"""Semantic and hybrid search over the stdlib corpus: warm query latency, ANN recall, index size, indexing RSS.

    python bench/semantic.py [--runs 5] [--backend fastembed] [--reindex]

Embeds the corpus with the backend unless its vectors are there (`--reindex` forces it;
that run's wall time and peak RSS are reported). Latency is measured in one warm
process, after one search per query has embedded it: later searches take the query's
vector from the query-embedding cache, so their time excludes the embedding; median
over the queries and runs. Accesses are not recorded, so every run ranks alike. ANN recall@10
and @100 (of the 100 candidates a search asks for) compare the
vector index's answers with an exact search over every stored vector.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

from corpus import ensure_corpus
from measure import AURORA, CODE_QUERIES, arguments, run_once, save

PROBE = textwrap.dedent(
    """
    import json, statistics, sys, time
    from pathlib import Path
    import numpy as np
    import aurora
    root, backend, runs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    queries = json.loads(sys.argv[4])
    project = aurora.open(root)
    for query in queries:  # load the model, open the indexes, embed each query once (kept in the LRU cache)
        project.search(query, backend=backend, mode="hybrid", wait=True, record=False)
    searcher = project._searcher(None, backend).searcher
    index = searcher.semantic_source().outcome(False, 60).index
    embedder, table = index.embedder, index.table
    timings = {"semantic": [], "hybrid": [], "lexical": []}
    for _ in range(runs):
        for query in queries:
            for mode in timings:
                started = time.perf_counter()
                project.search(query, backend=backend, mode=mode, record=False)
                timings[mode].append(time.perf_counter() - started)
    import lancedb
    entry = next(iter(json.loads(v) for k, v in searcher.store.meta_items("vectors:")))
    data = lancedb.connect(entry["uri"]).open_table(entry["table"]).to_arrow()
    ids = np.asarray(data["id"].to_pylist())
    matrix = data["vector"].combine_chunks().flatten().to_numpy().reshape(len(ids), -1)
    recalls = {10: [], 100: []}
    for query in queries:  # searched as a search does: 100 candidates (aurora.search.engine.FUSION_DEPTH)
        vector = embedder.embed_query(query)
        exact = ids[np.argsort(-(matrix @ vector))[:100]]
        found = [hit[0] for hit in table.search(vector, 100)]
        for depth, values in recalls.items():
            values.append(len(set(exact[:depth]) & set(found[:depth])) / depth)
    print(json.dumps({
        "ms": {mode: statistics.median(values) * 1000 for mode, values in timings.items()},
        "recall_at_10": statistics.mean(recalls[10]),
        "recall_at_100": statistics.mean(recalls[100]),
        "vectors": table.count(),
        "indexed": table.indexed,
    }))
    """
)


def folder_size(path) -> int:
    """Return the bytes of every file below ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    """Build if needed, then measure and print the table."""
    parser = arguments(__doc__.splitlines()[0], runs=5)
    parser.add_argument("--backend", default="fastembed", choices=["fastembed", "sentence-transformers"])
    parser.add_argument("--reindex", action="store_true", help="embed the corpus again, and report that run")
    args = parser.parse_args()
    corpus = ensure_corpus(args.corpus)
    built = None
    vectors = corpus / ".aurora" / "vectors"
    if args.reindex or not any(vectors.glob("*.lance")):
        subprocess.run([AURORA, "index", "-q", str(corpus)], check=True)
        shutil.rmtree(vectors, ignore_errors=True)
        wall, rss = run_once([AURORA, "index", "-q", "-b", args.backend, str(corpus)])
        built = {"index_s": round(wall, 1), "peak_rss_mb": rss}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(corpus), args.backend, str(args.runs), json.dumps(CODE_QUERIES)],
        capture_output=True,
        text=True,
    )
    if probe.returncode:
        raise SystemExit(probe.stderr)
    measured = json.loads(probe.stdout)
    results = {
        "backend": args.backend,
        "vectors": measured["vectors"],
        "ann_index": measured["indexed"],
        "warm_ms_excluding_query_embedding": {k: round(v, 2) for k, v in measured["ms"].items()},
        "ann_recall_at_10": round(measured["recall_at_10"], 3),
        "ann_recall_at_100": round(measured["recall_at_100"], 3),
        "index_size_mb": {
            "total": round(folder_size(corpus / ".aurora") / 1e6, 1),
            "vectors": round(folder_size(vectors) / 1e6, 1),
        },
        "embedding_run": built,
        "runs": args.runs,
    }
    ms = results["warm_ms_excluding_query_embedding"]
    print(f"| measure ({args.backend}, {results['vectors']:,} vectors) | value |\n|---|---|")
    print(f"| warm semantic query, excluding its embedding | {ms['semantic']:.1f} ms |")
    print(f"| warm hybrid query, excluding its embedding | {ms['hybrid']:.1f} ms |")
    print(f"| warm lexical query (same process) | {ms['lexical']:.1f} ms |")
    print(
        f"| ANN index in use | {results['ann_index']} (vs exact search: recall@10 {results['ann_recall_at_10']:.3f}, "
        f"recall@100 {results['ann_recall_at_100']:.3f}) |"
    )
    size = results["index_size_mb"]
    print(f"| index size on disk | {size['total']} MB (vectors {size['vectors']} MB) |")
    if built:
        command = f"`aurora index -b {args.backend}`"
        print(f"| full embedding run ({command}) | {built['index_s']} s, peak RSS {built['peak_rss_mb']} MB |")
    print(f"\nsaved {save('semantic-' + args.backend, results, args.results)}")


if __name__ == "__main__":
    main()
