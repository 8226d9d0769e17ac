"""Lexical scoring with SQLite FTS5 and its bm25() ranking: an example third-party Aurora plugin."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aurora.plugin import Option, PluginDescription, hookimpl

DATABASE = "fts5.sqlite"
TOKENIZERS = ("porter unicode61", "unicode61", "trigram")
_WORD = re.compile(r"\w+")


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the plugin and its one option."""
    return PluginDescription(
        summary="SQLite FTS5 full-text index ranked by bm25()",
        options={"tokenizer": Option("porter unicode61", "FTS5 tokenizer", choices=TOKENIZERS)},
    )


@hookimpl
def aurora_lexical_build(texts: Sequence[str], directory: Path, options: Mapping[str, Any]) -> bool:
    """Store ``texts`` in an FTS5 table whose rowid is the document position."""
    db = sqlite3.connect(directory / DATABASE)
    try:
        db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(body, tokenize = '{options['tokenizer']}')")
        db.executemany("INSERT INTO docs (rowid, body) VALUES (?, ?)", enumerate(texts))
        db.commit()
    finally:
        db.close()
    return True


@hookimpl
def aurora_lexical_open(directory: Path, options: Mapping[str, Any]) -> Fts5Index:
    """Open the FTS5 table read-only."""
    path = directory / DATABASE
    if not path.is_file():
        raise FileNotFoundError(f"missing {path}")
    return Fts5Index(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False))


class Fts5Index:
    """An FTS5 table opened for querying."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def analyze(self, text: str) -> list[str]:
        """Return the lowercased words of ``text`` (used for highlighting)."""
        return [word.lower() for word in _WORD.findall(text)]

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        """Return (position, score) pairs for documents matching any query word, best first."""
        words = sorted(set(self.analyze(query)))
        if not words:
            return []
        match = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
        rows = self._db.execute(
            "SELECT rowid, -bm25(docs) FROM docs WHERE docs MATCH ? ORDER BY bm25(docs), rowid LIMIT ?",
            (match, limit),
        )
        return [(int(rowid), float(score)) for rowid, score in rows]
