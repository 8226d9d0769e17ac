"""The code reranker (``code``): query reading, each signal, and its effect on real searches.

Signals are checked on hand-made candidates (their arithmetic) and on real indexes
searched in process (their effect), each against the same search with the reranker
removed, so that every test fails when its signal does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write

import aurora
from aurora.plugin import Candidate, name_words, read_query
from aurora_coderank.rerank import rerank
from aurora_coderank.signals import PathMatcher, is_test_path

OPTIONS = {"definition": 1.0, "path": 1.5, "coherence": 0.3, "brevity": 0.3, "prose": 0.6, "tests": 0.3, "repeat": 0.3}
OFF = "[activation]\nenabled = false\n"
NO_RERANKER = OFF + '[pipelines.default.reranker]\nplugin = "none"\n'


def _identity(words: list[str]) -> list[str]:
    return list(words)


def _candidate(chunk_id: int, score: float, path: str, **fields: Any) -> Candidate:
    values = {"symbol": None, "kind": "function", "language": "python", "line_start": 1, "line_end": 10, "text": ""}
    values.update(fields)
    return Candidate(chunk_id, score, {"lexical": score}, path, values["language"], values["symbol"],
                     values["kind"], values["line_start"], values["line_end"], values["text"])  # fmt: skip


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("createStore", "symbol"),
        ("Rails::Paths", "symbol"),
        ("view", "symbol"),
        ("parse_args add_argument", "symbol"),
        ("lru_cache maxsize", "mixed"),
        ("how formatError formats a JSONPath", "mixed"),
        ("real IP extraction from forwarded headers", "natural"),
    ],
)
def test_a_query_is_read_as_a_symbol_a_description_or_both(query: str, kind: str) -> None:
    assert read_query(query).kind == kind


def test_a_name_splits_into_words_at_separators_case_changes_and_digits() -> None:
    assert name_words("HTTPServer_v2") == ["http", "server", "v", "2"]
    assert name_words("app-generator.rb") == ["app", "generator", "rb"]


def test_a_definition_may_be_named_by_an_identifier_or_by_a_run_of_words() -> None:
    assert {"storecreatestore", "createstore"} <= read_query("store.createStore").names
    assert "typefactory" in read_query("type factory for parameterized types").names
    assert read_query("how the router matches").words == ("router", "matches")


def test_the_chunk_defining_a_queried_symbol_outranks_a_stronger_use() -> None:
    use = _candidate(1, 10.0, "app/main.py", symbol="main")
    member = _candidate(2, 7.0, "lib/other.py", symbol="Store.dispatch")
    definition = _candidate(3, 6.0, "lib/another.py", symbol="Store")
    order = rerank("Store", [use, member, definition], OPTIONS, _identity)
    assert [item.chunk_id for item in order] == [3, 2, 1]
    assert order[0].adjustments["definition"] == pytest.approx(6.0)
    assert order[1].adjustments["definition"] == pytest.approx(3.5)  # a member of the queried type: half


def test_adjustments_add_up_to_the_change_of_score() -> None:
    candidates = [
        _candidate(1, 4.0, "docs/guide.md", language="markdown", line_end=2),
        _candidate(2, 3.0, "src/retry.go", symbol="Retry"),
        _candidate(3, 2.0, "src/retry_test.go", symbol="TestRetry"),
    ]
    for item in rerank("retry policy", candidates, OPTIONS, _identity):
        before = next(c.score for c in candidates if c.chunk_id == item.chunk_id)
        assert item.score == pytest.approx(before + sum(item.adjustments.values()))


def test_documentation_tests_and_tiny_chunks_pay_their_penalties() -> None:
    code = _candidate(1, 1.0, "src/a.py")
    prose = _candidate(2, 1.0, "docs/a.md", language="markdown")
    test = _candidate(3, 1.0, "tests/test_a.py")
    tiny = _candidate(4, 1.0, "src/b.py", line_end=1)
    adjusted = {
        item.chunk_id: item.adjustments for item in rerank("parse_args", [code, prose, test, tiny], OPTIONS, _identity)
    }
    assert adjusted[1] == {}
    assert adjusted[2]["prose"] == pytest.approx(-0.6)
    assert adjusted[3]["tests"] == pytest.approx(-0.3)
    assert adjusted[4]["brevity"] == pytest.approx(-0.3 * 3 / 4)
    asked = rerank("tests for parse_args", [test], OPTIONS, _identity)
    assert "tests" not in asked[0].adjustments


def test_a_file_s_further_chunks_give_way_to_other_files() -> None:
    candidates = [_candidate(1, 10.0, "a.py"), _candidate(2, 6.0, "a.py"), _candidate(3, 5.0, "b.py")]
    order = rerank("zzz", candidates, {**OPTIONS, "coherence": 0.0}, _identity)
    assert [item.chunk_id for item in order] == [1, 3, 2]
    assert order[2].adjustments == {"repeat": pytest.approx(-6.0 * 0.3)}


def test_a_word_in_most_folders_still_counts_in_a_file_name_and_the_other_way_round() -> None:
    paths = ["railties/lib/engine.rb", "railties/lib/railtie.rb", "railties/lib/paths.rb", "railties/cli/run.rb"]
    matcher = PathMatcher(["railtie", "cli"], paths)
    assert matcher.score("railties/lib/railtie.rb") == 0.5  # its name; the folder every file is in counts nothing
    assert matcher.score("railties/lib/engine.rb") == 0.0
    assert matcher.score("railties/cli/run.rb") == 0.25  # a rare folder, half
    in_names = PathMatcher(["rb"], ["a/x_rb.py", "b/y_rb.py", "rb/z_rb.py"])
    assert in_names.score("rb/z_rb.py") == 0.5  # in every name, so only its rare folder counts


def test_a_query_word_matches_where_a_word_of_the_path_starts() -> None:
    matcher = PathMatcher(
        ["app"], ["src/app_generator.rb", "src/wrapper.rb", "src/AppConfig.rb", "lib/z.rb", "lib/y.rb"]
    )
    assert matcher.score("src/app_generator.rb") == matcher.score("src/AppConfig.rb") == 1.0
    assert matcher.score("src/wrapper.rb") == 0.0
    compounds = PathMatcher(["websocket", "mysql"], ["net/WebSocketServer.java", "db/MySQLPool.java", "a/b.java"])
    assert compounds.score("net/WebSocketServer.java") == compounds.score("db/MySQLPool.java") == 0.5


@pytest.mark.parametrize(
    ("path", "expected"),
    [("pkg/realip_test.go", True), ("src/test/java/A.java", True), ("a/b.spec.ts", True), ("lib/latest.go", False)],
)
def test_test_files_are_recognised_by_the_usual_conventions(path: str, expected: bool) -> None:
    assert is_test_path(path) is expected


@pytest.fixture(scope="module")
def code_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project where uses of a name outnumber its definition, and docs repeat the query's words."""
    root = tmp_path_factory.mktemp("coderank")
    calls = "\n".join(f"    session = open_session(config, {n})\n    session.close()" for n in range(12))
    write(
        root,
        {
            "lib/sessions.py": '''
                def open_session(config, retries):
                    """Open a connection to the configured host."""
                    return Connection(config.host, retries)
                ''',
            "app/jobs.py": f"def run_all(config):\n{calls}\n",
            "docs/sessions.md": "# Sessions\n\nCall open_session to open a session; open_session retries.\n",
        },
    )
    for config in (NO_RERANKER, OFF):
        write(root, {"aurora.toml": config})
        aurora.open(root).index()
    return root


def _top_paths(root: Path, config: str, query: str) -> list[str]:
    write(root, {"aurora.toml": config})
    return [result.chunk.path for result in aurora.open(root).search(query, limit=3).results]


def test_a_symbol_query_finds_its_definition_first_only_with_the_reranker(code_tree: Path) -> None:
    assert _top_paths(code_tree, NO_RERANKER, "open_session")[0] != "lib/sessions.py"
    assert _top_paths(code_tree, OFF, "open_session")[0] == "lib/sessions.py"


def test_explain_shows_the_reranker_s_adjustments(code_tree: Path) -> None:
    write(code_tree, {"aurora.toml": OFF})
    document = aurora.open(code_tree).search("open_session", limit=1, explain=True).to_dict()
    assert "definition" in document["results"][0]["rerank"]
