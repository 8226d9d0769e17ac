"""Chunker plugins: a third-party chunker takes its language, a new version re-chunks exactly its files,
a failing chunker falls back to line windows, and an unknown one is a configuration error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import paths, write
from test_errors import assert_one_line_error

from aurora.api import Project
from aurora.plugin import Chunk, ChunkSettings, PluginDescription, hookimpl


def configure(home: Path, index_table: str) -> None:
    """Write the user configuration's ``[index]`` table (a project's aurora.toml would be indexed too)."""
    write(home / "config", {"aurora/config.toml": f"[index]\n{index_table}\n"})


class Paragraphs:
    """An in-process chunker for plain text: one chunk per paragraph; it counts the files it splits."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.calls = 0

    @hookimpl
    def aurora_describe(self) -> PluginDescription:
        return PluginDescription(summary="text by paragraph", languages=("text",), version=self.version)

    @hookimpl
    def aurora_chunk(self, text: str) -> list[Chunk]:
        self.calls += 1
        found, start = [], 1
        lines = text.split("\n")
        for number, line in enumerate([*lines, ""], start=1):
            if not line.strip():
                if number > start:
                    found.append(Chunk(start, number - 1, "\n".join(lines[start - 1 : number - 1]), None, "paragraph"))
                start = number + 1
        return found


class Broken:
    """An in-process Python chunker that cannot split anything: it returns None, or raises; it counts its calls."""

    def __init__(self, raises: bool) -> None:
        self.raises = raises
        self.calls = 0

    @hookimpl
    def aurora_describe(self) -> PluginDescription:
        return PluginDescription(summary="broken", languages=("python",), version="1")

    @hookimpl
    def aurora_chunk(self, text: str, path: str, language: str, settings: ChunkSettings) -> list[Chunk] | None:
        self.calls += 1
        if self.raises:
            raise ValueError(f"cannot handle {path}")
        return None


def index_with(root: Path, name: str, plugin: object, **expected: int) -> dict:
    """Index ``root`` in-process with ``plugin`` registered as chunker ``name``; check the report's counts."""
    project = Project(root)
    project.host.register(plugin, name, "chunker")
    report = project.index()
    project.close()
    assert {key: getattr(report, key) for key in expected} == expected, report.to_dict()
    return report.to_dict()


def stored(root: Path) -> tuple[dict[str, list[tuple]], dict[str, str | None]]:
    """Return every file's chunks (id, lines, symbol, kind) and the chunker identity recorded for it."""
    with sqlite3.connect(root / ".aurora" / "aurora.db") as db:
        rows = db.execute("SELECT path, id, line_start, line_end, symbol, kind FROM chunks ORDER BY id").fetchall()
        chunkers = dict(db.execute("SELECT path, chunker FROM files"))
    chunks: dict[str, list[tuple]] = {}
    for path, *chunk in rows:
        chunks.setdefault(path, []).append(tuple(chunk))
    return chunks, chunkers


def test_installed_third_party_chunker_splits_its_language_and_leaves_the_others(
    indexed: Path, cli, tmp_path: Path, isolated_env: Path
) -> None:
    site = tmp_path / "site"
    write(
        site,
        {
            "first_lines.py": """
                from aurora.plugin import Chunk, PluginDescription, hookimpl


                @hookimpl
                def aurora_describe():
                    return PluginDescription(summary="first line of a text file", languages=("text",), version="7")


                @hookimpl
                def aurora_chunk(text):
                    return [Chunk(1, 1, text.split("\\n")[0], "first line", "line")]
                """,
            "first_lines-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: first-lines\nVersion: 1.0\n",
            "first_lines-1.0.dist-info/entry_points.txt": "[aurora.chunker]\nfirst-lines = first_lines\n",
        },
    )
    env = {"PYTHONPATH": str(site)}
    before, _ = stored(indexed)
    configure(isolated_env, 'chunkers = ["first-lines", "treesitter", "markdown"]')  # first-lines before the default
    report = cli.json("index", cwd=indexed, env=env)
    assert (report["changed"], report["unchanged"], report["warnings"]) == (1, 4, [])
    after, chunkers = stored(indexed)
    assert [chunk[1:] for chunk in after["notes.txt"]] == [(1, 1, "first line", "line")]
    assert {p: c for p, c in after.items() if p != "notes.txt"} == {p: c for p, c in before.items() if p != "notes.txt"}
    assert chunkers == {
        "notes.txt": "first-lines@7",
        "src/auth/tokens.py": "treesitter@3",
        "src/net/http_client.py": "treesitter@3",
        "docs/guide.md": "markdown@1",
        "logo.png": None,
    }
    assert paths(cli.json("search", "shopping list", cwd=indexed, env=env)) == ["notes.txt"]


