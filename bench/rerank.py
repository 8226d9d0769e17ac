"""What the code reranker costs: alone on 100 candidates, and in whole searches with and without it.

    python bench/rerank.py [DATA_DIR] [--trees DIR] [--repos a,b] [--rounds 5]

Each repository of the code-search set (default: the three with the most chunks among
a fixed choice) is indexed once into a temporary folder. Its annotated queries are
searched with the reranker removed to collect each query's top 100 fused candidates
(with their text and metadata, as the search engine hands them over), and the ``code``
reranker's hook is then timed alone on them. Whole in-process searches (``limit`` 10)
are timed with and without the reranker, alternating query by query, so that load on
the machine falls on both alike. Prints medians and writes bench/results/rerank.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from codesearch import DEFAULT_DATA, unpack
from measure import NO_RERANKER, RESULTS, save

import aurora
from aurora.evaluation.codesearch import benchmark_folder, load_set
from aurora.plugin import Candidate
from aurora.search.results import SearchResult

DEFAULT_REPOS = "abseil-cpp,laravel-framework,cats"
RANKED = "[activation]\nenabled = false\n"
UNRANKED = RANKED + NO_RERANKER


def main() -> None:
    """Time the reranker on each repository and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--trees", type=Path, help="folder holding repos/<name>/ (default: unpack into bench/corpus)")
    parser.add_argument("--repos", default=DEFAULT_REPOS)
    parser.add_argument("--rounds", type=int, default=5, help="timings of the reranker per query (median kept)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    trees = args.trees or unpack(args.data)
    codeset = load_set(args.data, args.repos.split(","))
    rows = []
    with tempfile.TemporaryDirectory(prefix="aurora-bench-rerank-") as scratch:
        os.environ["XDG_CONFIG_HOME"] = str(Path(scratch) / "config")  # no user configuration
        for repo in codeset.repos:
            root = Path(scratch) / repo.name
            part = benchmark_folder(trees / "repos" / repo.name, repo)
            shutil.copytree(trees / "repos" / repo.name / part, root / part)
            rows.append(measure(root, [query.text for query in repo.queries], args.rounds) | {"repo": repo.name})
    print("| repository | chunks | queries | reranker alone, p50 (ms) | search p50 without / with (ms) |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['repo']} | {row['chunks']:,} | {row['queries']} | {row['rerank_p50_ms']:.2f} | "
            f"{row['search_p50_ms']['without']:.1f} / {row['search_p50_ms']['with']:.1f} |"
        )
    print(f"saved {save('rerank', {'rows': rows, 'rounds': args.rounds}, args.results)}")


def measure(root: Path, queries: list[str], rounds: int) -> dict[str, object]:
    """Index ``root``; return the reranker's median time on 100 candidates and search medians without/with it."""
    (root / "aurora.toml").write_text(UNRANKED, encoding="utf-8")
    report = aurora.open(root).index()
    unranked = aurora.open(root)
    reranker = unranked.host.load("reranker", "code")
    description = unranked.host.call(reranker, "aurora_describe")
    options = {name: option.default for name, option in description.options.items()}
    alone = []
    for query in queries:
        candidates = [_candidate(result) for result in unranked.search(query, limit=100, record=False).results]
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            unranked.host.require(reranker, "aurora_rerank", query=query, candidates=candidates, options=options)
            timings.append(time.perf_counter() - started)
        alone.append(statistics.median(timings) * 1000)
    (root / "aurora.toml").write_text(RANKED, encoding="utf-8")
    ranked = aurora.open(root)
    for query in queries:  # warm both alike (page cache, memory maps, memoised analysis)
        ranked.search(query, limit=10, record=False)
    searches: dict[str, list[float]] = {"without": [], "with": []}
    for query in queries:
        for label, project in (("without", unranked), ("with", ranked)):
            started = time.perf_counter()
            project.search(query, limit=10, record=False)
            searches[label].append((time.perf_counter() - started) * 1000)
    return {
        "chunks": report.chunks,
        "queries": len(queries),
        "rerank_p50_ms": round(statistics.median(alone), 3),
        "search_p50_ms": {label: round(statistics.median(times), 2) for label, times in searches.items()},
    }


def _candidate(result: SearchResult) -> Candidate:
    """Return what the engine hands a reranker for one fused result."""
    chunk = result.chunk
    return Candidate(
        chunk.id, result.score, dict(result.scores), chunk.path, chunk.language, chunk.symbol, chunk.kind,
        chunk.line_start, chunk.line_end, chunk.text,
    )  # fmt: skip


if __name__ == "__main__":
    main()
