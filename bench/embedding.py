"""Embedding throughput, CPU and memory: each library on its own against inside `aurora index`, on the same chunks.

    python bench/embedding.py [--runs 3] [--backend fastembed] [--variant aurora_index] [--corpus DIR]
                              [--packages http,urllib]

The corpus is a copy of some stdlib packages (default http and urllib, 450 chunks;
`--packages` picks others, `--packages all` takes the whole corpus). Variants,
alternated within each run so that load on the machine hits them alike:

- "raw": the library alone (fastembed with its own session defaults on the packaged int8
  model; sentence-transformers' `encode`) on every chunk text, in Aurora's length-aware
  batches, timed from its first call;
- "aurora_index": `aurora index` from scratch with a pipeline using the backend; its embedding
  phase (reading texts, embedding, writing vectors) is timed by the indexer;
- for fastembed also "aurora_index_packaged": `aurora index` as before the optimised model
  (`optimise = false`, `spinning = true`), the baseline of the change; and
  "aurora_index_int8": the optimised model computing in int8 (`precision = "int8"`).

Each variant runs in a fresh process; reported per variant: chunks/s (median), CPU
seconds per chunk (the whole process: loading and, inside Aurora, lexical indexing
included) and peak RSS (the process's maximum resident set). Pipelines are defined in a
throwaway user config (XDG_CONFIG_HOME); the model cache is the user's, so the optimised
model is made (once) by the first run, which also serves as a warm-up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from corpus import ensure_corpus, ensure_subset
from measure import AURORA, arguments, machine, median, save

PIPELINES = """
[pipelines.fastembed]
embedder = "fastembed"
[pipelines.fastembed-int8]
embedder = { plugin = "fastembed", precision = "int8" }
[pipelines.fastembed-packaged]
embedder = { plugin = "fastembed", optimise = false, spinning = true }
[pipelines.sentence-transformers]
embedder = "sentence-transformers"
"""

RAW = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from aurora.semantic import vectors
    from aurora.semantic.batching import length_batches
    from aurora.api import Project
    from aurora.common.layout import DATABASE_NAME, index_dir
    from aurora.index.store import Store
    root, pipeline = Path(sys.argv[1]), sys.argv[2]
    project = Project(root)
    store = Store.open(index_dir(root) / DATABASE_NAME)
    _, texts = store.indexed_texts()
    role = project.pipeline(pipeline).semantic(index_dir(root))
    embedder = vectors.load_embedder(project.host, role, vectors.locate(project.host, role))
    library = embedder._model  # the fastembed TextEmbedding or SentenceTransformer itself
    fastembed = pipeline.startswith("fastembed")
    longest = 1200 if fastembed else 4 * library.max_seq_length
    groups = length_batches(texts, embedder.batch_chars, embedder.batch_size, longest)
    started = time.perf_counter()
    for group in groups:
        batch = [texts[i] for i in group]
        if fastembed:
            list(library.embed(batch, batch_size=len(batch)))
        else:
            library.encode(batch, batch_size=len(batch), show_progress_bar=False)
    print(json.dumps({"chunks": len(texts), "chunks_per_s": len(texts) / (time.perf_counter() - started)}))
    """
)

#: (backend, variant, pipeline)
VARIANTS = (
    ("fastembed", "raw", "fastembed-packaged"),
    ("fastembed", "aurora_index_packaged", "fastembed-packaged"),
    ("fastembed", "aurora_index", "fastembed"),
    ("fastembed", "aurora_index_int8", "fastembed-int8"),
    ("sentence-transformers", "raw", "sentence-transformers"),
    ("sentence-transformers", "aurora_index", "sentence-transformers"),
)


