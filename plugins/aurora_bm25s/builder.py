"""Build a BM25 index with bm25s and save it with the files the reader needs.

Besides bm25s's own files (loadable with ``bm25s.BM25.load``), the folder holds
``analyzer.json`` (the analyzer's settings), ``stats.json`` (the corpus statistics a delta
segment is scored with, see :mod:`aurora_bm25s.delta`) and ``vocab.sqlite``: the ``vocab`` table
(term -> id) and, when compounds are split, the ``compounds`` table (stem of a compound ->
its parts, space-separated), so that a query looks up only its own terms instead of
loading the whole vocabulary or the corpus's word list.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any

from aurora_bm25s.analyzer import Analyzer

ANALYZER_FILE = "analyzer.json"
VOCAB_FILE = "vocab.sqlite"
STATS_FILE = "stats.json"

#: Stopword lists of bm25s, by the code used in pipeline options.
STOPWORD_LISTS = {
    "en": "STOPWORDS_EN",
    "en_plus": "STOPWORDS_EN_PLUS",
    "da": "STOPWORDS_DANISH",
    "de": "STOPWORDS_GERMAN",
    "es": "STOPWORDS_SPANISH",
    "fr": "STOPWORDS_FRENCH",
    "it": "STOPWORDS_ITALIAN",
    "ko": "STOPWORDS_KOREAN",
    "nl": "STOPWORDS_DUTCH",
    "no": "STOPWORDS_NORWEGIAN",
    "pt": "STOPWORDS_PORTUGUESE",
    "ru": "STOPWORDS_RUSSIAN",
    "sv": "STOPWORDS_SWEDISH",
    "tr": "STOPWORDS_TURKISH",
    "zh": "STOPWORDS_CHINESE",
}


def build(texts: Sequence[str], directory: Path, options: Mapping[str, Any]) -> None:
    """Index ``texts`` with bm25s and save everything into ``directory``."""
    import bm25s
    import bm25s.stopwords

    stopwords = getattr(bm25s.stopwords, STOPWORD_LISTS[options["stopwords"]]) if options["stopwords"] != "none" else ()
    settings = {
        "tokenizer": options["tokenizer"],
        "stemmer": options["stemmer"],
        "stopwords": stopwords,
        # an index recorded before these options existed is rebuilt as it was built: without them
        "split_compounds": options.get("split_compounds", False),
        "one_letter": options.get("one_letter", False),
    }
    analyzer = Analyzer.from_dict(settings)
    with _cyclic_gc_paused():
        token_ids, vocab, compounds = _tokenize(texts, analyzer)
    retriever = bm25s.BM25(k1=options["k1"], b=options["b"], method=options["method"], backend="numpy")
    retriever.index((token_ids, vocab), create_empty_token=False, show_progress=False)
    retriever.save(directory, show_progress=False)
    (directory / ANALYZER_FILE).write_text(json.dumps(analyzer.to_dict()), encoding="utf-8")
    average = sum(map(len, token_ids)) / len(token_ids) if token_ids else 0.0
    (directory / STATS_FILE).write_text(json.dumps({"avg_doc_len": average}), encoding="utf-8")
    write_vocab(directory / VOCAB_FILE, vocab, compounds)


def _tokenize(
    texts: Sequence[str], analyzer: Analyzer
) -> tuple[list[list[int]], dict[str, int], dict[str, tuple[str, ...]]]:
    """Return each text's term ids, the vocabulary (term -> id) and the table of compounds.

    Each text becomes word ids first, so that the corpus's distinct words are known (and
    its compounds learnt) before any is analysed, and each word is analysed once.
    """
    word_ids: dict[str, int] = {}
    documents = [[word_ids.setdefault(word, len(word_ids)) for word in analyzer.words(text)] for text in texts]
    compounds = analyzer.learn_vocabulary(word_ids)
    vocab: dict[str, int] = {}
    word_terms = [[vocab.setdefault(t, len(vocab)) for t in terms] for terms in analyzer.word_terms(list(word_ids))]
    return [list(chain.from_iterable(map(word_terms.__getitem__, words))) for words in documents], vocab, compounds


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector, which would scan the millions of (acyclic) lists and tuples over and over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_vocab(path: Path, vocab: Mapping[str, int], compounds: Mapping[str, tuple[str, ...]]) -> None:
    """Write the vocabulary (term -> id) and the table of compounds (stem -> its parts) into a new SQLite file."""
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE vocab (term TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO vocab VALUES (?, ?)", vocab.items())
        db.execute("CREATE TABLE compounds (term TEXT PRIMARY KEY, parts TEXT NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO compounds VALUES (?, ?)", ((t, " ".join(p)) for t, p in compounds.items()))
        db.commit()
    finally:
        db.close()
