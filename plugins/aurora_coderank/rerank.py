"""Reorder fused candidates with the code signals (:mod:`aurora_coderank.signals`).

A candidate's new score is its fused score plus its size times ``sum(weight * share * signal)``
(it never loses more than 95% of its size), so the reranker keeps the fused scale whatever the
mode; then every further chunk of a file already ranked higher gives up ``repeat`` of
its score, so that the first page shows more files. Each term is reported, in score
units, as an adjustment (``aurora search --explain``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aurora.plugin import Candidate, Reranked, read_query
from aurora_coderank import signals

#: The least a candidate keeps of its fused score's size, whatever its penalties.
FLOOR = 0.05
#: Signals that lower a score (their weight is a penalty).
PENALTIES = frozenset({"brevity", "prose", "tests"})


def rerank(
    query: str, candidates: Sequence[Candidate], options: Mapping[str, Any], stem: Callable[[list[str]], list[str]]
) -> list[Reranked]:
    """Return ``candidates`` rescored and reordered, best first, with each signal's adjustment."""
    if not candidates:
        return []
    reading = read_query(query)
    weights = {name: options[name] * shares[reading.kind] for name, shares in signals.SHARES.items()}
    if reading.about_tests:
        weights["tests"] = 0.0
    matcher = signals.PathMatcher(signals.query_stems(reading, stem), (c.path for c in candidates))
    by_path = {path: (matcher.score(path), float(signals.is_test_path(path))) for path in {c.path for c in candidates}}
    support = signals.coherence(candidates)
    scored = []
    for candidate in candidates:
        path_match, test_file = by_path[candidate.path]
        values = (
            ("definition", signals.definition(reading, candidate)),
            ("path", path_match),
            ("tests", test_file),
            ("coherence", support.get(candidate.chunk_id, 0.0)),
            ("brevity", signals.brevity(candidate)),
            ("prose", signals.prose(candidate)),
        )
        terms = {name: weights[name] * value * (-1 if name in PENALTIES else 1) for name, value in values}
        terms = {name: term for name, term in terms.items() if term}
        size = abs(candidate.score)  # a negative fused score (z-scores) rises with a boost too
        change = max(sum(terms.values()), FLOOR - 1.0)
        adjustments = {name: size * term for name, term in terms.items()}
        scored.append(Reranked(candidate.chunk_id, candidate.score + size * change, adjustments))
    return _spread(scored, {c.chunk_id: c.path for c in candidates}, options["repeat"])


def _spread(scored: list[Reranked], paths: Mapping[int, str], repeat: float) -> list[Reranked]:
    """Lower every chunk after a file's best by ``repeat`` of its score, then sort, ties by chunk id."""
    scored.sort(key=lambda item: (-item.score, item.chunk_id))
    seen: set[str] = set()
    spread = []
    for item in scored:
        path = paths[item.chunk_id]
        if path in seen and repeat:
            cut = abs(item.score) * repeat
            item = Reranked(item.chunk_id, item.score - cut, {**item.adjustments, "repeat": -cut})
        seen.add(path)
        spread.append(item)
    spread.sort(key=lambda item: (-item.score, item.chunk_id))
    return spread
