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
    analyzer = Analyzer("code", "english", ["b", "a"])
    again = Analyzer.from_dict(analyzer.to_dict())
    assert again.to_dict() == {"tokenizer": "code", "stemmer": "english", "stopwords": ["a", "b"]}


def test_unknown_tokenizer_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed: code, words"):
        Analyzer("sentencepiece")
