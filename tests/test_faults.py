"""Fault injection: a kill, a full disk, damaged files, a newer or a read-only index.

Each fault ends in a documented exit code and at most one error line (no traceback),
and a following ``aurora index`` leaves the index searchable and complete.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import write

TREE = {
    "src/alpha.py": "def alpha_handler(request):\n    return request.body\n",
    "src/beta.py": "class BetaCache:\n    def evict(self, key):\n        pass\n",
    "docs/readme.md": "# Readme\n\nThe gamma installer lives here.\n",
}
#: A query per file of TREE, and the file it finds.
EXPECTED = {"alpha_handler": "src/alpha.py", "BetaCache": "src/beta.py", "gamma installer": "docs/readme.md"}
#: Exit codes a fault may end with (docs/cli.md): success, no results, a user's error.
DOCUMENTED = (0, 1, 2)


def run(cli, *args: str, cwd: Path):
    """Run ``aurora ARGS`` and check that it ended as documented: no traceback, one error line at most."""
    done = cli(*args, cwd=cwd)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in DOCUMENTED, (done.returncode, done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith("aurora: error: ")]
    assert len(errors) == (done.returncode == 2), done.stderr
    return done


def found(root: Path, query: str) -> list[str]:
    """Return the paths a lexical search for ``query`` finds (in process: the CLI's runs are checked on their own)."""
    import aurora

    project = aurora.open(root)
    try:
        return [result.chunk.path for result in project.search(query, mode="lexical", limit=10).results]
    finally:
        project.close()


def assert_complete(root: Path, expected: dict[str, str] = EXPECTED) -> None:
    """Check that one search finds every file of the tree, each by its query's words."""
    assert set(found(root, " ".join(expected))) == set(expected.values())


def staging_left(root: Path) -> list[str]:
    """Return the staging folders left in the lexical index folder."""
    folder = root / ".aurora" / "lexical"
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] if folder.is_dir() else []


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tree, indexed once for the module (each test copies it)."""
    root = tmp_path_factory.mktemp("built") / "tree"
    write(root, TREE)
    done = subprocess.run([str(Path(sys.executable).parent / "aurora"), "index"], cwd=root, capture_output=True)
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def tree(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the indexed tree."""
    return Path(shutil.copytree(built, tmp_path / "tree", symlinks=True))


# --- a kill ------------------------------------------------------------------------


def test_kill_9_while_the_lexical_index_is_built_keeps_the_index_and_the_next_run_completes(tree: Path, cli) -> None:
    write(tree, {"src/delta.py": "def delta_router(path):\n    return path\n"})
    killed_in_build = (
        "import os, signal, aurora.index.lexical as lexical\n"
        "lexical._write_manifest = lambda folder: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from aurora.cli.app import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", killed_in_build, "index", "--rebuild"], cwd=tree, capture_output=True)
    assert done.returncode == -9
    assert_complete(tree)  # the previous index, as it was
    assert run(cli, "index", cwd=tree).returncode == 0
    assert not staging_left(tree)
    assert_complete(tree, {**EXPECTED, "delta_router": "src/delta.py"})


# --- a full disk -------------------------------------------------------------------


def test_disk_full_while_indexing_is_one_error_keeps_the_index_and_leaves_nothing_behind(
    tree: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aurora
    import aurora_bm25s.builder
    from aurora.errors import DiskFullError

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    write(tree, {"src/delta.py": "def delta_router(path):\n    return path\n"})
    monkeypatch.setattr(aurora_bm25s.builder, "write_vocab", full)
    with pytest.raises(DiskFullError, match="the disk is full") as raised:
        aurora.open(tree).index()
    assert "aurora index" in raised.value.hint
    assert not staging_left(tree)
    assert found(tree, "delta_router") == []  # the previous index, as it was
    monkeypatch.undo()
    assert run(cli, "index", cwd=tree).returncode == 0
    assert_complete(tree, {**EXPECTED, "delta_router": "src/delta.py"})


def test_a_full_sqlite_database_is_a_disk_full_error() -> None:
    from aurora.common.sqlite import database_error
    from aurora.errors import DiskFullError

    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL
    assert isinstance(database_error("the index database", "/x/aurora.db", full, "rebuild"), DiskFullError)


@contextmanager
def small_tmpfs(folder: Path, size_kb: int) -> Iterator[Path]:
    """Mount a tmpfs of ``size_kb`` at ``folder`` (root only); skip the test where one cannot be mounted."""
    folder.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_full_on_a_small_tmpfs(tmp_path: Path, cli) -> None:
    with small_tmpfs(tmp_path / "disk", 1024) as disk:
        root = disk / "tree"
        write(root, TREE)
        assert run(cli, "index", cwd=root).returncode == 0
        words = " ".join(f"word{n}" for n in range(200_000))  # ~1.5 MB of distinct terms: more than is left
        (root / "big.txt").write_text(words[:600_000], encoding="utf-8")
        done = run(cli, "index", cwd=root)
        assert done.returncode == 2 and "the disk is full" in done.stderr
        assert not staging_left(root)
        assert_complete(root)  # the previous index, as it was
        subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)
        assert run(cli, "index", cwd=root).returncode == 0
        assert_complete(root, {**EXPECTED, "word12345": "big.txt"})


