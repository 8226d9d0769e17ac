"""End to end through the real CLI: index a project, search it, read human and JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import AURORA, paths, write


def test_index_prints_a_one_line_summary(project: Path, cli) -> None:
    done = cli("index", cwd=project)
    assert done.returncode == 0, done.stderr
    summary = done.stdout.strip().splitlines()
    assert len(summary) == 1
    assert summary[0].startswith("Indexed 4 files (")
    assert "4 new" in summary[0] and "skipped 1 binary" in summary[0]
    assert (project / ".aurora" / ".gitignore").read_text().strip().endswith("*")


def test_search_json_document_has_the_documented_shape(indexed: Path, cli) -> None:
    document = cli.json("search", "load settings from disk", cwd=indexed)
    assert set(document) >= {"query", "mode", "warnings", "results"}
    assert document["query"] == "load settings from disk"
    assert document["mode"] == "lexical"
    assert document["warnings"] == []
    best = document["results"][0]
    assert best["path"] == "src/auth/tokens.py"
    assert best["symbol"] == "load_settings"
    assert (best["line_start"], best["line_end"]) == (18, 22)  # from the comment above its decorator
    assert best["scores"]["lexical"] > 0 and best["score"] > 0  # the code reranker's score, from the lexical one
    assert "load settings from disk" in best["snippet"].lower()
    assert all(not Path(p).is_absolute() for p in paths(document))


def test_human_output_shows_path_lines_symbol_and_snippet(indexed: Path, cli) -> None:
    done = cli("search", "load settings from disk", "--limit", "1", cwd=indexed)
    assert done.returncode == 0
    header, *snippet = done.stdout.strip().splitlines()
    assert header.startswith("src/auth/tokens.py:18-22  load_settings  ")
    assert any("Load settings from disk" in line for line in snippet)
    assert "\x1b[" not in done.stdout  # not a terminal: no colour


def test_color_always_highlights_matches(indexed: Path, cli) -> None:
    done = cli("search", "TimeoutError", "--color", "always", cwd=indexed)
    assert "\x1b[1;31mTimeoutError\x1b[0m" in done.stdout


def test_identifier_parts_find_compound_identifiers(indexed: Path, cli) -> None:
    document = cli.json("search", "Timeout", cwd=indexed)
    assert paths(document)[0] == "src/net/http_client.py"
    document = cli.json("search", "auth", cwd=indexed)
    assert "src/auth/tokens.py" in paths(document)


def test_search_works_from_a_subfolder_and_with_root(indexed: Path, cli, tmp_path: Path) -> None:
    assert paths(cli.json("search", "installer", cwd=indexed / "src" / "net")) == ["docs/guide.md"]
    assert paths(cli.json("search", "installer", "--root", str(indexed), cwd=tmp_path)) == ["docs/guide.md"]


def test_markdown_result_names_its_section(indexed: Path, cli) -> None:
    best = cli.json("search", "installer restart shell", cwd=indexed)["results"][0]
    assert best["symbol"] == "Guide > Installation"


def test_ignored_and_binary_files_are_not_indexed(indexed: Path, cli) -> None:
    assert cli("search", "generated_function", cwd=indexed).returncode == 1
    assert "debug.log" not in paths(cli.json("search", "quarterly report", cwd=indexed))


def test_files_mode_ranks_files_once_each(indexed: Path, cli) -> None:
    document = cli.json("search", "token tokens user", "--files", cwd=indexed)
    assert document["files"] is True
    assert len(paths(document)) == len(set(paths(document)))
    assert paths(document)[0] == "src/auth/tokens.py"
    assert document["results"][0]["matches"] >= 2


def test_limit_caps_results(indexed: Path, cli) -> None:
    assert len(cli.json("search", "token", cwd=indexed)["results"]) > 1
    assert len(cli.json("search", "token", "-n", "1", cwd=indexed)["results"]) == 1


def test_query_of_stopwords_only_says_why_nothing_matched(indexed: Path, cli) -> None:
    done = cli("search", "the of a", cwd=indexed)
    assert done.returncode == 1
    assert "no searchable terms" in done.stderr


def test_no_results_exits_1(indexed: Path, cli) -> None:
    done = cli("search", "xylophone", cwd=indexed)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no results" in done.stderr
    done = cli("search", "xylophone", "--json", cwd=indexed)
    assert done.returncode == 1
    assert json.loads(done.stdout)["results"] == []


def test_semantic_mode_without_embedder_answers_lexically_with_a_warning(indexed: Path, cli) -> None:
    document = cli.json("search", "refresh tokens", "--mode", "hybrid", cwd=indexed)
    assert document["mode"] == "lexical"
    assert "no embedder" in document["warnings"][0]


def test_python_dash_m_aurora_works(indexed: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aurora", "search", "installer", "--json"], cwd=indexed, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert paths(json.loads(done.stdout)) == ["docs/guide.md"]


def test_version(tmp_path: Path) -> None:
    done = subprocess.run([AURORA, "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("aurora ")


def test_python_api_matches_the_cli(indexed: Path, cli) -> None:
    import aurora

    project = aurora.open(indexed / "docs")
    response = project.search("refresh auth tokens", limit=3, record=False)  # the CLI then sees the same history
    via_cli = cli.json("search", "refresh auth tokens", "-n", "3", cwd=indexed)
    assert [r.to_dict() for r in response.results] == via_cli["results"]
    project.close()


def test_latin1_file_is_indexed_with_a_warning(project: Path, cli) -> None:
    write(project, {"legacy.txt": "caf\xe9 cr\xe8me br\xfbl\xe9e recipe\n".encode("latin-1")})
    done = cli("index", cwd=project)
    assert done.returncode == 0
    assert "legacy.txt: not valid UTF-8" in done.stderr
    best = cli.json("search", "crème brûlée", cwd=project)["results"][0]
    assert best["path"] == "legacy.txt" and "crème brûlée" in best["snippet"]


def test_human_paths_are_relative_to_the_current_folder(indexed: Path, cli) -> None:
    done = cli("search", "installer", cwd=indexed / "src" / "net")
    assert done.stdout.startswith("../../docs/guide.md:")
    assert cli.json("search", "installer", cwd=indexed / "src" / "net")["results"][0]["path"] == "docs/guide.md"


def test_quiet_index_prints_nothing_and_the_summary_names_another_root(project: Path, cli, tmp_path: Path) -> None:
    write(project, {"legacy.txt": b"caf\xe9\n"})
    done = cli("index", "-q", cwd=project)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = cli("index", str(project), cwd=tmp_path)
    assert done.stdout.startswith(f"{project}: Indexed 5 files")
