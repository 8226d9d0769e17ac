"""Aurora's first-party fusion methods, one entry point each in the ``aurora.fusion`` group.

``rrf`` (:mod:`aurora_fusion.rrf`) fuses by rank alone; ``weighted``
(:mod:`aurora_fusion.weighted`) adds up the signals' normalised scores.
"""

from __future__ import annotations

from collections.abc import Mapping

from aurora.plugin import FusedHit


def ranked(contributions: Mapping[int, dict[str, float]]) -> list[FusedHit]:
    """Turn each chunk's per-signal shares into fused hits, best first, ties broken by chunk id.

    A chunk's score is the sum of its shares, so the two always agree.
    """
    fused = [FusedHit(chunk_id, sum(shares.values()), shares) for chunk_id, shares in contributions.items()]
    fused.sort(key=lambda hit: (-hit.score, hit.chunk_id))
    return fused
