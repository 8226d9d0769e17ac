"""Habits from grep and ripgrep: -C context, --vimgrep, hyperlinks only on a terminal, stale results, opt-in server."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import typer.main
from conftest import write

import aurora
from aurora.cli.app import app
from aurora.cli.render import output_text, results_text, results_vimgrep
from aurora.config.layers import HOST_OPTIONS
from aurora.search.snippets import line_filter, make_snippet
from aurora.serve.autostart import maybe_start_server, wanted
from aurora.serve.client import output_request

QUERY = "refresh auth tokens"
TEXT = "def a():\n    x = 1\n    y = 2\n    token = 3\n    z = 4\n    w = 5\n    return token\n"


def snippet(context: int, max_lines: int = 1) -> list:
    return make_snippet(
        TEXT,
        10,
        {"token"},
        lambda line: re.findall(r"\w+", line.lower()),
        max_lines,
        line_filter("token", {"token"}),
        context,
    )


def test_context_adds_the_chunk_s_lines_around_each_chosen_line() -> None:
    assert [(line.number, line.context) for line in snippet(0)] == [(13, False)]
    assert [(line.number, line.context) for line in snippet(1)] == [(12, True), (13, False), (14, True)]
    around_both = snippet(1, max_lines=2)  # two matching lines: their context merges where it meets
    assert [line.number for line in around_both] == [12, 13, 14, 15, 16]
    assert [line.number for line in snippet(100)] == list(range(10, 17))  # never beyond the chunk


def test_the_column_is_where_the_first_term_matches_in_the_file_s_line() -> None:
    (line,) = snippet(0)
    assert line.column == 5  # "    token = 3"
    long_line = "x = 1; " * 60 + "token = 2"
    (cut,) = make_snippet(
        long_line, 1, {"token"}, lambda text: re.findall(r"\w+", text.lower()), 1, line_filter("token", {"token"})
    )
    assert cut.start > 0 and cut.column == long_line.index("token") + 1


def test_a_search_with_context_and_its_text(indexed: Path) -> None:
    project = aurora.open(indexed)
    response = project.search("refresh_auth_tokens", limit=1, context=2, record=False)
    (best,) = response.results
    numbers = [line.number for line in best.snippet]
    chunk = range(best.chunk.line_start, best.chunk.line_end + 1)
    for line in best.snippet:
        if not line.context:
            assert {n for n in range(line.number - 2, line.number + 3) if n in chunk} <= set(numbers)
    assert any(line.context for line in best.snippet) and best.to_dict()["snippet_lines"] == numbers
    text = results_text(response, color=False, cwd=indexed)
    assert all(f"  {n}  " in text for n in numbers)
    gaps = sum(later > earlier + 1 for earlier, later in zip(numbers, numbers[1:], strict=False))
    assert text.count("\n  --\n") == gaps  # grep's separator between groups that do not touch


def test_vimgrep_is_one_line_per_result_with_line_and_column(indexed: Path) -> None:
    response = aurora.open(indexed).search(QUERY, limit=3, record=False)
    lines = results_vimgrep(response, cwd=indexed).splitlines()
    assert len(lines) == len(response.results) == 3
    path, line, column, text = lines[0].split(":", 3)
    assert path == "src/auth/tokens.py"
    source = (indexed / path).read_text().splitlines()[int(line) - 1]
    assert source.rstrip() == text and source[int(column) - 1 :].lower().startswith(("refresh", "auth", "token"))
    assert output_text(response, {"format": "vimgrep"}, indexed) == results_vimgrep(response, indexed)


def test_paths_are_hyperlinks_only_when_asked(indexed: Path) -> None:
    response = aurora.open(indexed).search(QUERY, limit=1, record=False)
    linked = results_text(response, color=True, cwd=indexed, links=True)
    uri = (indexed / "src/auth/tokens.py").as_posix()
    assert re.match(rf"\x1b]8;;file://[^/]*{re.escape(uri)}(#\d+)?\x1b\\.*src/auth/tokens.py.*\x1b]8;;\x1b\\", linked)
    assert "\x1b]8;" not in results_text(response, color=True, cwd=indexed)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_links_go_with_colour_on_a_terminal_only() -> None:
    args = {"json": False, "vimgrep": False, "color": "always"}
    assert output_request(args, Terminal())["links"] is True
    assert output_request(args, io.StringIO()) == {"format": "text", "color": True, "links": False}  # piped
    assert output_request({**args, "color": "never"}, Terminal())["links"] is False
    assert output_request({**args, "vimgrep": True}, io.StringIO())["format"] == "vimgrep"


def test_the_cli_prints_vimgrep_and_no_hyperlinks_into_a_pipe(indexed: Path, cli) -> None:
    done = cli("search", QUERY, "--vimgrep", "--color", "always", "-n", "2", cwd=indexed / "src")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"(auth/tokens\.py|net/http_client\.py):\d+:\d+:.*\n(.+:\d+:\d+:.*\n)", done.stdout)
    colored = cli("search", QUERY, "--color", "always", "-C", "1", cwd=indexed)
    assert "\x1b[" in colored.stdout and "\x1b]8;" not in colored.stdout
    refused = cli("search", QUERY, "--json", "--vimgrep", cwd=indexed)
    assert refused.returncode == 2 and "--json and --vimgrep do not go together" in refused.stderr


def test_a_search_warns_once_about_result_files_changed_since_indexing(indexed: Path, cli) -> None:
    project = aurora.open(indexed)
    query = "auth tokens http client"
    assert {r.chunk.path for r in project.search(query, record=False).results} >= {
        "src/auth/tokens.py",
        "src/net/http_client.py",
    }
    assert not [w for w in project.search(query, record=False).warnings if "changed since indexing" in w]
    write(indexed, {"src/auth/tokens.py": "def refresh_auth_tokens():\n    pass  # auth tokens\n"})
    (indexed / "src/net/http_client.py").unlink()
    warnings = project.search(query, record=False).warnings
    changed = [w for w in warnings if "changed since indexing" in w]
    assert changed == [
        "2 result files changed since indexing (src/auth/tokens.py, src/net/http_client.py): run `aurora index`"
    ]
    document = cli.json("search", query, "--no-server", cwd=indexed)
    assert any("result files changed since indexing" in w for w in document["warnings"])
    cli("index", cwd=indexed)
    assert not [w for w in aurora.open(indexed).search(query, record=False).warnings if "changed since" in w]


def test_the_background_server_is_opt_in(indexed: Path) -> None:
    assert HOST_OPTIONS["server", "autostart"].default is False
    assert not wanted(False, Terminal()) and wanted("auto", Terminal()) != bool(os.environ.get("CI"))
    assert maybe_start_server(aurora.open(indexed), Terminal()) is False  # even on a terminal, by default


def test_shell_completion_is_offered() -> None:
    names = {param.name for param in typer.main.get_command(app).params}
    assert {"install_completion", "show_completion"} <= names
