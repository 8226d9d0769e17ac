"""What a query asks for: a symbol, a description in words, or a description naming identifiers.

A symbol query (``createStore``, ``Rails::Paths``, ``lru_cache``) wants the definition
and the file named after it, and is best answered lexically; a natural-language query
(``real IP extraction from forwarded headers``) wants files whose names and contents
carry its words or its meaning; a mixed one (``how formatError formats a JSONPath``)
wants both. Fusion weighs its signals by this reading (:mod:`aurora.search.engine`), and
so does the code reranker, which gets it through :mod:`aurora.plugin`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

SYMBOL = "symbol"
MIXED = "mixed"
NATURAL = "natural"

#: Words that say nothing about which code is meant.
STOPWORDS = frozenset(
    """
    a an and are as at be by can do does for from how i in into is it its of on or that the their then
    there these this those to use used uses using via was what when where which while who why will with
    within without code function functions method methods class classes file files implementation
    implemented implements logic handle handles handling work works
    """.split()
)

_TOKEN = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->|#)[A-Za-z_$][\w$]*)*(?:\(\))?|\d+")
_WORD = re.compile(r"[A-Za-z]+|\d+")
_SEPARATORS = re.compile(r"[^0-9a-z]")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


class QueryProfile(NamedTuple):
    """A query as the reranker reads it.

    ``names`` are the compact forms a definition may carry (``createstore`` for
    ``createStore``, ``store.createStore`` or ``create store``); ``words`` are the
    lower-cased content words.
    """

    kind: str
    names: frozenset[str]
    words: tuple[str, ...]

    @property
    def about_tests(self) -> bool:
        """Whether the query asks about tests (``test``, ``tests``, ``spec``, ``testing``...)."""
        return any(word.startswith(("test", "spec")) for word in self.words)


@lru_cache(maxsize=1024)
def read_query(query: str) -> QueryProfile:
    """Read ``query``: its kind, the names a definition of what it asks for could have, its content words."""
    tokens = _TOKEN.findall(query)
    identifiers = [token for token in tokens if _is_identifier(token)]
    if len(tokens) == 1 and not tokens[0].isdigit():
        kind = SYMBOL
        identifiers = tokens
    elif tokens and len(identifiers) == len(tokens) and len(tokens) <= 3:
        kind = SYMBOL
    elif identifiers:
        kind = MIXED
    else:
        kind = NATURAL
    words = []
    for token in tokens:
        for word in name_words(token):
            if word not in STOPWORDS and word not in words:
                words.append(word)
    unified = {_unify(token) for token in identifiers}
    return QueryProfile(kind, frozenset(_names(tokens, unified)), tuple(words))


def _is_identifier(token: str) -> bool:
    """Return whether ``token`` looks like a code name (``snake_case``, ``camelCase``, ``a.b``, ``f()``), not a word."""
    if token.isdigit():
        return False
    if any(mark in token for mark in ("_", ".", "::", "->", "#", "()", "$")):
        return True
    body = token[1:]
    return any(char.isupper() for char in body) and any(char.islower() for char in token)


def name_words(name: str) -> list[str]:
    """Return the lower-cased words of ``name``, split at separators, case changes and digits.

    ``HTTPServer_v2`` gives ``http``, ``server``, ``v`` and ``2``.
    """
    return [part.lower() for word in _WORD.findall(name) for part in _CAMEL.findall(word)]


@lru_cache(maxsize=65536)
def compact_name(name: str) -> str:
    """Return ``name`` lower-cased without separators: ``create_store``, ``createStore`` -> ``createstore``."""
    return _SEPARATORS.sub("", name.lower())


def _unify(token: str) -> str:
    return re.sub(r"::|->|#", ".", token.removesuffix("()")).lower()


def _names(tokens: list[str], identifiers: set[str]) -> set[str]:
    """Return the compact names a queried definition could have: each identifier and its last part, and word runs."""
    names = set()
    for identifier in identifiers:
        names.add(compact_name(identifier))
        names.add(compact_name(identifier.rpartition(".")[2]))
    plain = [token for token in tokens if not _is_identifier(token) and token.lower() not in STOPWORDS]
    for size in (2, 3):
        for start in range(len(plain) - size + 1):
            names.add(compact_name("".join(plain[start : start + size])))
    names.discard("")
    return names
