"""The candidate pool: ``--files`` fills its limit with distinct files, from the same ranking as chunks."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write

import aurora


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file with 150 functions that each say "token" often, and 12 files that say it once."""
    root = tmp_path_factory.mktemp("crowded")
    body = "".join(f"    token = token + {line}\n" for line in range(10))  # long enough not to merge with neighbours
    big = "\n\n".join(f"def token_{n}(token):\n{body}    return token\n" for n in range(150))
    files = {"big/tokens.py": big, "aurora.toml": "[activation]\nenabled = false\n"}
    files.update(
        {f"small/part_{n}.py": f"def part_{n}(value):\n    # one token here\n    return value\n" for n in range(12)}
    )
    write(root, files)
    aurora.open(root).index()
    return root


def test_files_fill_the_limit_with_distinct_files_when_they_exist(crowded: Path) -> None:
    response = aurora.open(crowded).search("token", limit=10, files=True)
    paths = [result.chunk.path for result in response.results]
    assert len(paths) == len(set(paths)) == 10
    assert response.results[0].matches == 150 and response.results[0].chunk.path == "big/tokens.py"


def test_files_rank_the_same_pool_as_chunks(crowded: Path) -> None:
    project = aurora.open(crowded)
    chunks = [result.chunk.path for result in project.search("token value", limit=100).results]
    files = [result.chunk.path for result in project.search("token value", limit=5, files=True).results]
    assert files == list(dict.fromkeys(chunks))[:5]
