"""The first-party chunker plugins, through the host: Python by definition, Markdown by section, other text by lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_chunker_plugins import configure

from aurora.config.layers import load
from aurora.host.contract import Chunk, ChunkSettings
from aurora.host.registry import PluginHost
from aurora.index.chunking import Chunked, load_chunkers

SETTINGS = ChunkSettings(window_lines=10, window_overlap=2, max_chunk_lines=30)


@pytest.fixture(autouse=True)
def ast_chunker(isolated_env: Path) -> None:
    """Select the ``python`` chunker these tests are about (the default splits Python with tree-sitter)."""
    configure(isolated_env, 'chunkers = ["python", "markdown"]')


def split(text: str, language: str, settings: ChunkSettings = SETTINGS) -> Chunked:
    """Split ``text`` with the chunkers the user configuration selects: ``python``, ``markdown``, then ``windows``."""
    return load_chunkers(load(None), PluginHost(), settings).split(text, f"example.{language}", language)


def chunk_text(text: str, language: str, settings: ChunkSettings = SETTINGS) -> list[Chunk]:
    return split(text, language, settings).chunks


def chunks(source: str, language: str, settings: ChunkSettings = SETTINGS) -> list[tuple[int, int, str | None, str]]:
    text = textwrap.dedent(source).lstrip("\n")
    return [(c.line_start, c.line_end, c.symbol, c.kind) for c in chunk_text(text, language, settings)]


PYTHON = '''
"""Module docstring."""
import os

CONSTANT = 1


# Helper comment sticks to the function.
@decorator
def top(a):
    def nested():
        return a
    return nested


class Outer(Base):
    """Doc."""

    attribute = 2

    def method(self):
        return 1

    class Inner:
        def deep(self):
            pass

    after_methods = 3


async def fetch():
    await something()

if __name__ == "__main__":
    top(1)
'''


def test_python_definitions_get_their_own_chunks() -> None:
    assert chunks(PYTHON, "python") == [
        (1, 4, None, "module"),
        (7, 12, "top", "function"),
        (15, 18, "Outer", "class"),
        (20, 21, "Outer.method", "method"),
        (23, 23, "Outer.Inner", "class"),
        (24, 25, "Outer.Inner.deep", "method"),
        (27, 27, "Outer", "class"),
        (30, 31, "fetch", "function"),
        (33, 34, None, "module"),
    ]


def test_python_chunk_text_is_the_source_lines() -> None:
    text = textwrap.dedent(PYTHON).lstrip("\n")
    by_symbol = {c.symbol: c for c in chunk_text(text, "python", SETTINGS)}
    assert by_symbol["top"].text.splitlines()[:2] == ["# Helper comment sticks to the function.", "@decorator"]
    assert by_symbol["Outer.method"].text == "    def method(self):\n        return 1"


def test_long_function_is_split_into_windows_keeping_its_symbol() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(70))
    found = chunks(f"def long():\n{body}\n", "python")
    assert [c[2] for c in found] == ["long"] * len(found)
    assert found[0][:2] == (1, 30) and found[1][0] == 29 and found[-1][1] == 71


def test_python_that_does_not_parse_falls_back_to_windows_with_a_warning() -> None:
    chunked = split("def broken(:\n" + "pass\n" * 25, "python")
    found = [(c.line_start, c.line_end, c.kind) for c in chunked.chunks]
    assert {kind for _, _, kind in found} == {"text"}
    assert found[0][:2] == (1, 10) and found[1][:2] == (9, 18)
    assert chunked.identity == "python@1>windows@1"
    assert chunked.warning == "chunker 'python' could not split it; split by 'windows' instead"


def test_each_chunker_records_its_identity_and_splits_without_warning() -> None:
    identities = {language: split("x = 1\n", language) for language in ("python", "markdown", "text", "rust")}
    assert {language: (c.identity, c.warning) for language, c in identities.items()} == {
        "python": ("python@1", None),
        "markdown": ("markdown@1", None),
        "text": ("windows@1", None),
        "rust": ("windows@1", None),
    }


def test_long_markdown_section_is_split_keeping_its_heading() -> None:
    text = "# Long\n" + "\n".join(f"word {i}" for i in range(70))
    found = chunks(text, "markdown")
    assert {c[2] for c in found} == {"Long"} and found[0][:2] == (1, 30) and found[-1][1] == 71


def test_form_feed_does_not_shift_line_numbers() -> None:
    text = "import os\n\x0c\ndef after_form_feed():\n    pass\n"
    found = chunk_text(text, "python", SETTINGS)
    assert [(c.symbol, c.line_start) for c in found] == [(None, 1), ("after_form_feed", 3)]


MARKDOWN = """
---
title: front matter
---
Intro text.

# Title

Some words.

## Install
Steps.

```sh
# a comment, not a heading
```

Setext Heading
--------------
Body.

### Deep
Deeper.
"""


def test_markdown_sections_are_named_by_their_heading_path() -> None:
    assert chunks(MARKDOWN, "markdown") == [
        (1, 4, None, "section"),
        (6, 8, "Title", "section"),
        (10, 15, "Title > Install", "section"),
        (17, 19, "Title > Setext Heading", "section"),
        (21, 22, "Title > Setext Heading > Deep", "section"),
    ]


def test_plain_text_uses_overlapping_windows_and_skips_blank_ones() -> None:
    text = "\n".join(f"line {i}" for i in range(1, 26)) + "\n" + "\n" * 30
    assert chunks(text, "text") == [(1, 10, None, "text"), (9, 18, None, "text"), (17, 25, None, "text")]


def test_empty_file_has_no_chunks() -> None:
    assert chunks("", "python") == [] and chunks("\n\n", "markdown") == [] and chunks("", "text") == []
