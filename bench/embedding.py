"""Embedding throughput: the library on its own against inside `aurora index`, on the same chunks.

    python bench/embedding.py [--runs 3] [--backend fastembed] [--backend sentence-transformers]

The corpus is the stdlib's http and urllib packages (644 chunks). "Raw" loads the same
model through the plugin and times the library's own calls on every chunk text: with
the plugin's batch size in the given order, the same sorted by length, and in Aurora's
length-aware batches (`aurora.semantic.batching`); the best of the three is the baseline, so the
ratio isolates Aurora's own overhead. Each raw variant runs in a fresh process and is
timed from its first call, as inside Aurora: PyTorch's first pass over each batch shape
is slower than later ones, so a warmed-up baseline would not be like for like.
"Aurora" is `aurora index --backend B` from scratch; its embedding phase (reading
texts, embedding, writing vectors) is timed by the indexer and reported as chunks/s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

from corpus import ensure_subset
from measure import AURORA, arguments, median, save

RAW = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from aurora.semantic import vectors
    from aurora.api import Project
    from aurora.common.layout import DATABASE_NAME, index_dir
    from aurora.index.store import Store
    root, backend, variant = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    project = Project(root)
    project.index()  # lexical only: the chunks to embed (kept between runs)
    store = Store.open(index_dir(root) / DATABASE_NAME)
    _, texts = store.indexed_texts()
    role = project.pipeline(backend=backend).semantic(index_dir(root))
    embedder = vectors.load_embedder(project.host, role, vectors.locate(project.host, role))
    library = embedder._model  # the fastembed TextEmbedding or SentenceTransformer itself

    def embed(batch, size):
        if backend == "fastembed":
            return list(library.embed(batch, batch_size=size))
        return library.encode(batch, batch_size=size, show_progress_bar=False)

    if variant == "length batches":
        from aurora.semantic.batching import length_batches
        longest = 1200 if backend == "fastembed" else 4 * library.max_seq_length
        groups = length_batches(texts, embedder.batch_chars, embedder.batch_size, longest)
        batches = [([texts[i] for i in group], len(group)) for group in groups]
    else:
        ordered = texts if variant == "given order" else sorted(texts, key=len, reverse=True)
        batches = [(ordered, embedder.batch_size)]
    started = time.perf_counter()
    for batch, size in batches:
        embed(batch, size)
    rate = len(texts) / (time.perf_counter() - started)
    print(json.dumps({"chunks": len(texts), "chunks_per_s": rate}))
    """
)


VARIANTS = ("given order", "sorted by length", "length batches")


def _run(command: list[str]) -> str:
    """Run ``command`` and return its stdout, stopping the benchmark if it fails."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout


def main() -> None:
    """Measure raw and in-Aurora embedding throughput for each backend."""
    parser = arguments(__doc__.splitlines()[0], runs=3)
    parser.add_argument("--backend", action="append", choices=["fastembed", "sentence-transformers"])
    args = parser.parse_args()
    corpus = args.corpus if args.corpus.name != "stdlib" else ensure_subset(("http", "urllib"))
    results = {}
    print(
        "| backend | chunks | raw, given order (chunks/s) | raw, sorted | raw, length batches "
        "| aurora index (chunks/s) | aurora / best raw |"
    )
    print("|---|---|---|---|---|---|---|")
    for backend in args.backend or ["fastembed", "sentence-transformers"]:
        raw: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        inside = []
        for _ in range(args.runs):  # interleaved, so that load on the machine hits both sides alike
            shutil.rmtree(corpus / ".aurora", ignore_errors=True)
            for variant in VARIANTS:
                measured = json.loads(_run([sys.executable, "-c", RAW, str(corpus), backend, variant]))
                raw[variant].append(measured["chunks_per_s"])
            shutil.rmtree(corpus / ".aurora", ignore_errors=True)
            report = json.loads(_run([AURORA, "index", "-b", backend, "--json", str(corpus)]))
            inside.append(report["semantic"]["chunks_per_s"])
        given, ordered, grouped = (median(raw[variant]) for variant in VARIANTS)
        aurora = median(inside)
        results[backend] = {
            "chunks": measured["chunks"],
            "raw_given_order": round(given, 1),
            "raw_sorted": round(ordered, 1),
            "raw_length_batches": round(grouped, 1),
            "aurora_index": round(aurora, 1),
            "ratio_to_best_raw": round(aurora / max(given, ordered, grouped), 3),
            "runs": args.runs,
        }
        cells = [backend, results[backend]["chunks"], *(f"{v:.1f}" for v in (given, ordered, grouped, aurora))]
        cells.append(f"{results[backend]['ratio_to_best_raw']:.2f}")
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
    print(f"\nsaved {save('embedding', {'rows': results}, args.results)}")


if __name__ == "__main__":
    main()
