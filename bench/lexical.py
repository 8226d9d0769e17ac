"""Lexical indexing and BM25 on the stdlib corpus: full index, no-change re-index, index load, one query.

    python bench/lexical.py [--runs 5]

Full index: `aurora index` on the corpus with its `.aurora` folder removed (new process).
No-change re-index: `aurora index` again. Load: opening the saved BM25 index through the
plugin in a fresh process (numpy already imported, so the import is not counted).
Query: scoring plus top-10 selection, in process, median over a set of code queries.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

from corpus import ensure_corpus
from measure import AURORA, CODE_QUERIES, arguments, median, runs, save

PROBE = textwrap.dedent(
    """
    import json, sys, time
    import numpy, sqlite3, Stemmer  # imports are not part of the load time
    from pathlib import Path
    from aurora.common import layout
    from aurora.index import lexical
    from aurora.api import Project
    from aurora.index.store import Store
    root = Path(sys.argv[1])
    project = Project(root)
    role = project.pipeline().lexical
    store = Store.open(layout.index_dir(root) / layout.DATABASE_NAME)
    folder = layout.index_dir(root) / layout.LEXICAL_DIRNAME
    started = time.perf_counter()
    index = lexical.open_generation(project.host, role, folder, lexical.live_generation(store, role))
    load = time.perf_counter() - started
    queries = json.loads(sys.argv[2])
    timings = []
    for _ in range(5):
        for query in queries:
            started = time.perf_counter()
            index.search(query, 10)
            timings.append(time.perf_counter() - started)
    timings.sort()
    print(json.dumps({"load_s": load, "query_s": timings[len(timings) // 2], "chunks": store.counts()["chunks"]}))
    """
)


def main() -> None:
    """Measure and print the lexical table."""
    args = arguments(__doc__.splitlines()[0], runs=5).parse_args()
    corpus = ensure_corpus(args.corpus)
    full = []
    for _ in range(args.runs):
        shutil.rmtree(corpus / ".aurora", ignore_errors=True)
        full += runs([AURORA, "index", "-q", str(corpus)], 1, warmup=0)
    no_change = runs([AURORA, "index", "-q", str(corpus)], args.runs)
    probes = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE, str(corpus), json.dumps(CODE_QUERIES)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(args.runs)
    ]
    results = {
        "files": sum(1 for p in corpus.rglob("*") if p.is_file() and ".aurora" not in p.parts),
        "chunks": probes[0]["chunks"],
        "full_index_s": round(median([w for w, _ in full]), 3),
        "full_index_peak_rss_mb": max(r for _, r in full),
        "no_change_reindex_s": round(median([w for w, _ in no_change]), 3),
        "bm25_load_ms": round(1000 * median([p["load_s"] for p in probes]), 2),
        "bm25_query_ms": round(1000 * median([p["query_s"] for p in probes]), 2),
        "runs": args.runs,
    }
    print("| measure | median |\n|---|---|")
    print(f"| corpus | {results['files']} files, {results['chunks']:,} chunks |")
    full_index = f"{results['full_index_s']:.2f} s (peak RSS {results['full_index_peak_rss_mb']} MB)"
    print(f"| full lexical index (new process) | {full_index} |")
    print(f"| no-change re-index (new process) | {results['no_change_reindex_s']:.2f} s |")
    print(f"| BM25 index load | {results['bm25_load_ms']:.1f} ms |")
    print(f"| BM25 query (score + top 10) | {results['bm25_query_ms']:.2f} ms |")
    print(f"\nsaved {save('lexical', results, args.results)}")


if __name__ == "__main__":
    main()
