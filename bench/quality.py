"""Retrieval quality: `aurora eval` on the BEIR sets, for a list of pipeline variants.

    python bench/quality.py [DATA_DIR] [--variant NAME ...] [--dataset NAME ...]

DATA_DIR holds BEIR folders (default: ../shared/data next to the repository). Each
variant is an aurora.toml plus `aurora eval` flags, so the numbers come from exactly
the command a user runs. Semantic variants keep each backend's corpus index in
--stores (default bench/corpus/eval-stores) so that the hybrid run reuses the vectors
of the semantic run; the "index (s)" column then shows the time of a run that had
nothing left to embed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

from measure import AURORA, NO_RERANKER, RESULTS, save

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_STORES = Path(__file__).resolve().parent / "corpus" / "eval-stores"
LEXICAL = '[pipelines.default.lexical]\nplugin = "bm25s"\n'
WEIGHTED = '[pipelines.default.fusion]\nplugin = "weighted"\n'
RRF = '[pipelines.default.fusion]\nplugin = "rrf"\nk = 60\n'
INT8 = '[pipelines.default.embedder]\nplugin = "fastembed"\nprecision = "int8"\n'


class Variant(NamedTuple):
    """A pipeline configuration and the `aurora eval` flags that select it."""

    config: str
    flags: tuple[str, ...] = ()
    backend: str | None = None
    store: str | None = None  # the corpus index's name after the dataset's (default: the backend's)


VARIANTS = {
    "bm25s-code": Variant(LEXICAL),
    "bm25s-words": Variant(LEXICAL + 'tokenizer = "words"\n'),
    # The default pipeline reranks with the code reranker; this is the same search without it:
    "bm25s-code-unranked": Variant(LEXICAL + NO_RERANKER),
    "fastembed-semantic": Variant(LEXICAL, ("--mode", "semantic"), "fastembed"),
    "fastembed-hybrid": Variant(LEXICAL, ("--mode", "hybrid"), "fastembed"),
    "fastembed-hybrid-unranked": Variant(LEXICAL + NO_RERANKER, ("--mode", "hybrid"), "fastembed"),
    # The optimised model computing in int8 rather than fp32 (its own corpus index):
    "fastembed-int8-semantic": Variant(LEXICAL + INT8, ("--mode", "semantic"), "fastembed", "fastembed-int8"),
    "fastembed-int8-hybrid": Variant(LEXICAL + INT8, ("--mode", "hybrid"), "fastembed", "fastembed-int8"),
    # The int8 corpus index searched with the default (fp32) query vectors:
    "fastembed-hybrid-on-int8": Variant(LEXICAL, ("--mode", "hybrid"), "fastembed", "fastembed-int8"),
    "st-semantic": Variant(LEXICAL, ("--mode", "semantic"), "sentence-transformers"),
    "st-hybrid": Variant(LEXICAL, ("--mode", "hybrid"), "sentence-transformers"),
    # The other fusion methods at the default weights (lexical 1, semantic 1), on the fastembed
    # vectors; the hybrid variants above use the default, weighted min-max:
    "fastembed-hybrid-zscore": Variant(
        LEXICAL + WEIGHTED + 'normalize = "z-score"\n', ("--mode", "hybrid"), "fastembed"
    ),
    "fastembed-hybrid-zeromax": Variant(
        LEXICAL + WEIGHTED + 'normalize = "zero-max"\n', ("--mode", "hybrid"), "fastembed"
    ),
    "fastembed-hybrid-rrf": Variant(LEXICAL + RRF, ("--mode", "hybrid"), "fastembed"),
}
DATASETS = {"scifact": "test", "cosqa": "test"}


def main() -> None:
    """Run every variant on every dataset and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    parser.add_argument("--dataset", action="append", choices=sorted(DATASETS))
    parser.add_argument("--stores", type=Path, default=DEFAULT_STORES)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--save-as", default="quality", help="results file name (default quality.json)")
    args = parser.parse_args()
    rows = []
    print("| dataset | variant | nDCG@10 | Recall@100 | query p50 (ms) | index (s) |\n|---|---|---|---|---|---|")
    for name in args.variant or list(VARIANTS):
        variant = VARIANTS[name]
        with tempfile.TemporaryDirectory() as project:
            (Path(project) / "aurora.toml").write_text(variant.config, encoding="utf-8")
            for dataset in args.dataset or list(DATASETS):
                command = [AURORA, "eval", str(args.data / dataset), "--split", DATASETS[dataset], "--json"]
                command += list(variant.flags)
                if variant.backend:
                    command += [
                        "--backend",
                        variant.backend,
                        "--store",
                        str(args.stores / f"{dataset}-{variant.store or variant.backend}"),
                    ]
                done = subprocess.run(command, cwd=project, capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(done.stderr)
                report = json.loads(done.stdout)
                rows.append({"variant": name, **report})
                print(
                    f"| {dataset} | {name} | {report['ndcg_at_10']:.4f} | {report['recall_at_100']:.4f} "
                    f"| {report['latency_p50_ms']:.2f} | {report['index_s']:.1f} |"
                )
    print(f"\nsaved {save(args.save_as, {'rows': rows}, args.results)}")


if __name__ == "__main__":
    main()
