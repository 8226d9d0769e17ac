"""The bm25s plugin's added terms: compounds split with the corpus's own words, one-letter identifiers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import paths, write

from aurora_bm25s import aurora_describe, aurora_lexical_build, aurora_lexical_open
from aurora_bm25s.builder import ANALYZER_FILE, VOCAB_FILE
from aurora_bm25s.compounds import learn, segment

CORPUS = [
    "def readlinebuffer(stream):\n    return stream.pending",  # 0: a lower-case compound
    "def read_line(stream):\n    pass\n\nclass RingBuffer:\n    pass",  # 1: its words, as parts of identifiers
    "def line_count():\n    pass\n\nbuffer_size = readSize()",  # 2
    "x = origin + 1\nprint(x)",  # 3: a one-letter identifier
    "def x_axis_label():\n    pass",  # 4: a one-letter part, not an identifier
    "def read_line_buffer():\n    pass",  # 5
]
QUERIES = ["line buffer", "readlinebuffer", "x", "read stream"]


def test_segment_prefers_fewest_words_then_the_most_used() -> None:
    known = {"read": 5, "line": 9, "buffer": 3, "readline": 2, "set": 4, "opt": 3, "tes": 1, "topt": 1}
    assert segment("readlinebuffer", known) == ("readline", "buffer")
    assert segment("setopt", known) == ("set", "opt")  # not tes + topt: they are used less
    assert segment("buffer", known) is None and segment("readline", {"readline": 3}) is None  # never itself alone
    assert segment("xsetopt", known) is None  # every letter must belong to a known word


def test_learn_splits_compounds_into_words_the_corpus_uses_more_than_the_compound() -> None:
    def identifiers(*names: str) -> list[list[str]]:
        return [name.split("_") for name in names]

    found = learn(
        identifiers(
            "read_line",
            "read_size",
            "ring_buffer",
            "buffer_size",
            "line_count",
            "readlinebuffer",
            "buff_size",
            "buff_er",
            "transfer_ring",
            "ring_size",
            "transfer_size",
            "transferring",
        ),
        lambda words: [word.removesuffix("ring") if word == "transferring" else word for word in words],
    )
    assert found == {"readlinebuffer": ("read", "line", "buffer")}  # not buffer (buff + er) nor transferring


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The corpus indexed with the default options, and with each added term switched off."""
    defaults = {name: option.default for name, option in aurora_describe().options.items()}
    assert defaults["split_compounds"] is True and defaults["one_letter"] is True
    variants = {
        "default": defaults,
        "no_compounds": {**defaults, "split_compounds": False},
        "no_one_letter": {**defaults, "one_letter": False},
    }
    opened = {}
    for name, options in variants.items():
        directory = tmp_path_factory.mktemp(name)
        aurora_lexical_build(texts=CORPUS, directory=directory, options=options)
        opened[name] = aurora_lexical_open(directory=directory, options=options)
    return opened


def found(index, query: str) -> list[int]:
    """Return the positions of the documents ``index`` finds for ``query``, best first."""
    return [doc for doc, _ in index.search(query, 10)]


def test_words_of_a_query_find_the_compound_that_joins_them(indexes) -> None:
    assert 0 in found(indexes["default"], "line buffer")
    assert 0 not in found(indexes["no_compounds"], "line buffer")


def test_a_compound_queried_alone_finds_its_words_written_apart(indexes) -> None:
    assert found(indexes["default"], "readlinebuffer")[0] == 0 and 5 in found(indexes["default"], "readlinebuffer")
    assert found(indexes["no_compounds"], "readlinebuffer") == [0]


def test_a_one_letter_identifier_is_found_only_by_a_query_that_is_that_identifier(indexes) -> None:
    assert found(indexes["default"], "x") == [3]  # not x_axis_label, whose x is a part
    assert found(indexes["default"], "x axis") == [4]
    assert found(indexes["no_one_letter"], "x") == []


def test_the_analyzer_settings_saved_name_the_added_terms(tmp_path: Path) -> None:
    options = {name: option.default for name, option in aurora_describe().options.items()}
    aurora_lexical_build(texts=CORPUS, directory=tmp_path, options=options)
    settings = json.loads((tmp_path / ANALYZER_FILE).read_text(encoding="utf-8"))
    assert settings["split_compounds"] is True and settings["one_letter"] is True
    with sqlite3.connect(tmp_path / VOCAB_FILE) as db:
        assert dict(db.execute("SELECT term, parts FROM compounds")) == {"readlinebuff": "read line buffer"}


def test_an_index_built_before_the_added_terms_opens_and_answers_as_before(tmp_path: Path) -> None:
    """Options recorded before the new ones existed build the index as it was; such an index still opens."""
    options = {name: option.default for name, option in aurora_describe().options.items()}
    before = {name: value for name, value in options.items() if name not in ("split_compounds", "one_letter")}
    aurora_lexical_build(texts=CORPUS, directory=tmp_path, options=before)
    expected = {query: aurora_lexical_open(directory=tmp_path, options=before).search(query, 10) for query in QUERIES}
    # now as the previous version wrote it: no new settings, no compounds table
    settings = json.loads((tmp_path / ANALYZER_FILE).read_text(encoding="utf-8"))
    assert settings.pop("split_compounds") is False and settings.pop("one_letter") is False
    (tmp_path / ANALYZER_FILE).write_text(json.dumps(settings), encoding="utf-8")
    with sqlite3.connect(tmp_path / VOCAB_FILE) as db:
        db.execute("DROP TABLE compounds")
    reader = aurora_lexical_open(directory=tmp_path, options=before)
    assert {query: reader.search(query, 10) for query in QUERIES} == expected
    assert 0 not in [doc for doc, _ in expected["line buffer"]] and expected["x"] == []


def test_an_index_built_without_the_added_terms_is_stale_until_aurora_index(tmp_path: Path, cli) -> None:
    root = tmp_path / "project"
    write(
        root,
        {
            "geometry.py": "def shift(origin):\n    x = origin + 1\n    return x\n",
            "reader.py": "def readlinebuffer(stream):\n    return stream\n",
            "lines.py": "def read_line():\n    pass\n\ndef line_count():\n    pass\n",
            "buffers.py": "class RingBuffer:\n    pass\n\nbuffer_size = readSize()\n",
            "aurora.toml": "[pipelines.default.lexical]\nsplit_compounds = false\none_letter = false\n",
        },
    )
    assert cli("index", cwd=root).returncode == 0
    assert json.loads(cli("search", "x", "--json", cwd=root).stdout)["results"] == []
    (root / "aurora.toml").unlink()  # back to the defaults: the index above no longer fits
    done = cli("search", "x", cwd=root)
    assert done.returncode == 2 and "run `aurora index`" in done.stderr
    assert cli("index", cwd=root).returncode == 0
    assert paths(cli.json("search", "x", cwd=root)) == ["geometry.py"]
    assert "reader.py" in paths(cli.json("search", "line buffer", cwd=root))
