"""What search filters cost: an in-process lexical search with and without --path, --exclude and --lang.

    python bench/filters.py [--runs 5]

On the stdlib corpus (indexed if needed), each code query is searched in process
(activation off, nothing recorded) without a filter and with each filter below, ``runs``
rounds alternating the variants; the table gives the median search latency of each and
its difference from the unfiltered search of the same round, per query. Also the cost
of the stale-file check of a search's result files (one ``os.stat`` each).
"""

from __future__ import annotations

import subprocess
import time

from corpus import ensure_corpus
from measure import AURORA, CODE_QUERIES, arguments, median, save

import aurora
from aurora.search import engine

FILTERS = {
    "none": {},
    "--lang python": {"lang": ("python",)},
    "--path 'email/**' --path json": {"path": ("email/**", "json")},
    "--exclude test --exclude idlelib": {"exclude": ("test", "idlelib")},
    "--path '*.py' --exclude 'test_*' --lang python": {"path": ("*.py",), "exclude": ("test_*",), "lang": ("python",)},
}


def main() -> None:
    """Measure and print the filters table."""
    args = arguments(__doc__.splitlines()[0], runs=5).parse_args()
    corpus = ensure_corpus(args.corpus)
    subprocess.run([AURORA, "index", "-q", str(corpus)], check=True)
    project = aurora.open(corpus)
    project.search("warm up", mode="lexical", record=False)
    timings: dict[str, list[float]] = {name: [] for name in FILTERS}
    for _ in range(args.runs):
        for query in CODE_QUERIES:
            for name, options in FILTERS.items():
                started = time.perf_counter()
                project.search(query, mode="lexical", record=False, **options)
                timings[name].append(time.perf_counter() - started)
    base = timings["none"]
    rows = {
        name: {
            "median_ms": round(1000 * median(values), 3),
            "added_ms": round(1000 * median([value - plain for value, plain in zip(values, base, strict=True)]), 3),
        }
        for name, values in timings.items()
    }
    searcher = project._searcher(None, None).searcher
    paths = {"json/decoder.py", "socket.py", "csv.py", "os.py", "email/message.py"}
    started = time.perf_counter()
    for _ in range(100):
        engine.changed_files(project.root, searcher.store, paths)
    stale_ms = round((time.perf_counter() - started) * 10, 3)
    project.close()
    save("filters", {"runs": args.runs, "queries": len(CODE_QUERIES), "filters": rows, "stale_check_ms": stale_ms})
    print("| filter | median search (ms) | added by the filter (ms, median per query) |")
    print("|---|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['median_ms']:.2f} | {row['added_ms']:+.2f} |")
    print(f"\nStale-file check of 5 result files: {stale_ms:.2f} ms.")


if __name__ == "__main__":
    main()
