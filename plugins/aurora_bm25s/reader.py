"""Query a saved bm25s index with numpy alone, memory-mapped.

``import bm25s`` takes ~0.17 s (scipy, tqdm), more than a whole lexical search may
take, so queries read bm25s's saved CSC arrays directly and sum the precomputed
per-term scores exactly as ``bm25s.BM25.get_scores`` does (tests check they agree).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from aurora_bm25s.analyzer import Analyzer
from aurora_bm25s.builder import ANALYZER_FILE, VOCAB_FILE

#: Terms per vocabulary query (SQLite allows 32,766 parameters).
_TERMS_PER_QUERY = 5000


class Bm25Reader:
    """A saved index opened for querying; implements :class:`aurora.host.contract.LexicalIndex`."""

    def __init__(self, directory: Path) -> None:
        params = json.loads((directory / "params.index.json").read_text(encoding="utf-8"))
        self.num_docs = int(params["num_docs"])
        settings = json.loads((directory / ANALYZER_FILE).read_text(encoding="utf-8"))
        self._data = np.load(directory / "data.csc.index.npy", mmap_mode="r")
        self._indices = np.load(directory / "indices.csc.index.npy", mmap_mode="r")
        self._indptr = np.load(directory / "indptr.csc.index.npy", mmap_mode="r")
        self._check_shapes()
        vocab_path = directory / VOCAB_FILE
        if not vocab_path.is_file():
            raise FileNotFoundError(f"missing {vocab_path}")
        self._vocab = sqlite3.connect(f"{vocab_path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self.analyzer = Analyzer.from_dict(settings, self._compound_parts)

    def _check_shapes(self) -> None:
        """Raise ValueError when the saved arrays disagree (a damaged or mixed-up file), rather than score wrongly.

        Constant time: the ends of the arrays are checked, not every entry; an entry out
        of range raises IndexError when a query reads it.
        """
        ends = (int(self._indptr[0]), int(self._indptr[-1])) if self._indptr.ndim == 1 and len(self._indptr) else None
        if ends != (0, len(self._data)) or len(self._indices) != len(self._data) or self.num_docs < 0:
            raise ValueError("the saved BM25 arrays disagree with each other")

    def analyze(self, text: str) -> list[str]:
        """Return the index terms of ``text`` to look up (see :meth:`Analyzer.query_terms`)."""
        return self.analyzer.query_terms(text)

    def term_ids(self, terms: list[str]) -> list[int]:
        """Return the ids of ``terms`` that are in the vocabulary, repeats kept (as bm25s does)."""
        known = self._lookup(terms)
        return [known[t] for t in terms if t in known]

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """Return the number of documents that contain each of ``terms`` that is in the vocabulary."""
        return {term: int(self._indptr[i + 1] - self._indptr[i]) for term, i in self._lookup(terms).items()}

    def _lookup(self, terms: list[str]) -> dict[str, int]:
        """Return the id of each of ``terms`` that is in the vocabulary (one query per 5,000 distinct terms)."""
        distinct = sorted(set(terms))
        known: dict[str, int] = {}
        for start in range(0, len(distinct), _TERMS_PER_QUERY):
            batch = distinct[start : start + _TERMS_PER_QUERY]
            marks = ",".join("?" * len(batch))
            known.update(self._vocab.execute(f"SELECT term, id FROM vocab WHERE term IN ({marks})", batch))
        return known

    def _compound_parts(self, stems: list[str]) -> dict[str, tuple[str, ...]]:
        """Return the parts of those ``stems`` that are compounds in the index: one query, for the analyzer."""
        marks = ",".join("?" * len(stems))
        rows = self._vocab.execute(f"SELECT term, parts FROM compounds WHERE term IN ({marks})", stems)
        return {term: tuple(parts.split(" ")) for term, parts in rows}

    def scores(self, term_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Return every document's score and a mask of the documents that contain a query term."""
        scores = np.zeros(self.num_docs, dtype=np.float32)
        matched = np.zeros(self.num_docs, dtype=bool)
        for term in term_ids:
            start, end = self._indptr[term], self._indptr[term + 1]
            docs = self._indices[start:end]
            scores[docs] += self._data[start:end]
            matched[docs] = True
        return scores, matched

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        """Return up to ``limit`` (document position, score) pairs, best first."""
        terms = self.analyze(query)
        if not terms or limit <= 0:
            return []
        scores, matched = self.scores(self.term_ids(terms))
        candidates = np.flatnonzero(matched)
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        return [(int(doc), float(scores[doc])) for doc in order]
