"""The generator of bench/pycode.py: docstrings removed byte-exactly, queries pointing at the functions."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest

from aurora.evaluation.codesearch import load_set

BENCH = Path(__file__).resolve().parents[1] / "bench"

SOURCE = '''"""Module docstring.

Second paragraph.
"""
import os  # a comment that stays


class Store:
    """Keep values in memory for later."""

    def load(self, key):
        """Load the value stored under a key.

        More words that are not part of the query.
        """
        return os.environ.get(key)

    def save(self, key, value):
        """Save a value under the given key."""
        # nothing else in the body


def clear(): "Clear every stored value now."; return None


def short():
    """Too short."""
    return 1


def first():
    """Read the shared configuration file."""
    return 1


def second():
    """Read the shared configuration file."""
    return 2


def __dunder__():
    """Return a value nobody searches for."""
'''

STRIPPED = """import os  # a comment that stays


class Store:

    def load(self, key):
        return os.environ.get(key)

    def save(self, key, value):
        pass
        # nothing else in the body


def clear(): pass; return None


def short():
    return 1


def first():
    return 1


def second():
    return 2


def __dunder__():
    pass
"""


@pytest.fixture(scope="module")
def pycode() -> ModuleType:
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCH))
        return importlib.import_module("pycode")


def test_docstrings_are_removed_and_everything_else_is_kept(pycode: ModuleType) -> None:
    assert pycode.strip_docstrings(SOURCE.encode()).decode() == STRIPPED
    crlf = SOURCE.replace("\n", "\r\n").encode()
    assert pycode.strip_docstrings(crlf) == STRIPPED.replace("\n", "\r\n").encode()


def test_a_string_left_first_by_a_removed_docstring_is_removed_too(pycode: ModuleType) -> None:
    stripped = pycode.strip_docstrings(b'def f():\n    """One."""\n    "Two."\n    return 1\n')
    assert stripped == b"def f():\n    return 1\n"


def test_first_sentence_is_the_query(pycode: ModuleType) -> None:
    assert (
        pycode.first_sentence("Return the :class:`~pkg.Thing`, e.g. a list. More.")
        == "Return the pkg.Thing, e.g. a list"
    )
    assert pycode.first_sentence("Open the ``file``\nfor reading.\n\nDetails.") == "Open the file for reading"
    assert pycode.first_sentence("Too short.") is None
    assert pycode.first_sentence(":param x: a value that is long enough") is None


def test_the_set_points_each_query_at_its_function_in_the_stripped_tree(pycode: ModuleType, tmp_path: Path) -> None:
    top = tmp_path / "site" / "tiny"
    (top / "sub").mkdir(parents=True)
    (top / "__init__.py").write_text(SOURCE, encoding="utf-8")
    (top / "sub" / "broken.py").write_text("def f(:\n", encoding="utf-8")
    out = tmp_path / "set"
    package = pycode.Package("tiny", top, "tiny", "1.0")
    provenance = pycode.generate(out, [package], per_package=10, seed=1)

    assert provenance["packages"]["tiny"]["unparsed_files"] == ["tiny/sub/broken.py"]
    assert (out / "repos" / "tiny" / "tiny" / "__init__.py").read_text(encoding="utf-8") == STRIPPED
    queries = json.loads((out / "annotations" / "tiny.json").read_text(encoding="utf-8"))
    lines = STRIPPED.splitlines()
    found = {}
    for query in queries:
        (target,) = query["relevant"]
        assert target["path"] == "tiny/__init__.py" and query["category"] == "semantic"
        function = lines[target["start_line"] - 1].strip()
        found[query["query"]] = (function.split("(")[0], lines[target["end_line"] - 1].strip())
    assert found == {
        "Load the value stored under a key": ("def load", "return os.environ.get(key)"),
        "Save a value under the given key": ("def save", "pass"),
        "Clear every stored value now": ("def clear", "def clear(): pass; return None"),
    }
    dataset = load_set(out)
    assert [(repo.name, repo.language, len(repo.queries)) for repo in dataset.repos] == [("tiny", "python", 3)]


def test_a_smaller_cap_draws_the_same_queries_every_time(pycode: ModuleType, tmp_path: Path) -> None:
    top = tmp_path / "tiny"
    top.mkdir()
    (top / "mod.py").write_text(SOURCE, encoding="utf-8")
    found, _ = pycode.build_package(top, tmp_path / "tree")
    drawn = [pycode.select_queries(found, 2, seed=7) for _ in range(2)]
    assert drawn[0] == drawn[1] and len(drawn[0]) == 2
    assert [item.start_line for item in drawn[0]] == sorted(item.start_line for item in drawn[0])


def test_an_existing_folder_not_written_by_the_generator_is_left_alone(pycode: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SystemExit, match="not a set written by"):
        pycode.generate(tmp_path / "precious", [], per_package=1, seed=1)
    assert (tmp_path / "precious" / "keep.txt").read_text(encoding="utf-8") == "mine"
