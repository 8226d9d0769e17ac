"""Incremental re-indexing, and an index that survives Ctrl-C and kill -9 mid-run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import AURORA, interruptible, paths, write


def chunk_ids_by_path(root: Path) -> dict[str, list[int]]:
    with sqlite3.connect(root / ".aurora" / "aurora.db") as db:
        rows = db.execute("SELECT path, id FROM chunks ORDER BY id").fetchall()
    found: dict[str, list[int]] = {}
    for path, chunk_id in rows:
        found.setdefault(path, []).append(chunk_id)
    return found


def test_no_change_reindex_reads_nothing_and_keeps_the_lexical_index(indexed: Path, cli) -> None:
    report = cli.json("index", cwd=indexed)
    assert (report["added"], report["changed"], report["removed"], report["unchanged"]) == (0, 0, 0, 5)
    assert report["lexical_rebuilt"] is False


def test_changed_file_is_the_only_one_rechunked(indexed: Path, cli) -> None:
    before = chunk_ids_by_path(indexed)
    (indexed / "notes.txt").write_text("shopping list: apples, pears, quinces\n", encoding="utf-8")
    report = cli.json("index", cwd=indexed)
    assert (report["added"], report["changed"], report["removed"]) == (0, 1, 0)
    assert report["lexical_rebuilt"] is True
    after = chunk_ids_by_path(indexed)
    assert after["notes.txt"] != before["notes.txt"]
    assert {p: ids for p, ids in after.items() if p != "notes.txt"} == {
        p: ids for p, ids in before.items() if p != "notes.txt"
    }
    assert paths(cli.json("search", "quinces", cwd=indexed)) == ["notes.txt"]


def test_touched_but_identical_file_is_not_rechunked(indexed: Path, cli) -> None:
    before = chunk_ids_by_path(indexed)
    os.utime(indexed / "notes.txt", ns=(time.time_ns(), time.time_ns() + 10**9))
    report = cli.json("index", cwd=indexed)
    assert (report["changed"], report["unchanged"], report["lexical_rebuilt"]) == (0, 5, False)
    assert chunk_ids_by_path(indexed) == before


def test_deleted_and_new_files(indexed: Path, cli) -> None:
    (indexed / "notes.txt").unlink()
    write(indexed, {"src/new_module.py": "def brand_new_function():\n    return 42\n"})
    report = cli.json("index", cwd=indexed)
    assert (report["added"], report["removed"]) == (1, 1)
    assert cli("search", "shopping apples", cwd=indexed).returncode == 1
    assert paths(cli.json("search", "brand_new_function", cwd=indexed)) == ["src/new_module.py"]


def test_newly_ignored_file_is_removed(indexed: Path, cli) -> None:
    write(indexed, {".auroraignore": "notes.txt\n"})
    report = cli.json("index", cwd=indexed)
    assert report["removed"] == 1
    assert cli("search", "shopping apples", cwd=indexed).returncode == 1


def test_rebuild_rereads_everything(indexed: Path, cli) -> None:
    report = cli.json("index", "--rebuild", cwd=indexed)
    assert report["added"] == 4 and report["lexical_rebuilt"] is True
    assert paths(cli.json("search", "installer", cwd=indexed)) == ["docs/guide.md"]


def test_two_indexers_at_once_are_refused(indexed: Path, cli) -> None:
    import fcntl

    with open(indexed / ".aurora" / "index.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write("pid 4242")
        lock.flush()
        done = cli("index", cwd=indexed)
    assert done.returncode == 2
    assert "being written by pid 4242" in done.stderr


def big_project(root: Path, files: int) -> None:
    """A tree large enough that indexing takes a few seconds."""
    body = "\n".join(f"def function_{i}(value):\n    return value * {i}\n" for i in range(60))
    write(root, {f"pkg{n // 100}/module_{n}.py": f"# module {n}\n{body}\n" for n in range(files)})


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_index_leaves_the_previous_index_usable(tmp_path: Path, cli, sig: int) -> None:
    root = tmp_path / "big"
    write(root, {"first.py": "def original_marker():\n    pass\n"})
    assert cli("index", cwd=root).returncode == 0
    big_project(root, 1500)
    with interruptible():
        process = subprocess.Popen([AURORA, "index", "-q"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    database = root / ".aurora" / "aurora.db"
    deadline = time.monotonic() + 30
    while not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size < 100_000:
        assert time.monotonic() < deadline and process.poll() is None, "indexing finished before it was interrupted"
        time.sleep(0.02)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=30)
    if sig == signal.SIGINT:
        assert process.returncode == 130
        assert b"interrupted; nothing was changed" in stderr
        assert b"Traceback" not in stderr
    else:
        assert process.returncode == -signal.SIGKILL
    assert paths(cli.json("search", "original_marker", cwd=root)) == ["first.py"]
    assert cli("search", "function_42", cwd=root).returncode == 1
    report = cli.json("index", cwd=root)
    assert report["added"] == 1500
    assert "pkg3/module_321.py" in paths(cli.json("search", "module 321", "-n", "50", cwd=root))
    assert not [p for p in (root / ".aurora" / "lexical").iterdir() if p.name.startswith("tmp-")]


def test_a_long_lived_project_sees_what_another_process_indexed(indexed: Path, cli) -> None:
    import aurora

    project = aurora.open(indexed)
    assert [r.chunk.path for r in project.search("shopping apples").results] == ["notes.txt"]
    (indexed / "notes.txt").write_text("a list of quinces\n", encoding="utf-8")
    assert cli("index", cwd=indexed).returncode == 0
    assert [r.chunk.path for r in project.search("quinces").results] == ["notes.txt"]
    assert project.search("shopping apples").results == []
    project.close()


def test_changed_chunk_settings_rechunk_every_file(tmp_path: Path, cli, isolated_env: Path) -> None:
    write(tmp_path, {"long.txt": "\n".join(f"line {i}" for i in range(100))})
    assert cli("index", cwd=tmp_path).returncode == 0
    write(isolated_env / "config", {"aurora/config.toml": "[index]\nwindow_lines = 10\nwindow_overlap = 0\n"})
    report = cli.json("index", cwd=tmp_path)
    assert report["added"] == 1 and "chunk settings changed" in report["warnings"][0]
    assert report["chunks"] == 10


def test_file_deleted_between_scan_and_read_is_removed(indexed: Path, monkeypatch) -> None:
    from aurora.api import Project
    from aurora.index import reading

    (indexed / "notes.txt").write_text("changed\n", encoding="utf-8")
    real_read = reading.read_file

    def read_after_deletion(root, found, chunkers):
        (root / found.path).unlink()
        return real_read(root, found, chunkers)

    monkeypatch.setattr(reading, "read_file", read_after_deletion)
    report = Project(indexed).index()
    assert (report.removed, report.warnings) == (1, [])
    assert chunk_ids_by_path(indexed).get("notes.txt") is None


def test_index_of_schema_1_is_upgraded_in_place_then_chunked_again_once(indexed: Path, cli) -> None:
    database = indexed / ".aurora" / "aurora.db"
    db = sqlite3.connect(database)
    db.execute("ALTER TABLE files DROP COLUMN chunker")  # what schema 1 had
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    ids = chunk_ids_by_path(indexed)
    assert paths(cli.json("search", "installer", cwd=indexed)) == ["docs/guide.md"]  # upgraded, nothing lost
    assert chunk_ids_by_path(indexed) == ids
    report = cli.json("index", cwd=indexed)
    assert (report["changed"], report["unchanged"], report["recreated"]) == (4, 1, None)
    with sqlite3.connect(database) as db:
        chunkers = dict(db.execute("SELECT path, chunker FROM files"))
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == "2"
    assert chunkers == {
        "docs/guide.md": "markdown@1",
        "logo.png": None,
        "notes.txt": "windows@1",
        "src/auth/tokens.py": "treesitter@3",
        "src/net/http_client.py": "treesitter@3",
    }
    report = cli.json("index", cwd=indexed)
    assert (report["changed"], report["unchanged"]) == (0, 5)
