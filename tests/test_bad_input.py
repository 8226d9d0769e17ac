"""Hostile or careless input (issue 13, "Bad input"): out-of-range numbers, bytes that are not UTF-8, escape
sequences in names and contents, weights that rank nothing, ignore files that leave nothing: each gets a clear
answer, never a traceback, and never reaches the terminal raw."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import AURORA, write

import aurora
from aurora.errors import UsageError
from aurora.index.walker import Skipped, WalkSettings, walk
from aurora.search.options import MAX_LIMIT
from aurora.serve.mcp import Tools

HUGE = str(2**64)
#: What our own colouring writes; any other escape sequence came from the repository.
OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize(
    "args",
    [
        ("--limit", HUGE, "--mode", "semantic"),
        ("--files", "--limit", HUGE),
        ("--limit", "0", "--json"),
    ],
    ids=["huge-semantic", "huge-files", "zero"],
)
def test_a_limit_out_of_range_is_a_usage_error_on_the_command_line(indexed: Path, cli, args: tuple[str, ...]) -> None:
    done = cli("search", "tokens", *args, cwd=indexed)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"is not in the range 1<=x<={MAX_LIMIT}" in done.stderr and not done.stdout


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, 2**64])
def test_the_same_limit_holds_for_the_api_the_server_and_mcp(indexed: Path, limit: int) -> None:
    from aurora.serve.server import WarmServer

    expected = f"--limit must be at least 1 and at most {MAX_LIMIT} (got {limit})"
    with pytest.raises(UsageError, match=re.escape(expected)):
        aurora.open(indexed).search("tokens", limit=limit)
    with pytest.raises(UsageError, match=re.escape(expected)):
        Tools(indexed).search("tokens", limit=limit)
    reply = WarmServer(indexed, idle_timeout=0, workers=1, watch=False).handle(
        {"v": 1, "op": "search", "root": str(indexed), "query": "tokens", "options": {"limit": limit}}
    )
    assert reply["error"] == {"message": expected, "hint": None, "exit_code": 2, "in_process": False}
    assert len(aurora.open(indexed).search("tokens", limit=MAX_LIMIT, record=False).results) > 0


def test_stats_top_is_bounded_too(indexed: Path, cli) -> None:
    done = cli("stats", "--top", HUGE, cwd=indexed)
    assert done.returncode == 2 and "Traceback" not in done.stderr and f"0<=x<={MAX_LIMIT}" in done.stderr
    with pytest.raises(UsageError, match="--top must be a whole number from 0 to 10,000"):
        Tools(indexed).stats(top=-1)


def test_json_output_stays_valid_utf8_for_a_query_that_is_not(indexed: Path) -> None:
    """A query byte that is not UTF-8 reaches Python as a surrogate escape; JSON writes it as \\udcff."""
    done = subprocess.run([AURORA, "search", b"tokens \xff", "--json"], cwd=indexed, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout.decode("utf-8"))  # strict: fails on a raw 0xff byte
    assert document["query"] == "tokens \udcff" and b"\\udcff" in done.stdout


HOSTILE = {
    "evil\x1b[2J.py": 'def refresh_tokens():\n    return "\x1b[31mred\x07 and\ttab"\n',
    "notes.md": "# Heading \x1b]0;owned\x07\n\nrefresh tokens here\n",
    "latin.txt": b"refresh tokens caf\xe9\n",  # a warning at index time names this file
    "\x1b[5mblink.txt": b"caf\xe9\n",
}


def assert_shown_not_obeyed(text: str) -> None:
    """No escape sequence but our own colours, and no other control character but tabs and newlines."""
    left = OUR_COLOURS.sub("", text)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", left), repr(left)


def test_escape_sequences_from_the_repository_are_shown_escaped(tmp_path: Path, cli) -> None:
    root = tmp_path / "hostile"
    write(root, HOSTILE)
    indexed = cli("index", cwd=root)
    assert indexed.returncode == 0 and "\\x1b[5mblink.txt" in indexed.stderr
    assert_shown_not_obeyed(indexed.stderr)
    plain = cli("search", "refresh tokens", "-C", "1", "--color", "never", cwd=root)
    assert "evil\\x1b[2J.py:1-2" in plain.stdout and 'return "\\x1b[31mred\\x07 and\ttab"' in plain.stdout
    assert "Heading \\x1b]0;owned\\x07" in plain.stdout  # a section's symbol
    coloured = cli("search", "refresh tokens", "-C", "1", "--color", "always", cwd=root)
    assert "\\x1b[31m" in coloured.stdout and "\x1b[35m" in coloured.stdout  # theirs shown, ours obeyed
    vimgrep = cli("search", "refresh tokens", "--vimgrep", cwd=root)
    read = cli("read", "evil\x1b[2J.py", cwd=root)
    assert "evil\\x1b[2J.py:" in vimgrep.stdout and "\\x1b[31mred" in read.stdout
    for done in (plain, coloured, vimgrep, read):
        assert done.returncode == 0, done.stderr
        assert_shown_not_obeyed(done.stdout + done.stderr)
    document = cli.json("search", "refresh tokens", cwd=root)  # JSON keeps the text as it is
    assert any(result["path"] == "evil\x1b[2J.py" for result in document["results"])


@pytest.mark.parametrize(
    ("weights", "mode", "named"),
    [
        ("lexical = 0\nsemantic = 0\nactivation = 0", None, "pipelines.default.weights.lexical = 0"),
        ("lexical = 0", "lexical", "pipelines.default.weights.lexical = 0"),
    ],
)
def test_weights_that_rank_nothing_say_so(indexed: Path, weights: str, mode: str | None, named: str) -> None:
    write(indexed, {"aurora.toml": f"[pipelines.default.weights]\n{weights}\n"})
    response = aurora.open(indexed).search("refresh auth tokens", mode=mode, record=False)
    assert not response.results
    assert any("no results can rank" in warning and named in warning for warning in response.warnings)


def test_a_weight_above_zero_says_nothing_of_weights(indexed: Path) -> None:
    write(indexed, {"aurora.toml": "[pipelines.default.weights]\nsemantic = 0\nactivation = 0\n"})
    response = aurora.open(indexed).search("refresh auth tokens", record=False)
    assert response.results and not any("weight" in warning for warning in response.warnings)


def test_indexing_a_tree_whose_every_file_is_ignored_says_so(tmp_path: Path, cli) -> None:
    root = tmp_path / "ignored"
    write(root, {".gitignore": "*\n", "src/app.py": "def main():\n    pass\n", "README.md": "# Read me\n"})
    done = cli("index", cwd=root)
    assert done.returncode == 0
    assert f"aurora: warning: {root}: no files to index: every file here is ignored by .gitignore" in done.stderr


@pytest.mark.parametrize(
    ("files", "settings", "reason"),
    [
        ({".env": "KEY=1\n", ".config/app.toml": "a = 1\n"}, WalkSettings(), "hidden ([index] hidden = true"),
        ({"a.py": "x = 1\n", "docs/b.md": "# B\n"}, WalkSettings(exclude=["*.py", "docs/"]), "[index] exclude"),
        ({"a.py": "x = 1\n", ".auroraignore": "a.py\n", ".env": "x\n"}, WalkSettings(), "exclude or hidden ("),
    ],
    ids=["hidden", "exclude", "both"],
)
def test_the_walk_says_why_it_found_nothing(tmp_path: Path, files: dict, settings: WalkSettings, reason: str) -> None:
    write(tmp_path, files)
    found = list(walk(tmp_path, settings))
    assert len(found) == 1 and isinstance(found[0], Skipped) and found[0].path == str(tmp_path)
    assert found[0].reason.startswith("no files to index: every file here is ") and reason in found[0].reason
    write(tmp_path, {"kept.txt": "kept\n"})
    assert not any(isinstance(item, Skipped) for item in walk(tmp_path, settings))  # one file found: nothing to say


def test_an_empty_folder_is_not_called_ignored(tmp_path: Path) -> None:
    assert list(walk(tmp_path, WalkSettings())) == []
