"""A cloned repository is hostile input: links and special files where Aurora reads, and an index kept private."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
from conftest import write
from test_errors import assert_one_line_error

from aurora.common.private import private_file, private_folder
from aurora.common.untrusted import UntrustedFileError, read_regular
from aurora.index.walker import FoundFile, Skipped, WalkSettings, walk

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="links, FIFOs and modes as on POSIX")


@posix_only
def test_only_regular_files_under_the_cap_are_read(tmp_path: Path) -> None:
    write(tmp_path, {"root/notes.txt": "hello", "outside.txt": "secret"})
    root = tmp_path / "root"
    os.mkfifo(root / "pipe")
    (root / "zero").symlink_to("/dev/zero")
    (root / "away").symlink_to(tmp_path / "outside.txt")
    (root / "near").symlink_to(root / "notes.txt")
    assert read_regular(root / "notes.txt", 5) == b"hello"
    assert read_regular(root / "near", 5, inside=root) == b"hello"
    reasons = {}
    for name, cap, inside in (("notes.txt", 4, None), ("pipe", 99, None), ("zero", 99, None), ("away", 99, root)):
        with pytest.raises(UntrustedFileError) as caught:
            read_regular(root / name, cap, inside)
        reasons[name] = caught.value.strerror
    assert reasons == {
        "notes.txt": "larger than 4 bytes: not read",
        "pipe": "not a regular file: not read",
        "zero": "not a regular file: not read",
        "away": "a symbolic link that leaves the project: not read",
    }
    with pytest.raises(FileNotFoundError):
        read_regular(root / "missing", 99)


@posix_only
def test_ignore_files_that_are_links_or_pipes_are_skipped_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path, {"kept.py": "x = 1\n", "sub/also.py": "y = 2\n", "deep/.gitignore": "*.log\n", "deep/a.log": "log"})
    (tmp_path / ".gitignore").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "sub" / ".auroraignore")
    found = list(walk(tmp_path, WalkSettings()))
    assert sorted(item.path for item in found if isinstance(item, FoundFile)) == ["kept.py", "sub/also.py"]
    assert sorted((item.path, item.reason) for item in found if isinstance(item, Skipped)) == [
        (".gitignore", "a symbolic link that leaves the project: not read; its ignore rules do not apply"),
        ("sub/.auroraignore", "not a regular file: not read; its ignore rules do not apply"),
    ]


@posix_only
def test_links_leaving_the_root_are_not_followed_unless_allowed(tmp_path: Path) -> None:
    write(tmp_path, {"home/.ssh/id_ed25519": "PRIVATE KEY", "repo/src/app.py": "x = 1\n", "repo/docs/guide.md": "hi"})
    repo = tmp_path / "repo"
    (repo / "keys").symlink_to(tmp_path / "home" / ".ssh")
    (repo / "guide.md").symlink_to(repo / "docs" / "guide.md")

    def files(settings: WalkSettings) -> list[str]:
        return sorted(item.path for item in walk(repo, settings) if isinstance(item, FoundFile))

    following = WalkSettings(follow_symlinks=True)
    assert files(following) == ["docs/guide.md", "guide.md", "src/app.py"]
    skipped = [(item.path, item.reason) for item in walk(repo, following) if isinstance(item, Skipped)]
    assert skipped == [("keys", "symbolic link leaves the project root: not followed")]
    everywhere = WalkSettings(follow_symlinks=True, links_leaving_root=True)
    assert files(everywhere) == ["docs/guide.md", "guide.md", "keys/id_ed25519", "src/app.py"]


@posix_only
def test_an_index_run_survives_hostile_ignore_files_and_pipes(tmp_path: Path, cli) -> None:
    write(tmp_path, {"app.py": "def handler(request):\n    return request\n", "sub/util.py": "def helper():\n    pass"})
    (tmp_path / ".gitignore").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "sub" / ".auroraignore")
    os.mkfifo(tmp_path / "sub" / "fifo.py")
    report = cli.json("index", cwd=tmp_path)
    assert report["added"] == 2
    assert sorted(report["warnings"]) == [
        ".gitignore: a symbolic link that leaves the project: not read; its ignore rules do not apply",
        "sub/.auroraignore: not a regular file: not read; its ignore rules do not apply",
    ]


@posix_only
def test_the_index_is_private_and_an_old_wide_one_is_tightened(tmp_path: Path, cli) -> None:
    write(tmp_path, {"secret.py": "TOKEN = 'abc'\n"})
    (tmp_path / "secret.py").chmod(0o600)
    old = os.umask(0o022)
    try:
        cli.json("index", cwd=tmp_path)
        cli.json("search", "token", cwd=tmp_path)  # starts the access history
        folder = tmp_path / ".aurora"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        wide = [p for p in folder.rglob("*") if not p.is_symlink() and p.stat().st_mode & 0o077]
        assert wide == []
        folder.chmod(0o755)
        (folder / "aurora.db").chmod(0o644)
        write(tmp_path, {"more.py": "x = 2\n"})
        cli.json("index", cwd=tmp_path)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "aurora.db").stat().st_mode) == 0o600
    finally:
        os.umask(old)


@posix_only
def test_private_helpers_make_owner_only_folders_and_files(tmp_path: Path) -> None:
    folder = tmp_path / "a" / ".aurora"
    private_folder(folder)
    database = folder / "aurora.db"
    private_file(database)
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
        journals = [p for p in folder.iterdir() if p.name != "aurora.db"]
        assert journals and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in journals)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


@posix_only
def test_configuration_files_that_are_links_or_pipes_are_skipped_with_a_notice(tmp_path: Path, cli) -> None:
    write(tmp_path, {"app.py": "def handler(request):\n    return request\n"})
    (tmp_path / "aurora.toml").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pyproject.toml")
    done = cli("index", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 1
    assert f"{tmp_path / 'aurora.toml'}: a symbolic link that leaves the project: not read" in done.stderr
    assert f"{tmp_path / 'pyproject.toml'}: not a regular file: not read; its settings do not apply" in done.stderr


@posix_only
def test_only_the_users_own_configuration_lets_links_leave_the_root(tmp_path: Path, cli, isolated_env: Path) -> None:
    write(tmp_path, {"home/.ssh/id_ed25519": "PRIVATE KEY material", "repo/app.py": "x = 1\n"})
    repo = tmp_path / "repo"
    (repo / "keys").symlink_to(tmp_path / "home" / ".ssh")
    write(repo, {"aurora.toml": "[index]\nfollow_symlinks = true\nlinks_leaving_root = true\n"})
    done = cli("index", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "index.links_leaving_root is ignored: only" in done.stderr
    assert json.loads(done.stdout)["warnings"] == ["keys: symbolic link leaves the project root: not followed"]
    assert json.loads(cli("search", "PRIVATE KEY material", "--json", cwd=repo).stdout)["results"] == []
    write(isolated_env / "config" / "aurora", {"config.toml": "[index]\nlinks_leaving_root = true\n"})
    write(repo, {"aurora.toml": "[index]\nfollow_symlinks = true\n"})
    cli.json("index", cwd=repo)
    found = json.loads(cli("search", "PRIVATE KEY material", "--json", cwd=repo).stdout)["results"]
    assert [result["path"] for result in found] == ["keys/id_ed25519"]


def test_a_deeply_nested_configuration_is_a_one_line_error(tmp_path: Path, cli) -> None:
    write(tmp_path, {"app.py": "x = 1\n", "aurora.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n"})
    assert_one_line_error(cli("index", cwd=tmp_path), "aurora.toml: invalid TOML")
