"""The LanceDB vector store: rows keyed by chunk id and content hash, brute force, then an ANN index."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from aurora.config.validation import resolve
from aurora.host.registry import PluginHost
from aurora.plugin import ChunkSettings
from aurora.semantic.models import identity, parse_model
from aurora_chunkers import python as python_chunker
from aurora_lancedb.store import open_table

OPTIONS = {"uri": "", "ann_threshold": 10_000, "nprobes": 20, "refine_factor": 4}


@pytest.fixture(scope="module")
def embedded() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Real all-MiniLM-L6-v2 vectors of 600 standard-library code chunks, and of 50 queries."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for path in sorted(stdlib.glob("*.py"))[:80]:
        texts += [c.text[:300] for c in python_chunker.aurora_chunk(path.read_text(encoding="utf-8"), ChunkSettings())]
    texts = texts[:600]
    host = PluginHost()
    plugin = host.load("embedder", "fastembed")
    options = resolve("test", host.call(plugin, "aurora_describe").options, {})
    model = parse_model(options["model"])
    location = host.call(plugin, "aurora_model_locate", model=model, options=options)
    embedder = host.call(
        plugin, "aurora_embedder_load", model=model, location=location, model_id=identity(model), options=options
    )
    queries = [
        f"how to {verb} a {noun}"
        for verb in ("parse", "read", "close", "copy", "sort")
        for noun in ("file", "string", "socket", "list", "date", "path", "number", "header", "thread", "archive")
    ]
    return texts, embedder.embed_documents(texts), np.stack([embedder.embed_query(q) for q in queries])


def filled(tmp_path: Path, vectors: np.ndarray, **options: int) -> object:
    store = open_table(str(tmp_path / "db"), "t", vectors.shape[1], True, OPTIONS | options)
    ids = list(range(1, len(vectors) + 1))
    store.add(ids, [f"h{i}" for i in ids], vectors, [{"path": f"f{i}.py", "line_start": i, "line_end": i} for i in ids])
    return store


def test_rows_reuse_and_delete(tmp_path: Path, embedded) -> None:
    _, vectors, _ = embedded
    store = filled(tmp_path, vectors[:10])
    assert store.rows() == {i: f"h{i}" for i in range(1, 11)}
    reused = store.vectors_for(["h3", "h4", "nope"])
    assert set(reused) == {"h3", "h4"}
    np.testing.assert_allclose(reused["h3"], vectors[2], rtol=1e-6)
    store.delete([3, 99])
    assert 3 not in store.rows() and store.count() == 9


def test_brute_force_search_is_exact(tmp_path: Path, embedded) -> None:
    _, vectors, queries = embedded
    store = filled(tmp_path, vectors)
    for query in queries[:10]:
        exact = np.argsort(-(vectors @ query))[:10] + 1
        hits = store.search(query, 10)
        assert [chunk_id for chunk_id, _, _ in hits] == list(exact)
        assert hits[0][1] == f"h{exact[0]}"
        assert hits[0][2] == pytest.approx(float(vectors[exact[0] - 1] @ query), abs=1e-4)


def test_ann_index_above_the_threshold_keeps_recall(tmp_path: Path, embedded) -> None:
    _, vectors, queries = embedded
    store = filled(tmp_path, vectors, ann_threshold=256)
    store.optimize()
    assert store.indexed
    recalls = []
    for query in queries:
        exact = set(np.argsort(-(vectors @ query))[:10] + 1)
        recalls.append(len(exact & {chunk_id for chunk_id, _, _ in store.search(query, 10)}) / 10)
    assert np.mean(recalls) >= 0.95


def test_below_the_threshold_no_index_is_built(tmp_path: Path, embedded) -> None:
    _, vectors, _ = embedded
    store = filled(tmp_path, vectors[:100], ann_threshold=256)
    store.optimize()
    assert not store.indexed


def test_missing_table_and_wrong_dimension(tmp_path: Path, embedded) -> None:
    _, vectors, _ = embedded
    filled(tmp_path, vectors[:5])
    with pytest.raises(FileNotFoundError):
        open_table(str(tmp_path / "db"), "other", 384, False, OPTIONS)
    with pytest.raises(ValueError, match="holds 384-dimensional vectors, not 128"):
        open_table(str(tmp_path / "db"), "t", 128, False, OPTIONS)


SEARCH_IN_A_NEW_PROCESS = """
import json, sys
import numpy as np
from aurora_lancedb.store import open_table
store = open_table(sys.argv[1], "t", 384, False, json.loads(sys.argv[2]))
hits = [store.search(np.array(q, dtype=np.float32), 10) for q in json.loads(sys.argv[3])]
print(json.dumps({"hits": hits, "lancedb": "lancedb" in sys.modules, "indexed": store.indexed}))
"""


@pytest.mark.parametrize("ann_threshold", [10_000, 256])
def test_a_reader_answers_like_lancedb_without_importing_it(tmp_path: Path, embedded, ann_threshold: int) -> None:
    import lancedb

    _, vectors, queries = embedded
    store = filled(tmp_path, vectors, ann_threshold=ann_threshold)
    store.optimize()
    options = OPTIONS | {"ann_threshold": ann_threshold}
    probe = [sys.executable, "-c", SEARCH_IN_A_NEW_PROCESS, str(tmp_path / "db"), json.dumps(options)]
    done = subprocess.run([*probe, json.dumps(queries[:10].tolist())], capture_output=True, text=True, check=True)
    read = json.loads(done.stdout)
    assert read["lancedb"] is False and read["indexed"] == (ann_threshold == 256)
    table = lancedb.connect(str(tmp_path / "db")).open_table("t")
    for query, hits in zip(queries[:10], read["hits"], strict=True):
        query_ = table.search(query).distance_type("cosine").limit(10).nprobes(20).refine_factor(4)
        expected = query_.select(["id", "_distance"]).to_arrow()
        assert [chunk_id for chunk_id, _, _ in hits] == expected["id"].to_pylist()
        assert [similarity for _, _, similarity in hits] == pytest.approx(
            [1 - d for d in expected["_distance"].to_pylist()], abs=1e-6
        )


def test_a_reader_follows_later_writes(tmp_path: Path, embedded) -> None:
    _, vectors, _ = embedded
    writer = filled(tmp_path, vectors[:10])
    reader = open_table(str(tmp_path / "db"), "t", 384, False, OPTIONS)
    assert reader.count() == 10
    writer.delete([1, 2])
    assert reader.count() == 8 and 1 not in reader.rows()
    assert reader.search(vectors[0], 3)[0][0] != 1
