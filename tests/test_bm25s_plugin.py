"""The bm25s plugin: the numpy-only reader scores exactly as bm25s does, on a real index."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import bm25s
import numpy as np
import pytest

from aurora_bm25s import aurora_describe, aurora_lexical_build, aurora_lexical_open

QUERIES = [
    "wait for a future with a timeout",
    "TimeoutError",
    "parse a configuration file",
    "os.path.join",
    "read lines from a file and strip whitespace",
    "HTTPServer request handler",
    "the of and",  # stopwords only
    "zzzzqqqq",  # unknown word
]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    """Real text: function-sized pieces of 60 standard-library modules."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for path in sorted(stdlib.glob("*.py"))[:60]:
        source = path.read_text(encoding="utf-8", errors="replace")
        texts += [piece for piece in source.split("\ndef ") if piece.strip()]
    return texts


@pytest.fixture(scope="module", params=["lucene", "robertson", "atire"])
def built(request: pytest.FixtureRequest, corpus: list[str], tmp_path_factory: pytest.TempPathFactory):
    options = {name: option.default for name, option in aurora_describe().options.items()}
    options["method"] = request.param
    directory = tmp_path_factory.mktemp(f"bm25-{request.param}")
    assert aurora_lexical_build(texts=corpus, directory=directory, options=options) is True
    return aurora_lexical_open(directory=directory, options=options), bm25s.BM25.load(directory, mmap=True)


@pytest.mark.parametrize("query", QUERIES)
def test_reader_scores_equal_bm25s(built, query: str) -> None:
    reader, reference = built
    ids = reader.term_ids(reader.analyze(query))
    ours, _ = reader.scores(ids)
    theirs = reference.get_scores(ids) if ids else np.zeros(reference.scores["num_docs"])
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("query", QUERIES[:6])
def test_reader_ranking_equals_bm25s_retrieve(built, query: str) -> None:
    reader, reference = built
    hits = reader.search(query, 10)
    ids = reader.term_ids(reader.analyze(query))
    documents, scores = reference.retrieve([ids], k=len(hits), show_progress=False)
    assert [doc for doc, _ in hits] == [int(d) for d in documents[0]] or np.allclose(
        [score for _, score in hits], scores[0]
    )  # equal scores may be ordered differently
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)


def test_search_leaves_out_documents_without_query_terms(built, corpus: list[str]) -> None:
    reader, _ = built
    hits = reader.search("HTTPServer", 1000)
    assert 0 < len(hits) < len(corpus)
    assert all("http" in corpus[doc].lower() or "server" in corpus[doc].lower() for doc, _ in hits)
    assert reader.search("zzzzqqqq", 10) == [] and reader.search("the of", 10) == []


def test_options_are_declared_with_defaults_and_limits() -> None:
    options = aurora_describe().options
    assert options["k1"].default == 1.2 and options["b"].maximum == 1.0
    assert "english" in options["stemmer"].choices and "none" in options["stopwords"].choices
