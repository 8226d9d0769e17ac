"""Start-up guarantee: cheap commands import no heavy library (checked on the real CLI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AURORA

HEAVY = {"torch", "sentence_transformers", "transformers", "fastembed", "onnxruntime", "lancedb", "pyarrow"}
#: What a lexical search must not need either: bm25s is only for building (scipy comes with it), chunkers
#: only for reading files.
INDEX_ONLY = {"bm25s", "scipy", "tree_sitter", "aurora_treesitter", "aurora_chunkers"}


def imported_modules(*args: str, cwd: Path) -> set[str]:
    """Run the real ``aurora`` script with ``-X importtime`` and return every module it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", AURORA, *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["search", "--help"],
        ["plugins", "list"],
        ["plugins", "list", "--json"],
        ["config", "show"],
        ["models"],
        ["serve", "--help"],
        ["mcp", "--help"],
    ],
)
def test_cheap_commands_import_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    modules = top_level(imported_modules(*args, cwd=tmp_path))
    assert "typer" in modules  # the measurement works
    assert not modules & (HEAVY | INDEX_ONLY | {"numpy"})


def test_index_imports_no_model_library(project: Path) -> None:
    modules = top_level(imported_modules("index", cwd=project))
    assert {"bm25s", "tree_sitter"} <= modules  # so the tests above, which forbid them, can fail
    assert not modules & HEAVY


def test_heavy_libraries_are_installed_so_these_tests_can_fail() -> None:
    import importlib.util

    assert all(importlib.util.find_spec(name) for name in HEAVY)


def test_lexical_search_imports_neither_models_nor_bm25s_nor_other_plugins(indexed: Path) -> None:
    modules = top_level(imported_modules("search", "refresh auth tokens", cwd=indexed))
    assert {"numpy", "aurora_bm25s"} <= modules
    assert not modules & (HEAVY | INDEX_ONLY | {"aurora_fastembed", "aurora_lancedb", "aurora_fusion"})


@pytest.mark.parametrize("args", [["stats"], ["stats", "--json"], ["feedback", "src/auth/tokens.py:13"]])
def test_stats_and_feedback_import_nothing_heavy(indexed: Path, args: list[str]) -> None:
    modules = top_level(imported_modules(*args, cwd=indexed))
    assert "aurora" in modules
    assert not modules & (HEAVY | INDEX_ONLY | {"numpy"})


def test_lexical_mode_of_a_pipeline_with_an_embedder_imports_no_model_library(indexed: Path) -> None:
    (indexed / "aurora.toml").write_text('[pipelines.default]\nembedder = "sentence-transformers"\n')
    modules = top_level(imported_modules("search", "refresh auth tokens", "--mode", "lexical", cwd=indexed))
    assert not modules & (HEAVY | INDEX_ONLY)


def test_plugins_list_imports_no_plugin_module(tmp_path: Path) -> None:
    modules = top_level(imported_modules("plugins", "list", cwd=tmp_path))
    assert not {m for m in modules if m.startswith("aurora_") and m != "aurora"}
