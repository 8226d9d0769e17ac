"""Reciprocal rank fusion: a chunk scores the sum over signals of weight / (k + rank)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aurora.contract import Hit, Option, PluginDescription
from aurora.hookspecs import hookimpl


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
) -> list[Hit]:
    """Fuse ranked lists by reciprocal rank; ties are broken by chunk id."""
    fused: dict[int, float] = {}
    for name, hits in signals.items():
        weight = weights.get(name, 1.0)
        for rank, (chunk_id, _) in enumerate(hits, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (options["k"] + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
