"""The shared plumbing in aurora.common: atomic writes, locks, SQLite errors, install hints, user folders."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aurora.common import atomic, dirs, hints, locks
from aurora.common.sqlite import Problem, classify, database_error
from aurora.errors import BackendNotInstalledError, CorruptIndexError, IndexUnavailableError

# --- atomic writes ---------------------------------------------------------------------


def test_atomic_write_replaces_the_content_and_leaves_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("old", encoding="utf-8")
    atomic.write_text_atomically(path, "new ✓")
    atomic.write_text_atomically(tmp_path / "durable.json", "kept", durable=True)
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert (tmp_path / "durable.json").read_text(encoding="utf-8") == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["durable.json", "state.json"]


def test_atomic_write_interrupted_before_the_replace_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_text("old", encoding="utf-8")

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_text_atomically(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # the temporary file is gone


def test_a_staged_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    final = tmp_path / "cache" / "model"
    with pytest.raises(RuntimeError), atomic.staged_folder(final) as staging:
        (staging / "part").write_text("half", encoding="utf-8")
        raise RuntimeError("killed while building")
    assert not final.exists() and list(final.parent.iterdir()) == []
    with atomic.staged_folder(final, durable=True) as staging:
        (staging / "sub").mkdir()
        (staging / "sub" / "file").write_text("whole", encoding="utf-8")
    assert (final / "sub" / "file").read_text(encoding="utf-8") == "whole"
    assert [p.name for p in final.parent.iterdir()] == ["model"]


def test_a_folder_published_first_by_another_process_is_kept(tmp_path: Path) -> None:
    final = tmp_path / "model"
    with atomic.staged_folder(final) as staging:
        (staging / "mine").touch()
        final.mkdir()
        (final / "theirs").touch()  # published while ours was being built
    assert [p.name for p in final.iterdir()] == ["theirs"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


# --- locks -------------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys
    from aurora.common.locks import LockHeld, ProcessLock

    path, holder, patience_s = sys.argv[1], sys.argv[2] or None, float(sys.argv[3])
    lock = ProcessLock(path, holder=holder)
    if patience_s:
        try:
            lock.acquire()
        except LockHeld:
            print("refused", flush=True)
    lock.acquire(patience_s)
    print("held", flush=True)
    sys.stdin.readline()
    lock.release()
    print("released", flush=True)
    """
)


