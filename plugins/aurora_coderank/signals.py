"""The code reranker's signals, each a share of a candidate's score (negative for a penalty).

Every signal reads only the candidate's metadata and the query profile
(:func:`aurora.plugin.read_query`), so it means the same in any language and any mode:

* ``definition``: the chunk defines a queried name (its symbol, or the type it belongs to);
* ``path``: the query's words appear in the file's name (fully) or folders (half);
* ``coherence``: other chunks of the same file are among the candidates too;
* ``brevity``: a penalty for code chunks of a line or three, which win on a few repeated words;
* ``prose``: a penalty for documentation files when the query names code;
* ``tests``: a penalty for test files, unless the query asks about tests.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import PurePosixPath

from aurora.plugin import Candidate, QueryProfile, compact_name, name_words

#: How much of each signal's weight applies to each kind of query (documented in docs/ranking.md).
SHARES = {
    "definition": {"symbol": 1.0, "mixed": 0.6, "natural": 0.3},
    "path": {"symbol": 0.33, "mixed": 1.0, "natural": 1.0},
    "coherence": {"symbol": 1.0, "mixed": 1.0, "natural": 1.0},
    "brevity": {"symbol": 1.0, "mixed": 1.0, "natural": 1.0},
    "prose": {"symbol": 1.0, "mixed": 1.0, "natural": 0.5},
    "tests": {"symbol": 1.0, "mixed": 1.0, "natural": 1.0},
}
#: Languages whose files are documentation rather than code.
PROSE = frozenset({"markdown", "rst", "text"})
#: Chunks shorter than this many lines pay the brevity penalty, in proportion to what they lack.
SHORT_LINES = 4
#: Test folders and file names in the usual conventions (pytest, Go, JUnit, Jest, RSpec, ...).
_TEST_PATH = re.compile(
    r"(^|/)(tests?|specs?|__tests__|testing|testdata)/|(^|/)test_[^/]*$|[_.-](test|spec)s?\.[^/.]+$|(Test|Tests|Spec)\.[^/.]+$"
)
#: A query word found in the names (or the folders) of more than this share of the candidate files says nothing there.
COMMON_PATH_WORD = 0.5


def definition(profile: QueryProfile, candidate: Candidate) -> float:
    """Return 1 when the chunk defines a queried name, 0.5 when it is a member of a queried type, else 0."""
    if not profile.names or not candidate.symbol:
        return 0.0
    best = 0.0
    for names, owners in _symbol_names(candidate.symbol):
        if not names.isdisjoint(profile.names):
            return 1.0
        if not owners.isdisjoint(profile.names):
            best = 0.5
    return best


@lru_cache(maxsize=65536)
def _symbol_names(symbol: str) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """Return, per symbol of a chunk, the compact names it defines (its last part, whole) and its owners' names."""
    found = []
    for one in symbol.split(", "):
        parts = one.replace("::", ".").split(".")
        found.append(
            (
                frozenset({compact_name(parts[-1]), compact_name(one)}),
                frozenset(compact_name(part) for part in parts[:-1]),
            )
        )
    return tuple(found)


def query_stems(profile: QueryProfile, stem: Callable[[list[str]], list[str]]) -> list[str]:
    """Return the distinct stems of the query's words (the word itself when its stem is shorter than 3 letters)."""
    stems = [s if len(s) >= 3 else w for w, s in zip(profile.words, stem(list(profile.words)), strict=True)]
    return [s for s in dict.fromkeys(stems) if len(s) >= 3]


