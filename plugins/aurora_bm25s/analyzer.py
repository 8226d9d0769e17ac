"""Text to index terms: a code-aware tokenizer, stopwords and Snowball stemming.

The ``code`` tokenizer keeps every identifier whole and adds its parts: ``TimeoutError``
gives ``timeouterror``, ``timeout`` and ``error``; ``os.path.join`` gives the dotted
name, ``os``, ``path`` and ``join``; ``get_user_name`` gives ``get``, ``user`` and
``name`` too. The ``words`` tokenizer is bm25s's default (runs of two or more word
characters). Terms shorter than two characters are dropped, stopwords are removed
before stemming. Each distinct word is analysed once per process (memoised).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain
from typing import Any

TOKENIZERS = ("code", "words")

_CODE_WORD = re.compile(r"\w+(?:\.(?!\d)\w+)*")
_PLAIN_WORD = re.compile(r"\w\w+")
_PIECE = re.compile(r"[^._]+")
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


class Analyzer:
    """Turns text into index terms; the same settings must be used to index and to query."""

    def __init__(self, tokenizer: str = "code", stemmer: str | None = "english", stopwords: Iterable[str] = ()):
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {tokenizer!r}; allowed: {', '.join(TOKENIZERS)}")
        self.tokenizer = tokenizer
        self.stemmer_name = stemmer
        self.stopwords = frozenset(stopwords)
        self._pattern = _CODE_WORD if tokenizer == "code" else _PLAIN_WORD
        self._stem = _stemmer(stemmer)
        self._memo: dict[str, tuple[str, ...]] = {}

    def terms(self, text: str) -> list[str]:
        """Return the index terms of ``text``, in order, with repeats."""
        memo = self._memo
        words = self._pattern.findall(text)
        missing = {w for w in words if w not in memo}
        if missing:
            self._analyse(missing)
        return list(chain.from_iterable(map(memo.__getitem__, words)))

    def to_dict(self) -> dict[str, Any]:
        """Return the settings, to be saved beside the index."""
        return {"tokenizer": self.tokenizer, "stemmer": self.stemmer_name, "stopwords": sorted(self.stopwords)}

    @classmethod
    def from_dict(cls, settings: dict[str, Any]) -> Analyzer:
        """Rebuild an analyzer from :meth:`to_dict` output."""
        return cls(settings["tokenizer"], settings["stemmer"], settings["stopwords"])

    def _analyse(self, words: set[str]) -> None:
        split = _split_identifier if self.tokenizer == "code" else _lower
        stopwords = self.stopwords
        pending = {word: [t for t in split(word) if len(t) > 1 and t not in stopwords] for word in words}
        distinct = sorted({t for terms in pending.values() for t in terms})
        stems = dict(zip(distinct, self._stem(distinct), strict=True))
        for word, terms in pending.items():
            self._memo[word] = tuple(stems[t] for t in terms)


def _lower(word: str) -> list[str]:
    return [word.lower()]


def _split_identifier(word: str) -> list[str]:
    """Return the word lowercased, then its distinct parts (dotted, snake and camel case)."""
    whole = word.lower()
    terms = [whole]
    for piece in _PIECE.findall(word):
        parts = _CAMEL_PART.findall(piece) if piece.isascii() else [piece]
        for term in ([piece.lower()] if len(parts) > 1 else []) + [p.lower() for p in parts]:
            if term not in terms:
                terms.append(term)
    return terms


def _stemmer(name: str | None) -> Any:
    if not name or name == "none":
        return lambda terms: terms
    import Stemmer

    return Stemmer.Stemmer(name).stemWords


def stemmer_names() -> tuple[str, ...]:
    """Return the Snowball stemmers PyStemmer provides, plus ``none``."""
    import Stemmer

    return ("none", *sorted(Stemmer.algorithms()))
