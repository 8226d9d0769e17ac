"""Retrieval quality: `aurora eval` on the BEIR sets, for a list of pipeline variants.

    python bench/quality.py [DATA_DIR] [--variant NAME ...]

DATA_DIR holds BEIR folders (default: ../shared/data next to the repository). Each
variant is a pipeline table written to a temporary aurora.toml, so the numbers come
from exactly the command a user runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from measure import AURORA, RESULTS, save

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

VARIANTS = {
    "bm25s-code": '[pipelines.default.lexical]\nplugin = "bm25s"\n',
    "bm25s-words": '[pipelines.default.lexical]\nplugin = "bm25s"\ntokenizer = "words"\n',
}
DATASETS = {"scifact": "test", "cosqa": "test"}


def main() -> None:
    """Run every variant on every dataset and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    parser.add_argument("--dataset", action="append", choices=sorted(DATASETS))
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    print("| dataset | variant | nDCG@10 | Recall@100 | query p50 (ms) | index (s) |\n|---|---|---|---|---|---|")
    for variant in args.variant or list(VARIANTS):
        with tempfile.TemporaryDirectory() as project:
            (Path(project) / "aurora.toml").write_text(VARIANTS[variant], encoding="utf-8")
            for dataset in args.dataset or list(DATASETS):
                split = DATASETS[dataset]
                done = subprocess.run(
                    [AURORA, "eval", str(args.data / dataset), "--split", split, "--json"],
                    cwd=project,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                report = json.loads(done.stdout)
                rows.append({"variant": variant, **report})
                print(
                    f"| {dataset} | {variant} | {report['ndcg_at_10']:.4f} | {report['recall_at_100']:.4f} "
                    f"| {report['latency_p50_ms']:.2f} | {report['index_s']:.1f} |"
                )
    print(f"\nsaved {save('quality', {'rows': rows}, args.results)}")


if __name__ == "__main__":
    main()