def test_new_chunker_version_rechunks_exactly_its_files(project: Path, isolated_env: Path) -> None:
    configure(isolated_env, 'chunkers = ["paragraphs", "python", "markdown"]')
    write(project, {"todo.txt": "water the plants\n\nfeed the cat\n"})
    index_with(project, "paragraphs", Paragraphs("1"), added=5)
    same = Paragraphs("1")
    index_with(project, "paragraphs", same, changed=0, unchanged=6, lexical_rebuilt=False)
    assert same.calls == 0
    before, _ = stored(project)
    bumped = Paragraphs("2")
    index_with(project, "paragraphs", bumped, changed=2, unchanged=4, lexical_rebuilt=True)
    assert bumped.calls == 2
    after, chunkers = stored(project)
    text_files = {"notes.txt", "todo.txt"}
    assert {chunkers[p] for p in text_files} == {"paragraphs@2"}
    assert all(after[p] != before[p] for p in text_files)  # stored again: new chunk ids
    assert {p: c for p, c in after.items() if p not in text_files} == {
        p: c for p, c in before.items() if p not in text_files
    }
    assert [chunk[1:] for chunk in after["todo.txt"]] == [(1, 1, None, "paragraph"), (3, 3, None, "paragraph")]


@pytest.mark.parametrize(
    ("raises", "problem"),
    [(False, "could not split it"), (True, "failed (ValueError: cannot handle src/net/http_client.py)")],
)
def test_chunker_that_cannot_split_falls_back_to_windows_with_a_warning(
    project: Path, isolated_env: Path, raises: bool, problem: str
) -> None:
    configure(isolated_env, 'chunkers = ["broken", "markdown"]')
    report = index_with(project, "broken", Broken(raises), added=4)
    assert f"src/net/http_client.py: chunker 'broken' {problem}; split by 'windows' instead" in report["warnings"]
    assert len(report["warnings"]) == 2  # one per Python file
    chunks, chunkers = stored(project)
    assert {chunk[4] for p in ("src/auth/tokens.py", "src/net/http_client.py") for chunk in chunks[p]} == {"text"}
    assert chunkers["src/auth/tokens.py"] == "broken@1>windows@1" and chunkers["docs/guide.md"] == "markdown@1"
    again = Broken(raises)
    index_with(project, "broken", again, changed=0, unchanged=5, lexical_rebuilt=False)
    assert again.calls == 0  # the fallback's chunks are current: nothing is read again


def test_fallback_that_cannot_split_leaves_the_file_without_chunks(project: Path, isolated_env: Path) -> None:
    configure(isolated_env, 'chunkers = ["markdown"]\nfallback_chunker = "broken"')
    report = index_with(project, "broken", Broken(raises=True), added=4)
    assert (
        "notes.txt: chunker 'broken' failed (ValueError: cannot handle notes.txt); the file has no chunks"
        in (report["warnings"])
    )
    chunks, _ = stored(project)
    assert set(chunks) == {"docs/guide.md"}


@pytest.mark.parametrize(
    ("config", "name"),
    [('[index]\nchunkers = ["python", "nope"]\n', "nope"), ('[index]\nfallback_chunker = "lines"\n', "lines")],
)
def test_unknown_chunker_is_a_one_line_error(project: Path, cli, config: str, name: str) -> None:
    write(project, {"aurora.toml": config})
    done = cli("index", cwd=project)
    assert_one_line_error(
        done, "aurora.toml", f"unknown chunker plugin '{name}'", "available: markdown, python, treesitter, windows"
    )
    assert not (project / ".aurora").exists()


def test_hostile_files_never_fail_an_index_run(project: Path, cli) -> None:
    before = cli.json("index", cwd=project)["skipped"]
    minified = "var a=" + ",".join(f"function f{i}(x){{return x+{i}}}" for i in range(25_000)) + ";"
    write(
        project,
        {
            "src/broken.go": "package main\n\nfunc ok() int {\n\treturn 1\n}\n\nfunc broken( {\n\treturn\n",
            "src/notes.xyz": "an unknown language\nsplit into line windows\n",
            "src/app.min.js": minified,  # ~0.8 MB on one line: under the size limit, too long a line to parse
            "src/huge.min.js": minified * 6,  # over [index] max_file_size: skipped
            "src/binary.js": b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8,
        },
    )
    report = cli.json("index", cwd=project)
    assert report["skipped"]["binary"] == 1  # the new binary file (unchanged files are not read again)
    assert report["skipped"]["too large"] == before.get("too large", 0) + 1  # sizes are checked on every scan
    assert any(w.startswith("src/app.min.js: chunker 'treesitter' could not split it") for w in report["warnings"])
    chunkers = dict(sqlite3.connect(project / ".aurora" / "aurora.db").execute("SELECT path, chunker FROM files"))
    assert chunkers["src/broken.go"] == "treesitter@3"  # the parts that parse are still definitions
    assert chunkers["src/notes.xyz"] == "windows@1"
    assert chunkers["src/app.min.js"] == "treesitter@3>windows@1"
    found = cli.json("search", "ok", "--no-server", cwd=project)
    assert "src/broken.go" in paths(found)
