"""`aurora read` (CLI, Python API, server op, MCP tool): what it shows, what it refuses, and the use it records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write
from test_errors import assert_one_line_error
from test_lazy_imports import HEAVY, INDEX_ONLY, imported_modules, top_level
from test_mcp import call, structured
from test_server import raw_request

import aurora
from aurora.activation.reading import MAX_BYTES, MAX_LINES

TOKENS = "src/auth/tokens.py"


def lines_of(root: Path, path: str, start: int, end: int) -> str:
    return "\n".join((root / path).read_text().split("\n")[start - 1 : end])


def test_a_line_reads_the_chunk_spanning_it_and_records_its_use(indexed: Path, cli) -> None:
    done = cli("read", f"{TOKENS}:13", cwd=indexed)
    assert done.returncode == 0, done.stderr
    assert done.stdout == lines_of(indexed, TOKENS, 5, 15) + "\n" and done.stderr == ""
    document = cli.json("read", f"{TOKENS}:13", cwd=indexed)
    assert document == {
        "root": str(indexed.resolve()),
        "path": TOKENS,
        "line_start": 5,
        "line_end": 15,
        "file_lines": 22,
        "truncated": False,
        "text": lines_of(indexed, TOKENS, 5, 15),
        "chunks": [{"path": TOKENS, "line_start": 5, "line_end": 15, "symbol": "TokenStore"}],
        "recorded": True,
        "warnings": [],
    }
    stats = cli.json("stats", cwd=indexed)
    assert stats["accesses"] == 2
    assert [item["chunk"] for item in stats["most_active"]] == [f"{TOKENS}::TokenStore"]


def test_a_range_or_a_file_relative_to_the_current_folder(indexed: Path, cli) -> None:
    ranged = cli.json("read", "auth/tokens.py:13-15", cwd=indexed / "src")
    assert (ranged["path"], ranged["line_start"], ranged["line_end"]) == (TOKENS, 13, 15)
    assert ranged["text"] == lines_of(indexed, TOKENS, 13, 15)
    assert [chunk["symbol"] for chunk in ranged["chunks"]] == ["TokenStore"]  # a passage inside one chunk
    beyond = cli.json("read", "../notes.txt:2-40", cwd=indexed / "src")  # an end beyond the file: to its end
    assert (beyond["line_start"], beyond["line_end"], beyond["truncated"]) == (2, 2, False)
    whole = cli.json("read", "docs/guide.md", cwd=indexed)
    assert whole["text"] == (indexed / "docs/guide.md").read_text().rstrip("\n")
    assert [chunk["line_start"] for chunk in whole["chunks"]] == [1, 5, 13]  # every chunk it covers


def test_a_read_records_the_chunks_it_covers_not_the_neighbours_it_touches(indexed: Path) -> None:
    project = aurora.open(indexed)
    assert [c.symbol for c in project.read(f"{TOKENS}:2-6").chunks] == [None]  # 1-2 covered, 5-15 barely touched
    assert [c.symbol for c in project.read(f"{TOKENS}:12-16").chunks] == ["TokenStore"]
    assert [c.symbol for c in project.read(f"{TOKENS}:14-19").chunks] == []  # two lines of each of two chunks
    assert [c.line_start for c in project.read(f"{TOKENS}:1-22").chunks] == [1, 5, 18]


def test_a_long_file_is_cut_and_the_note_says_where_to_read_on(project: Path, cli) -> None:
    write(
        project,
        {
            "long.txt": "".join(f"line {n}\n" for n in range(1, 1001)),
            "wide.txt": "".join(f"{n:04d}" + "x" * 1019 + "\n" for n in range(1, 201)),
            "minified.js": "var a=1;" * 20_000 + "\n",
        },
    )
    cli("index", cwd=project)
    done = cli("read", "long.txt", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"line {n}" for n in range(1, MAX_LINES + 1)]
    assert "aurora: note: printed lines 1-400 of 1,000" in done.stderr
    assert "`aurora read long.txt:401-1000` prints on" in done.stderr
    assert cli.json("read", "long.txt:401-1000", cwd=project)["line_end"] == 800
    wide = cli.json("read", "wide.txt", cwd=project)  # 1 KB lines: the byte limit comes first
    assert wide["truncated"] and wide["line_end"] == MAX_BYTES // 1024
    assert len(wide["text"].encode()) < MAX_BYTES
    minified = cli.json("read", "minified.js", cwd=project)  # one line longer than a read: its start
    assert minified["truncated"] and minified["line_end"] == 1
    assert 0 < len(minified["text"].encode()) < MAX_BYTES and minified["text"].startswith("var a=1;")


def test_only_indexed_files_inside_the_root_are_read(indexed: Path, cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for reading\n")
    refused = {
        str(secret): "is outside the indexed folder",
        "../secret.txt": "is outside the indexed folder",
        "build/generated.py": "nothing indexed at build/generated.py",  # ignored by .gitignore
        "logo.png": "nothing indexed at logo.png",  # binary: indexed without chunks
        "nowhere.py:3": "nothing indexed at nowhere.py",
        f"{TOKENS}:3": f"nothing indexed at {TOKENS} line 3",  # a line between chunks
        f"{TOKENS}:40-50": f"{TOKENS} has 22 lines; line 40 is beyond its end",
        f"{TOKENS}:9-4": "is not a range of lines",
        " ": "is not a result",
        f"{TOKENS}:99999999999999999999": "line numbers go up to 2,147,483,647",
        f"{TOKENS}:1-99999999999999999999": "line numbers go up to 2,147,483,647",
    }
    for target, message in refused.items():
        assert_one_line_error(cli("read", target, cwd=indexed), message)
    (indexed / "notes.txt").unlink()
    (indexed / "notes.txt").symlink_to(secret)  # an indexed file replaced by a link that leads out
    assert_one_line_error(cli("read", "notes.txt", cwd=indexed), "leads outside the indexed folder")
    (indexed / "notes.txt").unlink()
    assert_one_line_error(cli("read", "notes.txt", cwd=indexed), "no longer on disk", "run `aurora index`")
    assert cli.json("stats", cwd=indexed)["accesses"] == 0  # nothing refused was recorded


def test_a_file_changed_since_indexing_is_read_as_it_is_now_with_a_warning(indexed: Path, cli) -> None:
    path = indexed / TOKENS
    path.write_text(path.read_text().replace("Keeps access tokens", "Keeps the access tokens"))
    done = cli("read", f"{TOKENS}:13", cwd=indexed)
    assert "Keeps the access tokens" in done.stdout
    assert f"aurora: warning: {TOKENS} changed since it was indexed" in done.stderr


def test_with_activation_off_a_read_shows_and_records_nothing(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": "[activation]\nenabled = false\n"})
    document = cli.json("read", f"{TOKENS}:13", cwd=indexed)
    assert document["text"] and document["recorded"] is False
    assert not (indexed / ".aurora" / "activation.db").exists()


def test_a_read_lifts_the_read_chunk_in_the_next_search_and_changes_no_other_score(project: Path) -> None:
    # Two notes that match alike, which only a read can order, and one that matches less.
    write(
        project,
        {
            "notes/monday.txt": "monday: lunch with the team, then review the release\n",
            "notes/friday.txt": "friday: lunch with the team, then review the release\n",
            "notes/plan.txt": "release plan: tag it, build it, announce it\n",
        },
    )
    opened = aurora.open(project)
    opened.index()
    results = opened.search("review the release", limit=20).results
    before = {(r.chunk.path, r.score) for r in results}
    scores, ranked = dict(before), [r.chunk.path for r in results]
    assert len(ranked) == 3 and scores["notes/monday.txt"] == scores["notes/friday.txt"]
    lower = max(("notes/monday.txt", "notes/friday.txt"), key=ranked.index)
    opened.read(f"{lower}:1")
    after = opened.search("review the release", limit=20, explain=True).results
    assert [r.chunk.path for r in after].index(lower) < ranked.index(lower)  # it rose above its twin
    lifted = next(r for r in after if r.chunk.path == lower)
    assert lifted.score > scores[lower] and lifted.explain["activation"].contribution > 0
    assert {(r.chunk.path, r.score) for r in after if r.chunk.path != lower} == before - {(lower, scores[lower])}


def test_the_server_reads_like_the_process_does(indexed: Path, cli, serve) -> None:
    in_process = cli.json("read", f"{TOKENS}:13", cwd=indexed)
    server = serve(indexed)
    request = {
        "v": 1,
        "op": "read",
        "root": str(indexed.resolve()),
        "cwd": str(indexed / "src"),
        "target": "../notes.txt",
    }
    reply = raw_request(server.endpoint, json.dumps(request).encode() + b"\n")
    assert reply["ok"] and reply["read"]["path"] == "notes.txt" and reply["read"]["recorded"]
    request["cwd"], request["target"] = str(indexed), f"{TOKENS}:13"
    assert raw_request(server.endpoint, json.dumps(request).encode() + b"\n")["read"] == in_process
    request["target"] = "nowhere.py"
    error = raw_request(server.endpoint, json.dumps(request).encode() + b"\n")
    assert not error["ok"] and error["error"]["exit_code"] == 2 and "nothing indexed" in error["error"]["message"]
    request["target"] = 12
    error = raw_request(server.endpoint, json.dumps(request).encode() + b"\n")
    assert error["error"]["message"] == "malformed request: target and cwd must be strings"
    assert cli.json("stats", cwd=indexed)["accesses"] == 3  # the CLI's read, then the server's two


@pytest.mark.parametrize("with_server", [False, True])
def test_the_mcp_read_tool(indexed: Path, serve, with_server: bool) -> None:
    if with_server:
        serve(indexed)
    tools, (found, missing) = call(indexed, ("read", {"target": f"{TOKENS}:13"}), ("read", {"target": "nowhere.py"}))
    schema = tools["read"].input_schema
    assert (
        schema["required"] == ["target"] and "path:line_start-line_end" in schema["properties"]["target"]["description"]
    )
    assert "not for every result shown" in tools["read"].description
    document = structured(found)
    assert document["text"] == lines_of(indexed, TOKENS, 5, 15) and document["recorded"]
    assert missing.is_error and "nothing indexed at nowhere.py" in missing.content[0].text


def test_read_imports_nothing_heavy(indexed: Path) -> None:
    modules = top_level(imported_modules("read", f"{TOKENS}:13", cwd=indexed))
    assert "aurora" in modules
    assert not modules & (HEAVY | INDEX_ONLY | {"numpy"})