class PathMatcher:
    """Scores how well a file's path carries the query's words, ignoring words most candidate paths carry.

    A query word matches where a word of the path starts with it, reading on into the
    words after it (``generat`` in ``app_generator``, ``websocket`` in ``WebSocketServer``,
    not ``app`` in ``wrapper``). File names and folders are judged apart: a word in most
    candidates' folders (the ``railties/`` every file of a project sits in) still tells
    ``railtie.rb`` apart by its name, and a word in most file names still tells folders
    apart.
    """

    def __init__(self, stems: Sequence[str], paths: Iterable[str]) -> None:
        distinct = sorted(set(paths))
        self._stems = list(stems)
        self._split = {path: _path_words(path) for path in distinct}
        in_names: Counter[str] = Counter()
        in_folders: Counter[str] = Counter()
        for path in distinct:
            name, folders = self._split[path]
            in_names.update(s for s in self._stems if _starts_a_word(s, name))
            in_folders.update(s for s in self._stems if _starts_a_word(s, folders))
        limit = COMMON_PATH_WORD * len(distinct) if len(distinct) > 2 else len(distinct)
        self._name_stems = frozenset(s for s in self._stems if in_names[s] <= limit)
        self._folder_stems = frozenset(s for s in self._stems if in_folders[s] <= limit)
        self._denominator = max(len(self._stems), 1)

    def score(self, path: str) -> float:
        """Return the share of the query's words found in the file name (1 each) or its folders (0.5 each)."""
        name, folders = self._split.get(path) or _path_words(path)
        found = 0.0
        for stem in self._stems:
            if stem in self._name_stems and _starts_a_word(stem, name):
                found += 1.0
            elif stem in self._folder_stems and _starts_a_word(stem, folders):
                found += 0.5
        return min(found / self._denominator, 1.0)


def coherence(candidates: Sequence[Candidate]) -> dict[int, float]:
    """Return, per chunk, the summed relative height of the other candidates of its file (capped at 1).

    A candidate's relative height is its score above the weakest candidate's, over the
    best one's, so weak candidates add nothing however many chunks their file has (in a
    semantic search every chunk is a candidate, with similarities a few hundredths apart).
    """
    floor = min(candidate.score for candidate in candidates)
    span = max(candidate.score for candidate in candidates) - floor
    if span <= 0:
        return {}
    totals: defaultdict[str, float] = defaultdict(float)
    for candidate in candidates:
        totals[candidate.path] += (candidate.score - floor) / span
    return {c.chunk_id: min(totals[c.path] - (c.score - floor) / span, 1.0) for c in candidates}


def brevity(candidate: Candidate) -> float:
    """Return how far a code chunk is short of :data:`SHORT_LINES`, from 0 (long enough) towards 1; 0 for prose."""
    if candidate.language in PROSE:
        return 0.0
    lines = candidate.line_end - candidate.line_start + 1
    return max(SHORT_LINES - lines, 0) / SHORT_LINES


def prose(candidate: Candidate) -> float:
    """Return 1 for a documentation file, else 0."""
    return 1.0 if candidate.language in PROSE else 0.0


@lru_cache(maxsize=65536)
def is_test_path(path: str) -> bool:
    """Return whether ``path`` is a test file: in a ``test(s)``/``spec(s)``/``__tests__`` folder or named like one."""
    return _TEST_PATH.search(path) is not None


@lru_cache(maxsize=65536)
def _path_words(path: str) -> tuple[str, str]:
    """Return the word runs (:func:`_spaced`) of the file's name (no extension) and of its folders."""
    pure = PurePosixPath(path)
    return _spaced([pure.stem]), _spaced(pure.parts[:-1])


def _spaced(parts: Sequence[str]) -> str:
    """Return, for each word of ``parts``, it and the words after it in its part, each run after a space.

    ``WebSocketServer`` gives `` websocketserver socketserver server``, so that a query's
    ``websocket`` or ``socket`` starts one of them and its ``app`` cannot start ``wrapper``.
    """
    runs = []
    for part in parts:
        words = name_words(part)
        runs += ["".join(words[start:]) for start in range(len(words))]
    return "".join(" " + run for run in runs)


def _starts_a_word(stem: str, words: str) -> bool:
    """Say whether ``stem`` starts one of the runs of ``words`` (as :func:`_path_words` gives them)."""
    return " " + stem in words