# --- damaged files -------------------------------------------------------------------

#: Every file an index of the default pipeline holds, by a glob under ``.aurora``.
INDEX_FILES = [
    "aurora.db",
    "lexical/*/chunk_ids.npy",
    "lexical/*/data.csc.index.npy",
    "lexical/*/indices.csc.index.npy",
    "lexical/*/indptr.csc.index.npy",
    "lexical/*/params.index.json",
    "lexical/*/vocab.index.json",
    "lexical/*/vocab.sqlite",
    "lexical/*/analyzer.json",
    "lexical/*/stats.json",
    "lexical/*/manifest.json",
    "index.lock",
    ".gitignore",
]


def test_the_fault_list_covers_every_file_of_an_index(built: Path) -> None:
    index = built / ".aurora"
    present = {str(p.relative_to(index)) for p in index.rglob("*") if p.is_file()}
    covered = {str(p.relative_to(index)) for pattern in INDEX_FILES for p in index.glob(pattern)}
    assert present - covered <= {"aurora.db-wal", "aurora.db-shm"}


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
@pytest.mark.parametrize("pattern", INDEX_FILES)
def test_a_damaged_file_is_reported_by_search_and_repaired_by_index(tree: Path, cli, pattern: str, damage: str) -> None:
    index = tree / ".aurora"
    for suffix in ("-wal", "-shm"):  # the database as it is on disk
        Path(f"{index / 'aurora.db'}{suffix}").unlink(missing_ok=True)
    (target,) = index.glob(pattern)
    size = target.stat().st_size
    target.write_bytes(b"" if damage == "truncate" else os.urandom(max(size, 64)))
    searched = run(cli, "search", "alpha_handler", "--no-server", cwd=tree)
    if searched.returncode == 2:
        assert "aurora index" in searched.stderr  # the command that repairs it
    assert run(cli, "index", cwd=tree).returncode == 0
    assert_complete(tree)
    assert (index / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"


def test_inconsistent_bm25_arrays_are_damage_not_an_empty_answer(tree: Path, cli) -> None:
    import numpy as np

    (generation,) = (tree / ".aurora" / "lexical").iterdir()
    np.save(generation / "indices.csc.index.npy", np.full(5, 10**6, dtype=np.int64))  # a valid file, wrong content
    searched = run(cli, "search", "alpha_handler", "--no-server", cwd=tree)
    assert searched.returncode == 2 and "is damaged" in searched.stderr
    done = run(cli, "index", cwd=tree)
    assert "was damaged (" in done.stderr
    assert_complete(tree)


def test_a_damaged_vector_data_file_is_found_when_the_table_opens_and_replaced_on_create(tmp_path: Path) -> None:
    import numpy as np

    from aurora_lancedb.store import open_table

    options = {"ann_threshold": 10_000, "nprobes": 20, "refine_factor": 1}
    uri = str(tmp_path / "vectors")
    table = open_table(uri, "t", 4, True, options)
    table.add([1, 2], ["a1", "b2"], np.eye(2, 4), [{"path": "x", "line_start": 1, "line_end": 2}] * 2)
    (data_file,) = (tmp_path / "vectors" / "t.lance" / "data").iterdir()
    data_file.write_bytes(os.urandom(data_file.stat().st_size))  # same size, no Lance footer
    with pytest.raises(OSError, match="is damaged"):
        open_table(uri, "t", 4, False, options)
    assert open_table(uri, "t", 4, True, options).count() == 0
    assert open_table(uri, "t", 4, False, options).rows() == {}


# --- a newer index, a read-only index --------------------------------------------------


def test_an_index_of_a_newer_aurora_is_refused_not_wiped(tree: Path, cli) -> None:
    database = tree / ".aurora" / "aurora.db"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    for command in (("search", "alpha_handler", "--no-server"), ("index",)):
        done = run(cli, *command, cwd=tree)
        assert done.returncode == 2 and "newer Aurora (schema 99" in done.stderr and "--rebuild" in done.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("99",)
    db.close()
    assert run(cli, "index", "--rebuild", cwd=tree).returncode == 0
    assert_complete(tree)


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` read-only: a read-only bind mount as root (permissions do not bind root), else modes."""
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in [folder, *folder.rglob("*")]}
        for path in modes:
            path.chmod(modes[path] & ~0o222)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_index_is_searched_with_a_note_and_nothing_recorded(tree: Path, cli) -> None:
    index = tree / ".aurora"
    (index / "activation.db").unlink(missing_ok=True)
    with read_only(index):
        done = run(cli, "search", "alpha_handler", "--no-server", cwd=tree)
        assert done.returncode == 0 and done.stdout.startswith("src/alpha.py")
        assert "read-only" in done.stderr
        assert_complete(tree)
        assert run(cli, "index", cwd=tree).returncode == 2
    assert not (index / "activation.db").exists()