def _measured(command: list[str], env: dict[str, str]) -> tuple[dict, float, float]:
    """Run ``command``; return its JSON output, its CPU seconds and its peak RSS in MB (stop if it fails)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if process.returncode:
            raise SystemExit(err.read().decode(errors="replace"))
        return json.loads(out.read()), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    """Measure each variant, alternated over the runs; print a Markdown table and save the figures."""
    parser = arguments(__doc__.splitlines()[0], runs=3)
    parser.add_argument(
        "--packages", default="http,urllib", help="stdlib packages to copy as the corpus (all: the whole corpus)"
    )
    parser.add_argument("--backend", action="append", choices=["fastembed", "sentence-transformers"])
    parser.add_argument("--variant", action="append", choices=sorted({v[1] for v in VARIANTS}), help="only these")
    args = parser.parse_args()
    whole = args.corpus.name != "stdlib" or args.packages == "all"
    corpus = ensure_corpus(args.corpus) if whole else ensure_subset(tuple(args.packages.split(",")))
    variants = [
        v for v in VARIANTS if (not args.backend or v[0] in args.backend) and (not args.variant or v[1] in args.variant)
    ]
    config = Path(tempfile.mkdtemp(prefix="aurora-bench-config-"))
    (config / "aurora").mkdir()
    (config / "aurora" / "config.toml").write_text(PIPELINES, encoding="utf-8")
    env = os.environ | {"XDG_CONFIG_HOME": str(config), "HF_HUB_OFFLINE": "1"}
    figures: dict[tuple[str, str], dict[str, list[float]]] = {
        v[:2]: {"rate": [], "cpu": [], "rss": []} for v in variants
    }
    chunks = 0
    for _ in range(args.runs):
        for backend, variant, pipeline in variants:
            shutil.rmtree(corpus / ".aurora", ignore_errors=True)
            if variant == "raw":  # the chunks to embed: a lexical index, not timed
                subprocess.run([AURORA, "index", "-q", str(corpus)], env=env, check=True)
                report, cpu, rss = _measured([sys.executable, "-c", RAW, str(corpus), pipeline], env)
                rate, chunks = report["chunks_per_s"], report["chunks"]
            else:
                report, cpu, rss = _measured([AURORA, "index", "-p", pipeline, "--json", str(corpus)], env)
                rate, chunks = report["semantic"]["chunks_per_s"], report["semantic"]["embedded"]
            for key, value in (("rate", rate), ("cpu", cpu / chunks), ("rss", rss)):
                figures[backend, variant][key].append(value)
    shutil.rmtree(config, ignore_errors=True)
    rows: dict[str, dict] = {}
    print(f"{chunks} chunks, {args.runs} runs alternated, {machine()}\n")
    print("| backend | variant | chunks/s (median) | CPU ms / chunk | peak RSS (MB) | runs (chunks/s) |")
    print("|---|---|---|---|---|---|")
    for (backend, variant), f in figures.items():
        row = {
            "chunks_per_s": round(median(f["rate"]), 1),
            "cpu_ms_per_chunk": round(1000 * median(f["cpu"]), 1),
            "peak_rss_mb": round(max(f["rss"])),
            "runs": [round(r, 1) for r in f["rate"]],
        }
        rows.setdefault(backend, {"variants": {}})["variants"][variant] = row
        if variant == "aurora_index":
            rows[backend]["aurora_index"] = row["chunks_per_s"]
        cells = [backend, variant, row["chunks_per_s"], f"{row['cpu_ms_per_chunk']:.0f}", row["peak_rss_mb"]]
        print("| " + " | ".join(str(c) for c in cells) + " | " + ", ".join(map(str, row["runs"])) + " |")
    ratios = _ratios(figures)
    for name, value in ratios.items():
        print(f"\n{name} (median of same-run ratios): {value:.2f}")
    document = {"chunks": chunks, "runs": args.runs, "rows": rows, "ratios": ratios}
    print(f"\nsaved {save('embedding', document, args.results)}")


def _ratios(figures: dict[tuple[str, str], dict[str, list[float]]]) -> dict[str, float]:
    """Same-run ratios of chunks/s between compared variants: the median over runs of each run's ratio."""
    fastembed, st = ("fastembed", "aurora_index"), ("sentence-transformers", "aurora_index")
    pairs = {
        "fastembed / sentence-transformers, in aurora index": (fastembed, st),
        "fastembed optimised / packaged model, in aurora index": (fastembed, ("fastembed", "aurora_index_packaged")),
        "fastembed int8 / default precision, in aurora index": (("fastembed", "aurora_index_int8"), fastembed),
        "fastembed, aurora index / raw": (fastembed, ("fastembed", "raw")),
        "sentence-transformers, aurora index / raw": (st, ("sentence-transformers", "raw")),
    }
    return {
        name: round(median([x / y for x, y in zip(figures[a]["rate"], figures[b]["rate"], strict=True)]), 3)
        for name, (a, b) in pairs.items()
        if a in figures and b in figures
    }


if __name__ == "__main__":
    main()
