"""The benchmark scripts still run (on a tiny corpus, one run each), so documented commands keep working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE, write

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize(("script", "result"), [("startup.py", "startup"), ("lexical.py", "lexical")])
def test_benchmark_runs_on_a_small_corpus(tmp_path: Path, script: str, result: str) -> None:
    corpus = tmp_path / "corpus"
    write(corpus, SAMPLE)
    command = [sys.executable, str(BENCH / script), "--runs", "1", "--corpus", str(corpus), "--results", str(tmp_path)]
    done = subprocess.run(command, cwd=BENCH, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| " in done.stdout
    document = json.loads((tmp_path / f"{result}.json").read_text())
    if result == "lexical":
        assert document["chunks"] > 0 and document["files"] == len(SAMPLE)


def test_detection_benchmark_finds_every_place_and_imports_nothing_heavy(tmp_path: Path) -> None:
    command = [sys.executable, str(BENCH / "detection.py"), "--runs", "1", "--results", str(tmp_path)]
    done = subprocess.run(command, cwd=BENCH, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "detection.json").read_text())
    assert document["heavy_imported"] == []
    found = {case: row["found"] for case, row in document["rows"].items()}
    assert found["sentence-transformers: huggingface cache"] == "huggingface cache"
    assert found["fastembed: fastembed cache"] == "fastembed cache"
    assert found["fastembed: folder"] == "folder" and found["fastembed: not found"] is None


def test_activation_benchmark_runs_on_a_small_dataset(tmp_path: Path, tiny_beir: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    tiny_beir.rename(data / "tiny")
    command = [sys.executable, str(BENCH / "activation.py"), str(data), "--dataset", "tiny", "--results", str(tmp_path)]
    done = subprocess.run([*command, "--weight", "0", "--weight", "1"], cwd=BENCH, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "activation-tiny.json").read_text())["rows"]
    assert [row["weight"] for row in rows] == [0.0, 1.0]
    assert rows[1]["ndcg_feedback"] >= rows[0]["ndcg_feedback"]  # marked documents never rank lower


def test_quality_benchmark_runs_on_a_small_dataset(tmp_path: Path, tiny_beir: Path) -> None:
    data = tmp_path / "data"
    (data).mkdir()
    tiny_beir.rename(data / "scifact")
    command = [sys.executable, str(BENCH / "quality.py"), str(data), "--dataset", "scifact", "--results", str(tmp_path)]
    command += ["--variant", "bm25s-words", "--variant", "fastembed-hybrid", "--stores", str(tmp_path / "stores")]
    done = subprocess.run(command, cwd=BENCH, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "quality.json").read_text())["rows"]
    assert [(row["variant"], row["mode"]) for row in rows] == [
        ("bm25s-words", "lexical"),
        ("fastembed-hybrid", "hybrid"),
    ]


@pytest.mark.slow
def test_embedding_semantic_instant_and_server_benchmarks_run_on_a_small_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus, SAMPLE)
    common = ["--runs", "1", "--corpus", str(corpus), "--results", str(tmp_path)]
    scripts = (
        ["embedding.py", "--backend", "fastembed"],
        ["semantic.py", "--reindex"],
        ["instant.py", "--backend", "fastembed"],
        ["server.py", "--backend", "fastembed", "--clients", "4", "--queries", "40"],
    )
    for script in scripts:
        done = subprocess.run(
            [sys.executable, str(BENCH / script[0]), *script[1:], *common],
            cwd=BENCH,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "embedding.json").read_text())["rows"]["fastembed"]["aurora_index"] > 0
    semantic = json.loads((tmp_path / "semantic-fastembed.json").read_text())
    assert semantic["vectors"] > 0 and semantic["embedding_run"]["peak_rss_mb"] > 0
    server = json.loads((tmp_path / "server.json").read_text())
    assert server["load"]["requests"] == 40 and server["load"]["errors"] == 0
    assert server["end_to_end_s"]["fastembed hybrid, through the server"] > 0
    instant = json.loads((tmp_path / "instant.json").read_text())
    assert instant["rows"]["fastembed: --wait wall"]["median_s"] > 0 and instant["warm_hybrid_ms"]["fastembed"]


@pytest.mark.skipif(sys.platform != "linux", reason="the bench counts its workers' CPU with a Linux prctl")
def test_chunking_benchmark_indexes_with_both_chunker_lists(tmp_path: Path) -> None:
    write(tmp_path / "trees" / "repos" / "demo", SAMPLE | {"cmd/main.go": "package main\n\nfunc main() {\n}\n"})
    command = [sys.executable, str(BENCH / "chunking.py"), "--runs", "1", "--trees", str(tmp_path / "trees")]
    done = subprocess.run([*command, "--results", str(tmp_path)], cwd=BENCH, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "chunking.json").read_text())
    assert set(document["runs"]) == {"before", "tree-sitter, one process", "tree-sitter"}
    assert all(ratio["wall"] > 0 and ratio["cpu"] > 0 for ratio in document["ratios"].values())
    assert all(figures["chunks"][0] > 0 for figures in document["runs"].values())
    assert not (tmp_path / "trees" / "repos" / ".aurora").exists()
