"""Embedding at the speed of the hardware: the optimised ONNX model, runtime options, progress without a terminal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_embedders import int8_onnx, plugin_call

from aurora.cli import progress as progress_module
from aurora.cli.progress import Progress
from aurora.errors import ConfigError

TEXTS = [
    "def parse(line):\n    return line.split(',')",
    "retry the request when the server times out",
    "class Cache:\n    def get(self, key):\n        return self.items[key]\n" * 4,
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fastembed cache in which the optimised model is made (once for the module)."""
    return tmp_path_factory.mktemp("fastembed")


@pytest.fixture(scope="module")
def optimised(cache: Path):
    return plugin_call("fastembed", "aurora_embedder_load", cache_dir=str(cache))


def session_of(embedder) -> object:
    return embedder._model.model.model  # TextEmbedding -> fastembed model -> onnxruntime session


def model_folder(embedder) -> Path:
    return Path(embedder._model.model._model_dir)


def test_the_optimised_model_is_made_once_and_reused(cache: Path, optimised) -> None:
    made = [path for path in (cache / "optimised").glob("*/model.onnx") if "-int8-" not in path.parent.name]
    assert len(made) == 1 and not list((cache / "optimised").glob("*.rejected"))
    assert made[0].parent.name.endswith("-ort" + __import__("onnxruntime").__version__)
    stamp = made[0].stat().st_mtime_ns
    again = plugin_call("fastembed", "aurora_embedder_load", cache_dir=str(cache))
    assert made[0].stat().st_mtime_ns == stamp
    assert model_folder(again) == made[0].parent
    ops = {node.op_type for node in __import__("onnx").load(str(made[0])).graph.node}
    assert "Attention" in ops and "Softmax" not in ops


def test_optimised_vectors_match_the_packaged_model(cache: Path, optimised) -> None:
    packaged = plugin_call("fastembed", "aurora_embedder_load", cache_dir=str(cache), optimise=False)
    assert (model_folder(packaged) / "model.onnx").resolve() == int8_onnx().resolve()
    cosine = np.sum(optimised.embed_documents(TEXTS) * packaged.embed_documents(TEXTS), axis=1)
    assert float(cosine.min()) >= 0.9999
    assert float(optimised.embed_query("parse a csv line") @ packaged.embed_query("parse a csv line")) >= 0.9999


def test_the_int8_copy_is_a_copy_of_its_own_that_computes_in_int8(cache: Path, optimised) -> None:
    from aurora_fastembed.optimised import MIN_COSINE

    int8 = plugin_call("fastembed", "aurora_embedder_load", cache_dir=str(cache), precision="int8")
    assert model_folder(int8).name.endswith("-int8-ort" + __import__("onnxruntime").__version__)
    assert model_folder(int8) != model_folder(optimised)
    ops = {node.op_type for node in __import__("onnx").load(str(model_folder(int8) / "model.onnx")).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger", "QAttention"} <= ops and "Attention" not in ops
    cosine = np.sum(int8.embed_documents(TEXTS) * optimised.embed_documents(TEXTS), axis=1)
    assert MIN_COSINE["int8"] <= float(cosine.min()) < 0.9999  # close, but not the fp32 model's vectors


def test_an_optimised_copy_damaged_since_it_was_made_is_made_again(tmp_path: Path) -> None:
    first = plugin_call("fastembed", "aurora_embedder_load", cache_dir=str(tmp_path))
    expected = first.embed_documents(TEXTS)
    copy = model_folder(first) / "model.onnx"
    copy.write_bytes(b"not a model")
    again = plugin_call("fastembed", "aurora_embedder_load", cache_dir=str(tmp_path))
    assert model_folder(again) == copy.parent and copy.stat().st_size > 1_000_000
    assert np.allclose(again.embed_documents(TEXTS), expected, atol=1e-5)


def test_a_model_that_cannot_be_optimised_falls_back_with_one_note(tmp_path: Path, capsys) -> None:
    import onnx
    from onnx import TensorProto, helper

    from aurora_fastembed.locate import FILES
    from aurora_fastembed.optimised import optimised_folder

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "odd",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    odd = tmp_path / "odd.onnx"
    onnx.save(helper.make_model(graph), str(odd))
    assert optimised_folder(odd, FILES / "all-MiniLM-L6-v2", tmp_path / "cache", "fp32") is None
    note = capsys.readouterr().err
    assert note.startswith("aurora: note: using the packaged ONNX model as it is") and note.count("\n") == 1
    assert optimised_folder(odd, FILES / "all-MiniLM-L6-v2", tmp_path / "cache", "fp32") is None  # recorded
    assert capsys.readouterr().err == ""
    assert not list((tmp_path / "cache" / "optimised").glob("*/model.onnx"))


def test_without_onnx_the_packaged_model_is_used(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from conftest import without_modules

    script = (
        "import sys; sys.path.insert(0, {tests!r})\n"
        "from test_embedders import plugin_call\n"
        "e = plugin_call('fastembed', 'aurora_embedder_load', cache_dir={cache!r})\n"
        "print(e.embed_query('hello').shape)\n"
    ).format(tests=str(Path(__file__).parent), cache=str(tmp_path / "cache"))
    env = os.environ | without_modules(tmp_path / "hook", "onnx")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(384,)"
    assert "aurora: note: using the packaged ONNX model as it is (no optimised copy: No module named 'onnx'" in (
        done.stderr
    )


def test_spinning_and_threads_reach_the_session(cache: Path, optimised) -> None:
    assert session_of(optimised).get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == (
        "0"
    )
    spinning = plugin_call("fastembed", "aurora_embedder_load", cache_dir=str(cache), spinning=True, threads=1)
    options = session_of(spinning).get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert options.intra_op_num_threads == 1


@pytest.mark.parametrize(
    ("plugin", "key", "value"),
    [
        ("fastembed", "threads", -1),
        ("fastembed", "spinning", "yes"),
        ("fastembed", "optimise", 1.5),
        ("fastembed", "precision", "int4"),
        ("sentence-transformers", "threads", -2),
    ],
)
def test_runtime_options_are_validated(plugin: str, key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        plugin_call(plugin, "aurora_model_locate", **{key: value})


def test_progress_without_a_terminal_prints_lines_with_rate_and_time_left(monkeypatch, capsys) -> None:
    monkeypatch.setattr(progress_module, "LINE_INTERVAL", 0.0)
    progress = Progress.for_terminal()  # stderr is captured: not a terminal
    assert progress.enabled and progress.lines
    with progress.task("Embedding", total=300, unit="chunks") as advance:
        advance(100)
        advance(200)
    with progress.task("Loading", unit=""):  # a spinner says nothing without a terminal
        pass
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Embedding: 100/300 chunks, ") and lines[0].endswith(" left")
    assert "chunks/s" in lines[0] and "-:--" not in lines[0]
    assert lines[2].startswith("Embedding: 300 chunks in ")
    assert Progress.for_terminal(quiet=True).enabled is False
