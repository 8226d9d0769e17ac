"""Build a delta segment: a few new documents scored with the statistics of a saved (base) index.

A delta segment is an ordinary saved index (the reader opens it as it opens any), small
and cheap to build: its documents are analysed with the base's analyzer and table of
compounds, and scored with the base's statistics: its document count, average document length and
document frequencies (a term the base lacks counts the delta's documents), so that a
term weighs the same in the delta as in the base's precomputed scores. The base's
statistics still count the documents the delta replaces and not those it adds until the
next full build: a small skew for a delta kept to a small share of the corpus, and
mostly none for an edited file, whose old chunks resemble its new ones.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

from aurora_bm25s.builder import ANALYZER_FILE, STATS_FILE, VOCAB_FILE, write_vocab
from aurora_bm25s.reader import Bm25Reader

PARAMS_FILE = "params.index.json"


def build_delta(texts: Sequence[str], base: Path, directory: Path) -> bool:
    """Index ``texts`` into ``directory`` with the statistics of the index saved in ``base``.

    Return False when ``base`` lacks the statistics (it was saved before delta segments
    existed), or when this bm25s lacks the scoring helpers used here (they are not part of
    its public API): the host then builds a full index instead.
    """
    import bm25s
    import numpy as np

    try:
        from bm25s.scoring import _build_scores_and_indices_for_matrix, _np_csc_python, _select_idf_scorer
    except ImportError:
        return False
    if not (base / STATS_FILE).is_file():
        return False
    params = json.loads((base / PARAMS_FILE).read_text(encoding="utf-8"))
    average = json.loads((base / STATS_FILE).read_text(encoding="utf-8"))["avg_doc_len"]
    reader = Bm25Reader(base)
    vocab: dict[str, int] = {}
    token_ids = [[vocab.setdefault(term, len(vocab)) for term in reader.analyzer.terms(text)] for text in texts]
    delta_frequencies = Counter(chain.from_iterable(map(set, token_ids)))
    base_frequencies = reader.document_frequencies(list(vocab))
    idf_of = _select_idf_scorer(params["idf_method"] or params["method"])
    idf = np.array(
        [idf_of(base_frequencies.get(term) or delta_frequencies[i], N=reader.num_docs) for term, i in vocab.items()],
        dtype=params["dtype"],
    )
    scores, rows, columns = _build_scores_and_indices_for_matrix(
        corpus_token_ids=token_ids,
        idf_array=idf,
        avg_doc_len=average or 1.0,
        doc_frequencies=delta_frequencies,
        k1=params["k1"],
        b=params["b"],
        delta=params["delta"],
        nonoccurrence_array=None,
        method=params["method"],
        dtype=params["dtype"],
        int_dtype=params["int_dtype"],
        show_progress=False,
    )
    data, indices, indptr = _np_csc_python(scores, rows, columns, (len(texts), len(vocab)))
    retriever = bm25s.BM25(k1=params["k1"], b=params["b"], method=params["method"], backend="numpy")
    retriever.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": len(texts)}
    retriever.vocab_dict = vocab
    retriever.nonoccurrence_array = None  # set by index(), which a delta does not call
    retriever.save(directory, show_progress=False)
    shutil.copyfile(base / ANALYZER_FILE, directory / ANALYZER_FILE)
    write_vocab(directory / VOCAB_FILE, vocab, {})
    _copy_compounds(base / VOCAB_FILE, directory / VOCAB_FILE)
    return True


def _copy_compounds(source: Path, target: Path) -> None:
    """Give the delta the base's table of compounds, so that queries are analysed as the base analyses them."""
    db = sqlite3.connect(target)
    try:
        db.execute("ATTACH DATABASE ? AS base", (str(source),))
        db.execute("INSERT INTO compounds SELECT term, parts FROM base.compounds")
        db.commit()
    finally:
        db.close()
