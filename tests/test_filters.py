"""`--path`, `--exclude` and `--lang`: the globs' meaning, and the filters through the API, CLI, server and MCP."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import paths, write

import aurora
from aurora.errors import UsageError
from aurora.search.filters import path_filter
from aurora.serve.mcp import Tools


@pytest.mark.parametrize(
    ("globs", "kept", "left_out"),
    [
        (["*.py"], ["a.py", "src/deep/b.py"], ["a.pyc", "src/b.md"]),
        (["tests"], ["tests/a.py", "src/tests/b.py", "tests"], ["tests_old/a.py", "src/mytests.py"]),
        (["src/*.py"], ["src/a.py"], ["src/deep/a.py", "lib/src/a.py"]),
        (["/src/*.py"], ["src/a.py"], ["lib/src/a.py"]),
        (["src/**/*.py"], ["src/a.py", "src/x/y/a.py"], ["lib/a.py", "src/a.md"]),
        (["src/aurora"], ["src/aurora/a.py", "src/aurora/x/b.md"], ["src/aurora_x/a.py", "aurora/a.py"]),
        (["build/"], ["build/a.py", "x/build/b.py"], ["build", "buildx/a.py"]),
        (["docs/**"], ["docs/a.md", "docs/x/b.md"], ["src/docs.md"]),
        (["test_?.py", "[ab]*.md"], ["test_1.py", "x/a.md", "b.md"], ["test_10.py", "c.md"]),
        (["[!a]*.md"], ["b.md"], ["a.md"]),
        (["a+b(1).py"], ["a+b(1).py"], ["aab1.py"]),
    ],
)
def test_globs_select_as_gitignore_and_ripgrep_do(globs: list[str], kept: list[str], left_out: list[str]) -> None:
    keeps = path_filter(globs)
    assert keeps is not None
    assert [path for path in kept if keeps(path)] == kept
    assert [path for path in left_out if keeps(path)] == []


def test_includes_excludes_and_languages_combine() -> None:
    assert path_filter() is None
    keeps = path_filter(["src"], ["*_test.go", "vendor/"], ["go", "python"])
    assert keeps is not None
    assert keeps("src/main.go") and keeps("src/app.py")
    assert not keeps("src/main_test.go") and not keeps("src/vendor/x.go") and not keeps("src/README.md")
    assert not keeps("lib/main.go")


@pytest.fixture
def crowded(tmp_path: Path) -> Path:
    """150 files that match a query strongly, under noise/, and 4 that match it weakly, under keep/ (2) and docs/."""
    files: dict[str, str] = {
        f"noise/n{i}.py": f"def token_{i}():\n    return 'token token token'\n" for i in range(150)
    }
    files |= {f"keep/k{i}.py": f"def other_{i}():\n    '''a token'''\n    return 1\n" for i in range(2)}
    files |= {"docs/token.md": "# Notes\n\nOne token here.\n", "docs/more.md": "# More\n\nA token too.\n"}
    write(tmp_path, files)
    aurora.open(tmp_path).index()
    return tmp_path


def test_limit_still_fills_when_the_matches_rank_below_the_pool(crowded: Path) -> None:
    project = aurora.open(crowded)
    unfiltered = project.search("token", limit=200, record=False)
    ranks = [result.chunk.path.startswith(("keep/", "docs/")) for result in unfiltered.results]
    assert ranks.index(True) >= 100  # the wanted files rank below the first pool of candidates
    found = project.search("token", limit=4, path=["keep", "*.md"], record=False)
    assert sorted(result.chunk.path for result in found.results) == [
        "docs/more.md",
        "docs/token.md",
        "keep/k0.py",
        "keep/k1.py",
    ]
    by_language = project.search("token", limit=3, lang="markdown", record=False)
    assert {result.chunk.path for result in by_language.results} == {"docs/more.md", "docs/token.md"}
    files = project.search("token", limit=2, files=True, exclude=["noise/"], lang=["python"], record=False)
    assert sorted(result.chunk.path for result in files.results) == ["keep/k0.py", "keep/k1.py"]


def test_a_filter_that_matches_nothing_answers_no_results(crowded: Path) -> None:
    found = aurora.open(crowded).search("token", path=["nowhere/"], record=False)
    assert found.results == []


def test_the_api_refuses_an_unknown_language_listing_the_known_ones(crowded: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown --lang 'pyton'; allowed: c, cpp, .*python.*, zig$"):
        aurora.open(crowded).search("token", lang=["pyton"])


def test_mcp_tools_take_the_filters(indexed: Path) -> None:
    found = Tools(indexed).search("auth tokens http client", path=["src"], exclude=["tokens.py"], lang=["python"])
    assert [result["path"] for result in found["results"]] == ["src/net/http_client.py"]


def test_the_cli_filters_and_refuses_an_unknown_language(indexed: Path, cli) -> None:
    document = cli.json("search", "auth tokens http client guide", "-g", "src/**", "--exclude", "net", cwd=indexed)
    assert set(paths(document)) == {"src/auth/tokens.py"}
    done = cli("search", "tokens", "--lang", "pyton", cwd=indexed)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'pyton' is not one of c, cpp" in done.stderr and "python" in done.stderr


def test_the_warm_server_applies_the_filters(indexed: Path, cli, serve) -> None:
    serve(indexed)
    document = cli.json("search", "auth tokens http client", "--path", "*.py", "--lang", "python", cwd=indexed)
    assert document["answered_by"] == "server"
    assert set(paths(document)) <= {"src/auth/tokens.py", "src/net/http_client.py"} and document["results"]
    narrowed = cli.json("search", "auth tokens http client", "--path", "src/net", cwd=indexed)
    assert narrowed["answered_by"] == "server" and set(paths(narrowed)) == {"src/net/http_client.py"}
