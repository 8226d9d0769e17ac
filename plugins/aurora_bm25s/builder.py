"""Build a BM25 index with bm25s and save it with the files the reader needs.

Besides bm25s's own files (loadable with ``bm25s.BM25.load``), the folder holds
``analyzer.json`` (tokenizer, stemmer, stopwords) and ``vocab.sqlite`` (term -> id),
so that a query looks up only its own terms instead of loading the whole vocabulary.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aurora_bm25s.analyzer import Analyzer

ANALYZER_FILE = "analyzer.json"
VOCAB_FILE = "vocab.sqlite"

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
    analyzer = Analyzer(options["tokenizer"], options["stemmer"], stopwords)
    vocab: dict[str, int] = {}
    token_ids = [[vocab.setdefault(term, len(vocab)) for term in analyzer.terms(text)] for text in texts]
    retriever = bm25s.BM25(k1=options["k1"], b=options["b"], method=options["method"], backend="numpy")
    retriever.index((token_ids, vocab), create_empty_token=False, show_progress=False)
    retriever.save(directory, show_progress=False)
    (directory / ANALYZER_FILE).write_text(json.dumps(analyzer.to_dict()), encoding="utf-8")
    _write_vocab(directory / VOCAB_FILE, vocab)


def _write_vocab(path: Path, vocab: Mapping[str, int]) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE vocab (term TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO vocab VALUES (?, ?)", vocab.items())
        db.commit()
    finally:
        db.close()
