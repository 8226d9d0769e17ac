"""Bad input gets one clear line on stderr (plus a hint), a documented exit code and no traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import paths, write


def assert_one_line_error(done, *fragments: str, code: int = 2) -> None:
    """Check the exit code, that stderr is an error line plus at most a hint, and its content."""
    assert done.returncode == code, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert lines[0].startswith("aurora: error: ")
    assert len(lines) <= 2 and all(line.startswith("  hint: ") for line in lines[1:])
    for fragment in fragments:
        assert fragment in done.stderr


def test_no_index_says_to_run_aurora_index(tmp_path: Path, cli) -> None:
    assert_one_line_error(cli("search", "anything", cwd=tmp_path), "no index", "run `aurora index`")


def test_unknown_pipeline_lists_the_available_ones(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": '[pipelines.code]\nlexical = "bm25s"\n'})
    done = cli("search", "token", "--pipeline", "nope", cwd=indexed)
    assert_one_line_error(done, "unknown pipeline 'nope'", "available: code, default")


def test_unknown_backend_lists_installed_plugins(indexed: Path, cli) -> None:
    done = cli("search", "token", "--backend", "nope", cwd=indexed)
    assert_one_line_error(done, "unknown backend 'nope'", "bm25s (lexical)")


def test_unknown_plugin_in_config_names_the_file_and_the_available_ones(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": '[pipelines.default.lexical]\nplugin = "bm52"\n'})
    done = cli("search", "token", cwd=indexed)
    assert_one_line_error(done, "aurora.toml", "unknown lexical plugin 'bm52'", "available: bm25s")


def test_malformed_toml_names_file_and_line(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": '[index]\nhidden = false\nexclude = ["a", \n[search]\n'})
    done = cli("search", "token", cwd=indexed)
    assert_one_line_error(done, f"{indexed / 'aurora.toml'}:4:", "invalid TOML")


def test_malformed_pyproject_is_reported_too(indexed: Path, cli) -> None:
    write(indexed, {"pyproject.toml": "[tool.aurora\n"})
    assert_one_line_error(cli("search", "token", cwd=indexed), "pyproject.toml:1:", "invalid TOML")


def test_wrong_value_names_key_and_allowed_values(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": '[pipelines.default.lexical]\nplugin = "bm25s"\nk1 = "high"\n'})
    done = cli("search", "token", cwd=indexed)
    assert_one_line_error(done, "aurora.toml", "pipelines.default.lexical.k1", "allowed: a number from 0 to 10")


def test_role_that_is_neither_a_name_nor_a_table(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": "[pipelines.default]\nlexical = 5\n"})
    assert_one_line_error(cli("search", "token", cwd=indexed), "pipelines.default.lexical must be a plugin name")


def test_unknown_key_lists_the_allowed_ones(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": "[search]\nlimt = 5\n"})
    assert_one_line_error(cli("search", "token", cwd=indexed), "unknown key search.limt", "search.limit")


def test_missing_path_is_a_usage_error(tmp_path: Path, cli) -> None:
    assert_one_line_error(cli("index", str(tmp_path / "nowhere"), cwd=tmp_path), "no such folder")
    done = cli("search", "x", "--root", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert_one_line_error(done, "nowhere: no such folder")


def test_mistyped_root_inside_an_indexed_project_is_not_resolved_upwards(indexed: Path, cli) -> None:
    done = cli("search", "token", "--root", "src/nonexistent", cwd=indexed)
    assert_one_line_error(done, "src/nonexistent: no such folder")


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_empty_or_whitespace_query(indexed: Path, cli, query: str) -> None:
    assert_one_line_error(cli("search", query, cwd=indexed), "the query is empty")


def test_older_schema_asks_for_reindex_then_index_rebuilds_it(indexed: Path, cli) -> None:
    database = indexed / ".aurora" / "aurora.db"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    assert_one_line_error(cli("search", "token", cwd=indexed), "schema version 0", "aurora index")
    done = cli("index", cwd=indexed)
    assert done.returncode == 0
    assert "rebuilt the index from scratch" in done.stderr
    assert paths(cli.json("search", "installer", cwd=indexed)) == ["docs/guide.md"]


def test_corrupt_database_asks_for_rebuild(indexed: Path, cli) -> None:
    database = indexed / ".aurora" / "aurora.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.write_bytes(b"this is not a database" * 100)
    assert_one_line_error(cli("search", "token", cwd=indexed), "is damaged", "aurora index --rebuild")
    assert cli("index", cwd=indexed).returncode == 0
    assert paths(cli.json("search", "installer", cwd=indexed)) == ["docs/guide.md"]


def test_damaged_lexical_files_ask_for_rebuild_instead_of_finding_nothing(indexed: Path, cli) -> None:
    for generation in (indexed / ".aurora" / "lexical").iterdir():
        (generation / "chunk_ids.npy").write_bytes(b"")
    assert_one_line_error(cli("search", "token", cwd=indexed), "lexical index", "is damaged", "--rebuild")
    assert cli("index", "--rebuild", cwd=indexed).returncode == 0
    assert paths(cli.json("search", "installer", cwd=indexed)) == ["docs/guide.md"]


def test_damaged_vocabulary_is_reported_at_query_time(indexed: Path, cli) -> None:
    for generation in (indexed / ".aurora" / "lexical").iterdir():
        (generation / "vocab.sqlite").write_bytes(b"garbage" * 1000)
    assert_one_line_error(cli("search", "token", cwd=indexed), "is damaged", "--rebuild")


def test_index_that_cannot_be_opened_is_reported_not_deleted(indexed: Path, cli) -> None:
    database = indexed / ".aurora" / "aurora.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.mkdir()  # something SQLite cannot open, but that is not a damaged database
    assert_one_line_error(cli("index", cwd=indexed), "cannot use the index database")
    assert database.is_dir()


def test_locked_database_is_unavailable_not_damaged(tmp_path: Path) -> None:
    from aurora.errors import IndexUnavailableError
    from aurora.index.store import database_error

    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        sqlite3.connect(path, timeout=0).execute("SELECT * FROM t")
    except sqlite3.OperationalError as exc:
        error = database_error(path, exc)
    assert isinstance(error, IndexUnavailableError) and "try again" in error.hint


def test_plugin_whose_import_fails_names_the_missing_extra(indexed: Path, cli, tmp_path: Path) -> None:
    site = tmp_path / "site"
    write(
        site,
        {
            "broken_plugin.py": "import definitely_missing_lib\n",
            "aurora_broken-1.0.dist-info/METADATA": (
                "Metadata-Version: 2.1\nName: aurora-broken\nVersion: 1.0\nProvides-Extra: fancy\n"
                'Requires-Dist: definitely-missing-lib; extra == "fancy"\n'
            ),
            "aurora_broken-1.0.dist-info/entry_points.txt": "[aurora.lexical]\nbroken = broken_plugin\n",
        },
    )
    done = cli("search", "token", "--backend", "broken", cwd=indexed, env={"PYTHONPATH": str(site)})
    assert_one_line_error(
        done, "plugin 'broken' failed to import", "definitely_missing_lib", "pip install 'aurora-broken[fancy]'"
    )
