"""Split lower-case compound identifiers (``readlinebuffer``) into the words a corpus uses on their own.

Camel and snake case show where the words of ``readLineBuffer`` or ``read_line_buffer``
end; ``readlinebuffer``, ``getattrlist`` or ``setopt`` carry no such mark. The corpus
itself says which words exist: every part of a split identifier (``line`` of
``readLine``, ``buffer`` of ``ring_buffer``) is a known word, counted by the distinct
identifiers it appears in. A compound candidate is split into the fewest known words
(ties: the more used ones), and only when each of them is used more often as a part than
the candidate itself (or a word of the same stem) is: ``setopt``, part of a few
identifiers, splits into ``set`` and ``opt``; ``buffer``, part of hundreds, never into
``buff`` and ``er``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain

#: Shortest word considered a compound, and the longest (longer runs are data, not names).
MIN_COMPOUND = 6
MAX_COMPOUND = 40
#: Shortest part, and the number of distinct identifiers a part must appear in to be a known word.
MIN_PART = 3
MIN_USES = 2


def is_candidate(word: str) -> bool:
    """Return whether ``word`` (lower case, one identifier part) may be a compound worth splitting."""
    return MIN_COMPOUND <= len(word) <= MAX_COMPOUND and word.isascii() and word.isalpha()


def learn(identifiers: Iterable[Sequence[str]], stem: Callable[[list[str]], list[str]]) -> dict[str, tuple[str, ...]]:
    """Return the compounds among the parts of ``identifiers``, and the known words each splits into.

    Each item is one distinct identifier's smallest parts, lower-cased: ``["read", "line"]``
    for ``readLine``, ``["readlinebuffer"]`` for ``readlinebuffer``. A candidate's own uses
    are counted by stem, so that an inflected word (``transferring``, of ``transfer``) is
    not taken for a compound (``transfer`` and ``ring``).
    """
    identifiers = list(identifiers)
    uses = Counter(chain.from_iterable(set(parts) for parts in identifiers if len(parts) > 1))
    seen = set(chain.from_iterable(identifiers))
    candidates = sorted(word for word in seen if is_candidate(word))
    known = {word: count for word, count in uses.items() if count >= MIN_USES and len(word) >= MIN_PART}
    if not known:  # plain words (the words tokenizer) or a tiny corpus
        return {}
    stem_uses: Counter[str] = Counter()
    for word, stemmed in zip(uses, stem(list(uses)), strict=True):
        stem_uses[stemmed] += uses[word]
    starts = {word[:MIN_PART] for word in known}
    ends = {word[-MIN_PART:] for word in known}
    candidates = [word for word in candidates if word[:MIN_PART] in starts and word[-MIN_PART:] in ends]
    found = {}
    for word, stemmed in zip(candidates, stem(candidates), strict=True):
        parts = segment(word, known)
        if parts and min(known[part] for part in parts) > stem_uses[stemmed]:
            found[word] = parts
    return found


def segment(word: str, known: Mapping[str, int]) -> tuple[str, ...] | None:
    """Return the split of ``word`` into two or more ``known`` words, fewest first, then most used; None if none."""
    size = len(word)
    # best[end]: (number of parts, minus the sum of their log uses, the parts) of the best split of word[:end]
    best: list[tuple[int, float, tuple[str, ...]] | None] = [None] * (size + 1)
    best[0] = (0, 0.0, ())
    for start in range(size - MIN_PART + 1):
        before = best[start]
        if before is None:
            continue
        for end in range(start + MIN_PART, size + 1 if start else size):
            uses = known.get(word[start:end])
            if uses is not None:
                option = (before[0] + 1, before[1] - math.log(uses), (*before[2], word[start:end]))
                after = best[end]
                if after is None or option[:2] < after[:2]:
                    best[end] = option
    found = best[size]
    return found[2] if found is not None else None