def hold_in_another_process(path: Path, holder: str = "", patience_s: float = 0.0) -> subprocess.Popen[str]:
    """Start a process that takes the lock, says ``held`` and lets go on a line of input.

    With ``patience_s``, it first says ``refused`` if the lock is taken, then waits for it.
    """
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), holder, str(patience_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> None:
    process.stdin.write("\n")
    process.stdin.flush()
    assert process.stdout.readline() == "released\n"
    assert process.wait(timeout=60) == 0


def test_a_held_lock_reports_its_holder_and_is_free_again_after_release(tmp_path: Path) -> None:
    path = tmp_path / "index.lock"
    holder = hold_in_another_process(path, holder="pid 4242")
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(locks.LockHeld) as refused:
        locks.ProcessLock(path, holder=f"pid {os.getpid()}").acquire()
    assert refused.value.holder == "pid 4242"
    assert path.read_text(encoding="utf-8") == "pid 4242"  # trying did not erase the record
    finish(holder)
    assert path.read_text(encoding="utf-8") == ""  # the record goes with the lock
    with locks.ProcessLock(path, holder="pid 1") as lock:
        assert path.read_text(encoding="utf-8") == "pid 1" and lock.holder == "pid 1"


def test_a_lock_without_a_record_is_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "index.lock"
    holder = hold_in_another_process(path)
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(locks.LockHeld, match="is held by another process") as refused:
        locks.ProcessLock(path).acquire()
    assert refused.value.holder is None
    finish(holder)


def test_patience_waits_for_the_holder_to_let_go(tmp_path: Path) -> None:
    path = tmp_path / "server.lock"
    with locks.ProcessLock(path):
        waiter = hold_in_another_process(path, patience_s=120)
        assert waiter.stdout.readline() == "refused\n"  # then it waits (without patience it fails at once)
    assert waiter.stdout.readline() == "held\n"
    finish(waiter)


def test_the_lock_of_a_killed_holder_is_free_at_once(tmp_path: Path) -> None:
    path = tmp_path / "index.lock"
    holder = hold_in_another_process(path, holder="pid 4242")
    assert holder.stdout.readline() == "held\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    with locks.ProcessLock(path, holder="pid 1"):
        assert path.read_text(encoding="utf-8") == "pid 1"


def test_a_plain_flock_and_the_probe_exclude_filelock_both_ways(tmp_path: Path) -> None:
    import fcntl

    path = tmp_path / "index.lock"
    with open(path, "a+") as handle:  # what an older Aurora, or another tool, takes
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write("pid 4242")
        handle.flush()
        with pytest.raises(locks.LockHeld) as refused:
            locks.ProcessLock(path).acquire()
        assert refused.value.holder == "pid 4242"
    with locks.held_if_free(str(path)) as free:
        assert free
        with pytest.raises(locks.LockHeld):
            locks.ProcessLock(path).acquire()
    holder = hold_in_another_process(path)
    assert holder.stdout.readline() == "held\n"
    with locks.held_if_free(str(path)) as free:
        assert not free
    finish(holder)


def test_the_probe_creates_no_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "nobody.lock"
    with locks.held_if_free(str(path)) as free:
        assert free
    assert not path.exists()


def test_a_lock_where_no_file_can_be_made_raises_oserror(tmp_path: Path) -> None:
    (tmp_path / "a-file").touch()
    with pytest.raises(OSError):
        locks.ProcessLock(tmp_path / "a-file" / "index.lock").acquire()


def test_the_server_lock_is_seen_by_the_client_probe(tmp_path: Path) -> None:
    from aurora.serve.endpoint import Endpoint

    endpoint = Endpoint("/some/project", folder=str(tmp_path))
    assert not endpoint.server_running()
    lock = endpoint.hold_lock()
    try:
        assert endpoint.server_running()
        assert not endpoint.remove_if_stale()
        assert os.stat(endpoint.lock).st_mode & 0o777 == 0o600
    finally:
        lock.release()
    assert not endpoint.server_running()


# --- SQLite errors -----------------------------------------------------------------------


def sqlite_error(path: Path, action: str) -> sqlite3.Error:
    """Return the error SQLite raises for ``action`` on the database at ``path``."""
    try:
        if action == "read":
            sqlite3.connect(path).execute("SELECT * FROM t").fetchall()
        elif action == "read-only":
            sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO t VALUES (1)")
        elif action == "unknown table":
            sqlite3.connect(path).execute("SELECT * FROM missing").fetchall()
        else:
            sqlite3.connect(path, timeout=0).execute("SELECT * FROM t").fetchall()
    except sqlite3.Error as exc:
        return exc
    raise AssertionError(f"{action} on {path} raised nothing")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    db.close()
    return path


def test_sqlite_errors_are_classified(database: Path, tmp_path: Path) -> None:
    assert classify(sqlite_error(database, "unknown table")) is Problem.SCHEMA
    assert classify(sqlite_error(database, "read-only")) is Problem.READ_ONLY
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    assert classify(sqlite_error(database, "locked")) is Problem.LOCKED
    holder.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    assert classify(sqlite_error(garbage, "read")) is Problem.DAMAGED
    folder = tmp_path / "folder.db"
    folder.mkdir()
    assert classify(sqlite_error(folder, "read")) is Problem.OTHER
    assert classify(sqlite3.OperationalError("database is locked")) is Problem.LOCKED  # no code: its words


def test_the_users_errors_keep_their_messages(database: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    damaged = database_error(
        "the index database", garbage, sqlite_error(garbage, "read"), "run `aurora index --rebuild`"
    )
    assert isinstance(damaged, CorruptIndexError)
    assert damaged.message == f"the index database {garbage} is damaged: file is not a database"
    assert damaged.hint == "run `aurora index --rebuild`"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    locked = database_error("the access history", database, sqlite_error(database, "locked"), "unused")
    holder.close()
    assert isinstance(locked, IndexUnavailableError)
    assert locked.message == f"cannot use the access history {database}: database is locked"
    assert locked.hint == "another process holds it; try again"
    read_only = database_error("the index database", database, sqlite_error(database, "read-only"), "unused")
    assert isinstance(read_only, IndexUnavailableError)
    assert read_only.hint == "check the folder's permissions and space"


# --- install hints -----------------------------------------------------------------------


def test_install_hints_name_the_extra_that_brings_a_library() -> None:
    assert hints.install_hint("aurora-search", "fastembed.text") == "pip install 'aurora-search[fastembed]'"
    assert hints.install_hint("aurora-search", "left_pad") == "pip install left_pad  (needed by aurora-search)"
    assert hints.install_hint("no-such-distribution-here", "left_pad.x") == "pip install left_pad"
    assert hints.install_hint(None, "left_pad") == "reinstall the package that provides this plugin"
    error = BackendNotInstalledError("lancedb", "aurora-search", "lancedb")
    assert (error.message, error.hint) == ("lancedb is not installed", "pip install 'aurora-search[lancedb]'")


# --- user folders ------------------------------------------------------------------------


def test_absolute_xdg_variables_name_the_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aurora.config.layers import user_config_path

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert dirs.user_config_dir() == tmp_path / "config" / "aurora"
    assert dirs.user_cache_dir() == tmp_path / "cache" / "aurora"
    assert user_config_path() == tmp_path / "config" / "aurora" / "config.toml"


@pytest.mark.parametrize("xdg", ["unset", "relative", "absolute"])
def test_the_folders_are_platformdirs_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: str) -> None:
    import platformdirs

    for variable in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        if xdg == "unset":
            monkeypatch.delenv(variable)
        else:
            monkeypatch.setenv(variable, "relative/folder" if xdg == "relative" else str(tmp_path / variable))
    assert str(dirs.user_config_dir()) == platformdirs.user_config_dir("aurora", appauthor=False)
    assert str(dirs.user_cache_dir()) == platformdirs.user_cache_dir("aurora", appauthor=False)


@pytest.mark.skipif(sys.platform == "win32", reason="platformdirs finds Windows' folders")
def test_the_client_path_and_the_user_folders_import_neither_platformdirs_nor_filelock() -> None:
    code = (
        "import sys\n"
        "import aurora.serve.client, aurora.serve.endpoint, aurora.errors\n"
        "from aurora.common import atomic, dirs, hints, layout, locks\n"
        "dirs.user_config_dir(), dirs.user_cache_dir()\n"
        "with locks.held_if_free('/nonexistent/aurora.lock'): pass\n"
        "print(sorted({'platformdirs', 'filelock', 'packaging'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
