"""Weighted score fusion: a chunk scores the weighted sum of its normalised scores.

Raw scores of different signals live on different scales (BM25 is unbounded, cosine
similarity lies in [-1, 1]), so each signal's list is first normalised per query:

* ``min-max`` maps the list onto [0, 1]: (s - min) / (max - min). A list whose scores
  are all equal (a single hit, say) gives every hit 1.0.
* ``z-score`` centres and scales the list: (s - mean) / std, with the population
  standard deviation. A list whose scores are all equal gives every hit 0.0.
* ``zero-max`` maps the list onto [0, 1] from zero: s / max. Zero is BM25's floor and,
  in practice, cosine similarity's, so a list keeps the proportions of its scores, where
  min-max stretches every list end to end: a list whose hits score close together adds
  little to their order, while every hit still gains over an absent chunk. A list
  holding scores below zero has its lowest score as the floor. A list whose scores are
  all equal gives every hit 1.0.

Signals named in ``calibrated`` already score in [0, 1] on a scale that means the same
for every query; their scores are used as they are.

A chunk missing from a signal's list gets a value no higher than any of its hits got:
0.0 under min-max and zero-max (the floor of the scale) and for calibrated signals, the
lowest z of the list under z-score. Missing means the signal found the chunk less
relevant than anything it returned, so being absent must never score better than being
ranked; with z-score, taking it as 0 (the mean) would put an absent chunk above every
hit ranked below average.

Every chunk's contributions name every signal that returned hits, the absent value
included, so that they add up to the score. A signal whose list is empty adds nothing.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from aurora.plugin import FusedHit, Hit, Option, PluginDescription, hookimpl
from aurora_fusion import ranked


def _min_max(scores: Sequence[float]) -> tuple[list[float], float]:
    """Map ``scores`` onto [0, 1] (all 1.0 when they are equal); absent chunks get 0.0."""
    return _onto_unit(scores, min(scores))


def _zero_max(scores: Sequence[float]) -> tuple[list[float], float]:
    """Map ``scores`` onto [0, 1] from min(0, lowest) to the highest (all 1.0 when equal); absent chunks get 0.0."""
    return _onto_unit(scores, min(0.0, min(scores)))


def _onto_unit(scores: Sequence[float], low: float) -> tuple[list[float], float]:
    """Map ``scores`` linearly from ``low`` (0.0) to their highest (1.0); all 1.0 when that is ``low``."""
    high = max(scores)
    if high == low:
        return [1.0] * len(scores), 0.0
    return [(score - low) / (high - low) for score in scores], 0.0


def _z_score(scores: Sequence[float]) -> tuple[list[float], float]:
    """Standardise ``scores`` (all 0.0 when they are equal); absent chunks get the lowest z."""
    if max(scores) == min(scores):  # not std == 0: the mean of equal floats may differ from them by rounding
        return [0.0] * len(scores), 0.0
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((score - mean) ** 2 for score in scores) / len(scores))
    values = [(score - mean) / std for score in scores]
    return values, min(values)


def _as_calibrated(scores: Sequence[float]) -> tuple[list[float], float]:
    """Keep calibrated ``scores`` as they are; absent chunks get 0.0."""
    return list(scores), 0.0


#: Each normalisation maps a list's raw scores to (their normalised values, the value of an absent chunk).
_NORMALIZERS = {"min-max": _min_max, "z-score": _z_score, "zero-max": _zero_max}


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the method and its option."""
    return PluginDescription(
        summary="Weighted sum of per-query normalised scores (calibrated signals as they are)",
        options={
            "normalize": Option(
                "min-max", "how each signal's scores are normalised per query", choices=tuple(_NORMALIZERS)
            )
        },
    )


@hookimpl
def aurora_fuse(
    signals: Mapping[str, Sequence[Hit]],
    weights: Mapping[str, float],
    calibrated: Collection[str],
    options: Mapping[str, Any],
) -> list[FusedHit]:
    """Fuse ranked lists by the weighted sum of their normalised scores, absent chunks scoring lowest."""
    normalize = _NORMALIZERS[options["normalize"]]
    columns: dict[str, tuple[dict[int, float], float]] = {}
    for name, hits in signals.items():
        if not hits:
            continue
        values, absent = (_as_calibrated if name in calibrated else normalize)([score for _, score in hits])
        columns[name] = (dict(zip((chunk_id for chunk_id, _ in hits), values, strict=True)), absent)
    chunk_ids = {chunk_id for values, _ in columns.values() for chunk_id in values}
    return ranked(
        {
            chunk_id: {
                name: _share(weights.get(name, 1.0), values.get(chunk_id, absent))
                for name, (values, absent) in columns.items()
            }
            for chunk_id in chunk_ids
        }
    )


def _share(weight: float, value: float) -> float:
    """Return ``weight * value``, a plain 0.0 for a zero weight (not -0.0 from a negative z)."""
    return weight * value if weight else 0.0
