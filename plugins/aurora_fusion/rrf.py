"""Reciprocal rank fusion: a chunk scores the sum over signals of weight / (k + rank).

Only ranks count (the first hit of a list has rank 1), so raw scores on different
scales need no normalising, and calibrated signals are treated like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aurora.plugin import FusedHit, Hit, Option, PluginDescription, hookimpl
from aurora_fusion import ranked


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the method and its option."""
    return PluginDescription(
        summary="Reciprocal rank fusion (Cormack et al., 2009): sum of weight / (k + rank)",
        options={
            "k": Option(60, "rank offset; larger k flattens the weight of top ranks", int, minimum=1, maximum=100_000)
        },
    )


@hookimpl
def aurora_fuse(
    signals: Mapping[str, Sequence[Hit]], weights: Mapping[str, float], options: Mapping[str, Any]
) -> list[FusedHit]:
    """Fuse ranked lists by reciprocal rank; a chunk's contributions come from the lists it is in."""
    contributions: dict[int, dict[str, float]] = {}
    for name, hits in signals.items():
        weight = weights.get(name, 1.0)
        for rank, (chunk_id, _) in enumerate(hits, start=1):
            contributions.setdefault(chunk_id, {})[name] = weight / (options["k"] + rank)
    return ranked(contributions)
