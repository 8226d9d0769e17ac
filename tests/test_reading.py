"""Files read and chunked in worker processes: the same chunks as in one process, and a way back when workers cannot."""

from __future__ import annotations

import pickle
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE, write

from aurora.api import Project
from aurora.common.untrusted import UntrustedFileError
from aurora.index import reading
from aurora.index.chunking import FALLBACK_FAILED, Chunkers, cannot_split
from aurora.index.sources import SourceFile
from aurora.index.store import FileState
from aurora.index.walker import FoundFile
from aurora.plugin import Chunk, PluginDescription, hookimpl

two_cores = pytest.mark.skipif(reading.available_cores() < 2, reason="workers are used only with two cores or more")

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


def not_here(*_: object) -> None:
    raise AssertionError("the files were read in this process")


@two_cores
def test_workers_chunk_a_tree_exactly_as_one_process_does(
    tmp_path: Path, isolated_env: Path, every_run_uses_workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tree_sitter_go")
    files = SAMPLE | {f"client/client_{n}.go": GO.replace("Do", f"Do{n}") for n in range(12)}
    write(tmp_path / "one", files)
    shutil.copytree(tmp_path / "one", tmp_path / "many")
    serial = index_with_workers(tmp_path / "one", isolated_env / "config", workers=1)
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


@two_cores
def test_a_chunker_registered_in_process_reads_here(
    tmp_path: Path, isolated_env: Path, every_run_uses_workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {f"notes/{n}.txt": f"first thought {n}\nsecond thought {n}\n" for n in range(6)})
    write(isolated_env / "config", {"aurora/config.toml": '[index]\nworkers = 2\nchunkers = ["lines"]\n'})
    monkeypatch.setattr(reading, "_read_in_workers", not_here)  # a worker would find no plugin of that name
    project = Project(tmp_path)
    project.host.register(Lines(), "lines", "chunker")
    report = project.index()
    project.close()
    assert (report.added, report.chunks, report.warnings) == (6, 12, [])
    chunks, _ = stored(tmp_path)
    assert {row[5] for row in chunks} == {"line"}


@two_cores
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


def source(path: str, language: str, *warnings: str) -> SourceFile:
    """A file read with ``warnings``."""
    return SourceFile(path, FileState(1, 1, "hash"), language, [], warnings=warnings)


def test_a_language_no_worker_can_split_is_warned_about_once_as_in_one_process() -> None:
    missing = f"chunker 'treesitter' {cannot_split('zig')}: the zig grammar is not installed"
    both = f"{missing}{FALLBACK_FAILED}'windows' failed (ValueError: no)"
    said: set[str] = set()
    files = [
        source("a.zig", "zig", missing),
        source("b.go", "go", "not valid UTF-8"),
        source("c.zig", "zig", missing, "not valid UTF-8"),  # another worker's first zig file
        source("d.zig", "zig", both),  # and a third's, whose fallback failed too
    ]
    warnings = [reading._said_once(file, said).warnings for file in files]
    fallback_failed = ("fallback 'windows' failed (ValueError: no)",)
    assert warnings == [(missing,), ("not valid UTF-8",), ("not valid UTF-8",), fallback_failed]


def test_a_pool_that_breaks_midway_leaves_the_rest_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures.process import BrokenProcessPool

    items = [FoundFile(f"f{n}.txt", 1, 1) for n in range(5)]

    def breaks_after_two(root: Path, queued: list[FoundFile], recipe: object, workers: int):
        yield from (source(item.path, "text") for item in queued[:2])
        raise BrokenProcessPool("a worker died")

    monkeypatch.setattr(reading, "_read_in_workers", breaks_after_two)
    monkeypatch.setattr(reading, "_read_here", lambda root, rest, chunkers: (source(i.path, "text") for i in rest))
    chunkers = type("Loaded", (), {"recipe": lambda self: "a recipe"})()
    warnings: list[str] = []
    read = [outcome.path for outcome in reading.read_files(tmp_path, items, chunkers, 2, warnings.append)]
    assert read == [item.path for item in items]
    assert len(warnings) == 1 and "BrokenProcessPool: a worker died" in warnings[0]


def test_workers_are_as_many_as_the_cores_and_the_work_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "available_cores", lambda: 8)
    monkeypatch.setattr(reading, "_main_script_is_safe_to_import", lambda: True)
    files = [FoundFile("a", 3_000_000, 1)]  # three halves of the threshold: three workers at most
    assert [reading.worker_count(n, files) for n in (0, 1, 2, 16)] == [3, 1, 2, 3]
    assert reading.worker_count(0, [FoundFile("a", 1_999_999, 1)]) == 1  # under the threshold: none
    monkeypatch.setattr(reading, "_main_script_is_safe_to_import", lambda: False)
    assert (reading.worker_count(0, files), reading.worker_count(2, files)) == (0, 2)  # a script opts in


def test_a_script_gets_workers_only_when_it_guards_its_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import aurora.entry

    def main_module(text: str | None, **names: object) -> types.ModuleType:
        module = types.ModuleType("__main__")
        if text is not None:
            script = tmp_path / f"script_{len(list(tmp_path.iterdir()))}.py"
            script.write_text(text, encoding="utf-8")
            module.__file__ = str(script)
        module.__dict__.update(names)
        return module

    console = "import sys\nfrom aurora.entry import main\nif __name__ == '__main__':\n    sys.exit(main())\n"
    unguarded = "from aurora.entry import main\nmain()\n"
    cases = {
        "pip's console script": (main_module(console, main=aurora.entry.main), True),
        "a wrapper without the guard": (main_module(unguarded, main=aurora.entry.main), False),
        "any other script": (main_module("import aurora\n"), False),
        "an interactive session": (main_module(None), True),
    }
    for name, (module, safe) in cases.items():
        monkeypatch.setitem(sys.modules, "__main__", module)
        assert reading._main_script_is_safe_to_import() is safe, name
