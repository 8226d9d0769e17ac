"""Text to index terms: a code-aware tokenizer, stopwords and Snowball stemming.

The ``code`` tokenizer keeps every identifier whole and adds its parts: ``TimeoutError``
gives ``timeouterror``, ``timeout`` and ``error``; ``os.path.join`` gives the dotted
name, ``os``, ``path`` and ``join``; ``get_user_name`` gives ``get``, ``user`` and
``name`` too. The ``words`` tokenizer is bm25s's default (runs of two or more word
characters). Stopwords are removed before stemming. Each distinct word is analysed once
per process (memoised).

Two settings add index terms to a document. ``split_compounds``: a lower-case compound
such as ``readlinebuffer`` also gives the words it joins (``read``, ``line``, ``buffer``),
as the index's table of compounds says (:mod:`aurora_bm25s.compounds` learns it from the
corpus). ``one_letter``: terms shorter than two characters are dropped, except that a
one-letter identifier (``x``, ``T``, the ``x`` of ``self.x``) is indexed as a one-letter
term. A query looks these added terms up only when it is a single identifier, as a symbol
query is (:meth:`Analyzer.query_terms`): ``x`` finds ``x`` and ``readlinebuffer`` finds
``read_line_buffer``, while "line buffer" finds ``readlinebuffer`` through the document's
added terms, and the ``x`` of "x axis" adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

from aurora_bm25s.compounds import learn

TOKENIZERS = ("code", "words")

#: Given stems, return the parts (stemmed) of those that are compounds in the index.
CompoundLookup = Callable[[list[str]], Mapping[str, tuple[str, ...]]]

_CODE_WORD = re.compile(r"\w+(?:\.(?!\d)\w+)*")
_PLAIN_WORD = re.compile(r"\w\w+")
_PIECE = re.compile(r"[^._]+")
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


class Analyzer:
    """Turns text into index terms; the same settings must be used to index and to query."""

    def __init__(
        self,
        tokenizer: str = "code",
        stemmer: str | None = "english",
        stopwords: Iterable[str] = (),
        *,
        split_compounds: bool = False,
        one_letter: bool = False,
        compounds: CompoundLookup | None = None,
    ):
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {tokenizer!r}; allowed: {', '.join(TOKENIZERS)}")
        self.tokenizer = tokenizer
        self.stemmer_name = stemmer
        self.stopwords = frozenset(stopwords)
        self.split_compounds = split_compounds
        self.one_letter = one_letter
        self._compounds = compounds if split_compounds else None
        self._pattern = _CODE_WORD if tokenizer == "code" else _PLAIN_WORD
        self._split = _split_identifier if tokenizer == "code" else _lower
        self._stem = _stemmer(stemmer)
        self._plain_memo: dict[str, tuple[str, ...]] = {}  # a word's own terms
        self._index_memo: dict[str, tuple[str, ...]] = {}  # and those that split_compounds and one_letter add
        self._stems: dict[str, str] = {}

    def words(self, text: str) -> list[str]:
        """Return the words of ``text`` the tokenizer finds, in order, with repeats."""
        return self._pattern.findall(text)

    def word_terms(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """Return the index terms of each of ``words``: their own, their compounds' parts and one-letter names."""
        if self._compounds is None and not self.one_letter:
            return self._plain_terms(words)
        memo = self._index_memo
        missing = [w for w in dict.fromkeys(words) if w not in memo]
        if missing:
            plain = self._plain_terms(missing)
            compounds = {}
            if self._compounds is not None:
                compounds = self._compounds(list(set(chain.from_iterable(plain))))
            for word, terms in zip(missing, plain, strict=True):
                names = _one_letter_names(word) if self.one_letter and (len(word) == 1 or "." in word) else ()
                if not names and compounds.keys().isdisjoint(terms):
                    memo[word] = terms
                    continue
                found = list(terms)
                for stem in terms:
                    found += [part for part in compounds.get(stem, ()) if part not in found]
                memo[word] = (*found, *(name for name in names if name not in self.stopwords))
        return [memo[word] for word in words]

    def terms(self, text: str) -> list[str]:
        """Return the index terms of ``text``, in order, with repeats (what a document is indexed under)."""
        return list(chain.from_iterable(self.word_terms(self.words(text))))

    def query_terms(self, text: str) -> list[str]:
        """Return the terms to look up for ``text``.

        A single identifier (a symbol query such as ``x`` or ``readlinebuffer``, or one word
        of a line) gets all its index terms; in longer text, one-letter names and the parts
        of compounds are left out: the ``x`` of "x axis" or the ``stor`` and ``age`` a corpus
        may find in ``storage`` would match what the text does not mean.
        """
        words = self.words(text)
        return list(chain.from_iterable(self.word_terms(words) if len(words) == 1 else self._plain_terms(words)))

    def learn_vocabulary(self, words: Collection[str]) -> dict[str, tuple[str, ...]]:
        """Analyse a corpus's distinct ``words`` and, when splitting compounds, learn them from these words.

        Return the table of compounds learnt (the stem of each -> the stems of its parts),
        which this analyzer then uses for :meth:`word_terms`.
        """
        splits = {word: self._split(word) for word in words}
        self._analyse(splits)
        table: dict[str, tuple[str, ...]] = {}
        if self.split_compounds:
            found = learn((atoms for _, atoms in splits.values()), self._stem_all)
            self._learn_stems(set(chain.from_iterable(found.values())))
            stems = self._stems
            for compound, parts in found.items():
                stem = stems[compound]
                stemmed = tuple(dict.fromkeys(stems[p] for p in parts if p not in self.stopwords and stems[p] != stem))
                if stemmed:
                    table.setdefault(stem, stemmed)
            table = {stem: _expand(stem, table) for stem in table}
            self._compounds = lambda keys: {key: table[key] for key in keys if key in table}
        return table

    def to_dict(self) -> dict[str, Any]:
        """Return the settings, to be saved beside the index."""
        return {
            "tokenizer": self.tokenizer,
            "stemmer": self.stemmer_name,
            "stopwords": sorted(self.stopwords),
            "split_compounds": self.split_compounds,
            "one_letter": self.one_letter,
        }

    @classmethod
    def from_dict(cls, settings: dict[str, Any], compounds: CompoundLookup | None = None) -> Analyzer:
        """Rebuild an analyzer from :meth:`to_dict` output (settings saved before a setting existed mean off)."""
        return cls(
            settings["tokenizer"],
            settings["stemmer"],
            settings["stopwords"],
            split_compounds=settings.get("split_compounds", False),
            one_letter=settings.get("one_letter", False),
            compounds=compounds,
        )

    def _plain_terms(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """Return the terms of each of ``words`` without those compounds and one-letter names add."""
        memo = self._plain_memo
        missing = {w for w in words if w not in memo}
        if missing:
            self._analyse({word: self._split(word) for word in missing})
        return [memo[word] for word in words]

    def _analyse(self, splits: Mapping[str, tuple[list[str], list[str]]]) -> None:
        """Memoise the terms of each word, given its split (:func:`_split_identifier`)."""
        stopwords = self.stopwords
        pending = {word: [t for t in split[0] if len(t) > 1 and t not in stopwords] for word, split in splits.items()}
        stems = self._stems
        self._learn_stems({t for terms in pending.values() for t in terms})
        for word, terms in pending.items():
            self._plain_memo[word] = tuple(stems[t] for t in terms)

    def _stem_all(self, terms: list[str]) -> list[str]:
        """Return the stem of each of ``terms``, stemming each distinct term once per analyzer."""
        self._learn_stems(set(terms))
        return [self._stems[t] for t in terms]

    def _learn_stems(self, terms: set[str]) -> None:
        """Stem those of ``terms`` not stemmed yet."""
        missing = [t for t in terms if t not in self._stems]
        if missing:
            self._stems.update(zip(missing, self._stem(missing), strict=True))


def _lower(word: str) -> tuple[list[str], list[str]]:
    return [word.lower()], [word.lower()]


def _split_identifier(word: str) -> tuple[list[str], list[str]]:
    """Return the word lowercased then its distinct parts (dotted, snake and camel case), and its smallest parts.

    ``Sources/readLine_buf`` gives ``readline_buf``, ``readline``, ``read``, ``line`` and
    ``buf``, and the smallest parts ``read``, ``line`` and ``buf``.
    """
    whole = word.lower()
    terms, atoms = [whole], []
    for piece in _PIECE.findall(word):
        parts = [p.lower() for p in (_CAMEL_PART.findall(piece) if piece.isascii() else [piece])]
        atoms += parts
        for term in ([piece.lower()] if len(parts) > 1 else []) + parts:
            if term not in terms:
                terms.append(term)
    return terms, atoms


def _expand(stem: str, table: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Return the parts of a compound and, in turn, those of its parts that are compounds too."""
    found = [stem]
    for term in found:
        found += [part for part in table.get(term, ()) if part not in found]
    return tuple(found[1:])


def _one_letter_names(word: str) -> list[str]:
    """Return the one-letter names a word holds, lowercased: ``x``, or ``x`` of ``self.x``; none of ``get_x``."""
    return [name.lower() for name in word.split(".") if len(name) == 1 and name.isalpha()]


def _stemmer(name: str | None) -> Any:
    if not name or name == "none":
        return lambda terms: terms
    import Stemmer

    return Stemmer.Stemmer(name).stemWords


def stemmer_names() -> tuple[str, ...]:
    """Return the Snowball stemmers PyStemmer provides, plus ``none``."""
    import Stemmer

    return ("none", *sorted(Stemmer.algorithms()))
