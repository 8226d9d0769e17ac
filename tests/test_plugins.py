"""Plugin discovery through entry points, and a third-party plugin (contrib/aurora-lexical-fts5) end to end."""

from __future__ import annotations

from pathlib import Path

from conftest import paths

from aurora.host.registry import PluginHost, discover


def test_discovery_reads_entry_points_of_every_installed_distribution() -> None:
    found = {(e.name, e.role, e.distribution) for e in discover()}
    assert ("bm25s", "lexical", "aurora-search") in found
    assert ("fts5", "lexical", "aurora-lexical-fts5") in found


def test_plugins_list_shows_name_role_and_distribution(tmp_path: Path, cli) -> None:
    done = cli("plugins", "list", cwd=tmp_path)
    assert done.returncode == 0
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["NAME", "ROLE", "DISTRIBUTION", "VERSION", "MODULE"]
    assert any(row.split()[:3] == ["fts5", "lexical", "aurora-lexical-fts5"] for row in rows)
    listed = cli.json("plugins", "list", cwd=tmp_path)
    bm25s = next(entry for entry in listed if entry["name"] == "bm25s")
    assert {"role": "lexical", "module": "aurora_bm25s", "distribution": "aurora-search"}.items() <= bm25s.items()


def test_host_calls_only_the_selected_plugin() -> None:
    host = PluginHost()
    bm25 = host.load("lexical", "bm25s")
    fts5 = host.load("lexical", "FTS5")  # names compare case-insensitively
    assert host.call(bm25, "aurora_describe").options["k1"].default == 1.2
    assert set(host.call(fts5, "aurora_describe").options) == {"tokenizer"}
    assert host.load("lexical", "bm25s") is bm25


def test_third_party_backend_indexes_and_searches(indexed: Path, cli) -> None:
    assert cli("index", "--backend", "fts5", cwd=indexed).returncode == 0
    document = cli.json("search", "installer", "--backend", "fts5", cwd=indexed)
    assert paths(document) == ["docs/guide.md"]
    assert document["results"][0]["scores"]["lexical"] > 0
    # the default pipeline's own index is still there, side by side
    assert paths(cli.json("search", "installer", cwd=indexed)) == ["docs/guide.md"]


def test_lexical_index_of_another_backend_is_kept_up_to_date(indexed: Path, cli) -> None:
    assert cli("index", "--backend", "fts5", cwd=indexed).returncode == 0
    (indexed / "notes.txt").write_text("a note about quinces\n", encoding="utf-8")
    assert cli("index", cwd=indexed).returncode == 0
    assert paths(cli.json("search", "quinces", "--backend", "fts5", cwd=indexed)) == ["notes.txt"]


def test_search_with_settings_that_were_never_indexed_says_how_to_build(indexed: Path, cli) -> None:
    (indexed / "aurora.toml").write_text("[pipelines.default.lexical]\nplugin = 'bm25s'\nk1 = 2.0\n")
    done = cli("search", "token", cwd=indexed)
    assert done.returncode == 2
    assert "no lexical index for plugin bm25s" in done.stderr and "run `aurora index`" in done.stderr
