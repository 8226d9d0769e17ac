"""The bm25s plugin's analyzer: code-aware tokens, stopwords, stemming."""

from __future__ import annotations

import pytest

from aurora_bm25s.analyzer import Analyzer


@pytest.mark.parametrize(
    ("word", "terms"),
    [
        ("TimeoutError", ["timeouterror", "timeout", "error"]),
        ("get_user_name", ["get_user_name", "get", "user", "name"]),
        ("os.path.join", ["os.path.join", "os", "path", "join"]),
        ("HTTPServer", ["httpserver", "http", "server"]),
        ("XMLHttpRequest2", ["xmlhttprequest2", "xml", "http", "request"]),
        ("__init__", ["__init__", "init"]),
        ("sha256", ["sha256", "sha", "256"]),
        ("café", ["café"]),
        ("x", []),
    ],
)
def test_code_tokenizer_keeps_identifiers_and_adds_their_parts(word: str, terms: list[str]) -> None:
    assert Analyzer("code", None).terms(word) == terms


def test_words_tokenizer_is_plain_lowercased_words() -> None:
    assert Analyzer("words", None).terms("TimeoutError os.path x 42") == ["timeouterror", "os", "path", "42"]


def test_stopwords_are_dropped_before_stemming() -> None:
    analyzer = Analyzer("code", "english", ["the", "is", "a"])
    assert analyzer.terms("The tokens is_expired a running") == ["token", "is_expir", "expir", "run"]


def test_query_word_matches_parts_of_compound_identifiers() -> None:
    analyzer = Analyzer("code", "english")
    assert set(analyzer.terms("Timeout")) <= set(analyzer.terms("raise TimeoutError(url)"))
    assert set(analyzer.terms("refresh tokens")) <= set(analyzer.terms("def refresh_auth_tokens(self):"))


def test_settings_round_trip() -> None:
    analyzer = Analyzer("code", "english", ["b", "a"], split_compounds=True, one_letter=True)
    again = Analyzer.from_dict(analyzer.to_dict())
    assert again.to_dict() == {
        "tokenizer": "code",
        "stemmer": "english",
        "stopwords": ["a", "b"],
        "split_compounds": True,
        "one_letter": True,
    }


def test_settings_saved_before_the_added_terms_existed_mean_without_them() -> None:
    analyzer = Analyzer.from_dict({"tokenizer": "code", "stemmer": None, "stopwords": []})
    assert not analyzer.split_compounds and not analyzer.one_letter
    assert analyzer.terms("x = readlinebuffer") == ["readlinebuffer"]


def test_one_letter_identifiers_are_indexed_and_matched_only_by_a_single_identifier() -> None:
    analyzer = Analyzer("code", None, ["a"], one_letter=True)
    assert analyzer.terms("x = self.y + get_z(a) * T") == ["x", "self.y", "self", "y", "get_z", "get", "t"]
    assert analyzer.query_terms("T") == ["t"] and analyzer.query_terms("self.y") == ["self.y", "self", "y"]
    assert analyzer.query_terms("x axis label") == ["axis", "label"]
    assert analyzer.query_terms("a") == []  # a stopword stays one


def test_compounds_add_their_parts_to_documents_and_to_single_identifier_queries() -> None:
    table = {"readlinebuff": ("read", "line", "buffer"), "storag": ("stor", "age")}
    analyzer = Analyzer(
        "code", "english", split_compounds=True, compounds=lambda stems: {s: table[s] for s in stems if s in table}
    )
    assert analyzer.terms("n = readlinebuffer(storage)") == [
        "readlinebuff",
        "read",
        "line",
        "buffer",
        "storag",
        "stor",
        "age",
    ]
    assert analyzer.query_terms("readlinebuffers") == ["readlinebuff", "read", "line", "buffer"]  # by stem
    assert analyzer.query_terms("cookie storage") == ["cooki", "storag"]  # a longer text keeps its own words
    assert set(analyzer.query_terms("line buffer")) <= set(analyzer.terms("readlinebuffer"))


def test_unknown_tokenizer_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed: code, words"):
        Analyzer("sentencepiece")
