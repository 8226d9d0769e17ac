"""What the evaluators share: a binary-gain nDCG, the request, the latency summary, the check that an answer counts."""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Sequence

from aurora.errors import AuroraError
from aurora.search.options import MAX_WAIT_S, SearchRequest
from aurora.search.results import SearchResponse


def ndcg(found_at: Collection[int], targets: int, k: int = 10) -> float:
    """Return nDCG@k with gain 1 per target; 0 when there are no targets.

    DCG sums ``1 / log2(rank + 1)`` over the distinct ranks (1-based, at most ``k``) at which
    a target was found; the ideal DCG is that of ``min(k, targets)`` targets at ranks 1, 2, ...
    """
    dcg = sum(1 / math.log2(rank + 1) for rank in set(found_at) if rank <= k)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(k, targets) + 1))
    return dcg / ideal if ideal else 0.0


def latency_percentiles(latencies_ms: Sequence[float]) -> tuple[float, float]:
    """Return the median and the 95th percentile of ``latencies_ms`` (not empty)."""
    p95 = statistics.quantiles(latencies_ms, n=20)[-1] if len(latencies_ms) > 1 else latencies_ms[0]
    return statistics.median(latencies_ms), p95


def eval_request(limit: int, mode: str | None) -> SearchRequest:
    """Return the request an evaluation runs every query with: ``limit`` results, waiting for the model, unrecorded."""
    return SearchRequest(limit=limit, mode=mode, snippet_lines=0, wait=True, wait_timeout=MAX_WAIT_S, record=False)


def check_scorable(response: SearchResponse, mode: str) -> None:
    """Refuse a response that fell back from ``mode`` for want of its model: an evaluation never scores a fallback."""
    if response.model is not None and response.model["state"] != "ready":
        raise AuroraError(f"cannot evaluate {mode} search: {response.warnings[-1]}")
