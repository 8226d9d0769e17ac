"""Files read and chunked in worker processes: the same chunks as in one process, and a way back when workers cannot."""

from __future__ import annotations

import pickle
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import SAMPLE, write

from aurora.api import Project
from aurora.common.untrusted import UntrustedFileError
from aurora.index import reading
from aurora.index.chunking import Chunkers, cannot_split
from aurora.index.sources import SourceFile
from aurora.index.store import FileState
from aurora.plugin import Chunk, PluginDescription, hookimpl

pytestmark = pytest.mark.skipif(reading.available_cores() < 2, reason="workers are used only with two cores or more")

GO = "package client\n\n// Do sends a request.\nfunc (c *Client) Do(r *Request) error {\n\treturn nil\n}\n"


def stored(root: Path) -> tuple[list[tuple], list[tuple]]:
    """Return every chunk row and every file row of the index under ``root``."""
    with sqlite3.connect(root / ".aurora" / "aurora.db") as db:
        chunks = db.execute("SELECT * FROM chunks ORDER BY id").fetchall()
        files = db.execute("SELECT path, content_hash, language, skipped, chunker FROM files ORDER BY path").fetchall()
    return chunks, files


def index_with_workers(root: Path, config: Path, workers: int) -> list[str]:
    """Index ``root`` in-process with ``[index] workers`` set; return the run's warnings."""
    write(config, {"aurora/config.toml": f"[index]\nworkers = {workers}\n"})
    project = Project(root)
    report = project.index()
    project.close()
    return report.warnings


@pytest.fixture
def every_run_uses_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """However small the tree, read it in workers, in batches of two files."""
    monkeypatch.setattr(reading, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(reading, "BATCH_FILES", 2)


def test_workers_chunk_a_tree_exactly_as_one_process_does(
    tmp_path: Path, isolated_env: Path, every_run_uses_workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tree_sitter_go")
    files = SAMPLE | {f"client/client_{n}.go": GO.replace("Do", f"Do{n}") for n in range(12)}
    write(tmp_path / "one", files)
    shutil.copytree(tmp_path / "one", tmp_path / "many")
    serial = index_with_workers(tmp_path / "one", isolated_env / "config", workers=1)

    def not_here(*_: object) -> None:
        raise AssertionError("the files were read in this process")

    monkeypatch.setattr(reading, "_read_here", not_here)
    parallel = index_with_workers(tmp_path / "many", isolated_env / "config", workers=2)
    chunks, files = stored(tmp_path / "many")
    assert (chunks, files) == stored(tmp_path / "one")
    assert len(files) > 2 * reading.BATCH_FILES * reading.BATCHES_PER_WORKER  # more batches than are ever in flight
    assert any(row[-1] == "treesitter@3" for row in files) and any(row[3] == "binary" for row in files)
    assert parallel == serial


class Lines:
    """An in-process chunker, which a worker process cannot load: one chunk per non-empty line."""

    @hookimpl
    def aurora_describe(self) -> PluginDescription:
        return PluginDescription(summary="lines", languages=("text",), version="1")

    @hookimpl
    def aurora_chunk(self, text: str) -> list[Chunk]:
        lines = text.split("\n")
        return [Chunk(n, n, line, None, "line") for n, line in enumerate(lines, start=1) if line.strip()]


def test_a_chunker_registered_in_process_reads_here(
    tmp_path: Path, isolated_env: Path, every_run_uses_workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {f"notes/{n}.txt": f"first thought {n}\nsecond thought {n}\n" for n in range(6)})
    write(isolated_env / "config", {"aurora/config.toml": '[index]\nworkers = 2\nchunkers = ["lines"]\n'})
    monkeypatch.setattr(reading, "_read_in_workers", None)  # a worker would find no plugin of that name
    project = Project(tmp_path)
    project.host.register(Lines(), "lines", "chunker")
    report = project.index()
    project.close()
    assert (report.added, report.chunks, report.warnings) == (6, 12, [])
    chunks, _ = stored(tmp_path)
    assert {row[5] for row in chunks} == {"line"}


def test_workers_that_cannot_load_the_chunkers_leave_the_reading_to_this_process(
    tmp_path: Path, isolated_env: Path, every_run_uses_workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, SAMPLE)
    real_recipe = Chunkers.recipe  # the recipe a worker gets names a chunker no process can load
    monkeypatch.setattr(
        Chunkers, "recipe", lambda self: real_recipe(self)._replace(fallback=("no-such-chunker", "x@1", (), {}))
    )
    warnings = index_with_workers(tmp_path, isolated_env / "config", workers=2)
    assert len(warnings) == 1 and "reading in worker processes failed" in warnings[0]
    assert "no-such-chunker" in warnings[0]
    chunks, files = stored(tmp_path)
    assert chunks and all(row[-1] for row in files if row[3] is None)


def test_a_file_a_worker_refuses_to_read_is_reported_as_in_one_process() -> None:
    refused = pickle.loads(pickle.dumps(UntrustedFileError(Path("a/fifo"), "not a regular file")))
    assert (type(refused), refused.path, refused.strerror) == (UntrustedFileError, Path("a/fifo"), "not a regular file")


def test_a_language_no_worker_can_split_is_warned_about_once() -> None:
    def read(path: str, language: str, *warnings: str) -> SourceFile:
        return SourceFile(path, FileState(1, 1, "hash"), language, [], warnings=warnings)

    missing = f"chunker 'treesitter' {cannot_split('zig')}: the zig grammar is not installed"
    said: set[str] = set()
    first = reading._said_once([read("a.zig", "zig", missing), read("b.go", "go", "not valid UTF-8")], said)
    second = reading._said_once([read("c.zig", "zig", missing, "not valid UTF-8")], said)  # another worker's first
    assert [f.warnings for f in first + second] == [(missing,), ("not valid UTF-8",), ("not valid UTF-8",)]
