"""The first-party fusion methods (rrf, weighted), worked out by hand on small lists."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from aurora.config.validation import resolve
from aurora.errors import ConfigError
from aurora.host.contract import FusedHit
from aurora.host.registry import PluginHost
from aurora_fusion import rrf, weighted

SQRT_1_5 = math.sqrt(1.5)


def order(fused: list[FusedHit]) -> list[int]:
    return [hit.chunk_id for hit in fused]


def scores(fused: list[FusedHit]) -> dict[int, float]:
    return {hit.chunk_id: hit.score for hit in fused}


def assert_shares_add_up(fused: list[FusedHit]) -> None:
    for hit in fused:
        assert sum(hit.contributions.values()) == pytest.approx(hit.score, abs=1e-12)


def fuse_rrf(signals, weights=None, k=60) -> list[FusedHit]:
    return rrf.aurora_fuse(signals=signals, weights=weights or {}, options={"k": k})


def fuse_weighted(signals, weights=None, calibrated=(), normalize="min-max") -> list[FusedHit]:
    return weighted.aurora_fuse(
        signals=signals, weights=weights or {}, calibrated=calibrated, options={"normalize": normalize}
    )


# --- reciprocal rank fusion ---------------------------------------------------------


def test_rrf_sums_reciprocal_ranks_and_ignores_raw_scores() -> None:
    fused = fuse_rrf({"lexical": [(10, 9.0), (20, 5.0), (30, 1.0)], "semantic": [(30, 0.9), (40, 0.8)]})
    # 30: 1/63 + 1/61 = 0.03227; 10: 1/61 = 0.01639; 20 and 40: 1/62 each, tied, so by chunk id
    assert order(fused) == [30, 10, 20, 40]
    assert scores(fused) == pytest.approx({30: 1 / 63 + 1 / 61, 10: 1 / 61, 20: 1 / 62, 40: 1 / 62})
    assert fused[0].contributions == pytest.approx({"lexical": 1 / 63, "semantic": 1 / 61})
    assert fused[1].contributions == pytest.approx({"lexical": 1 / 61})  # only the lists a chunk is in
    assert_shares_add_up(fused)


def test_rrf_ties_are_broken_by_chunk_id() -> None:
    # 9: 1/2 + 1/3 and 4: 1/3 + 1/2 with k = 1: equal, so the smaller id first
    fused = fuse_rrf({"lexical": [(9, 1.0), (4, 0.5)], "semantic": [(4, 0.7), (9, 0.1)]}, k=1)
    assert order(fused) == [4, 9]
    assert fused[0].score == fused[1].score == pytest.approx(5 / 6)


def test_rrf_weights_and_k() -> None:
    signals = {"lexical": [(1, 3.0), (2, 2.0)], "semantic": [(2, 0.9), (1, 0.8)]}
    fused = fuse_rrf(signals, weights={"lexical": 3.0}, k=1)  # semantic's weight is missing: 1.0
    # 1: 3/(1+1) + 1/(1+2) = 11/6; 2: 3/(1+2) + 1/(1+1) = 3/2
    assert order(fused) == [1, 2]
    assert scores(fused) == pytest.approx({1: 11 / 6, 2: 3 / 2})
    assert fused[0].contributions == pytest.approx({"lexical": 3 / 2, "semantic": 1 / 3})
    # a large k flattens the ranks: 3/100001 + 1/100002 against 3/100002 + 1/100001, 1 still first
    assert order(fuse_rrf(signals, weights={"lexical": 3.0}, k=100_000)) == [1, 2]
    # with the weights swapped, 2 wins: 1: 1/2 + 3/3 = 3/2; 2: 1/3 + 3/2 = 11/6
    assert order(fuse_rrf(signals, weights={"semantic": 3.0}, k=1)) == [2, 1]


def test_rrf_zero_weight_contributes_nothing() -> None:
    fused = fuse_rrf({"lexical": [(1, 2.0)], "semantic": [(2, 0.9), (1, 0.5)]}, weights={"semantic": 0.0})
    # 1: 1/61 + 0; 2 is only in the zero-weight list: score 0, last
    assert order(fused) == [1, 2]
    assert fused[0].contributions == pytest.approx({"lexical": 1 / 61, "semantic": 0.0})
    assert fused[1] == FusedHit(2, 0.0, {"semantic": 0.0})


def test_rrf_of_nothing_is_empty() -> None:
    assert fuse_rrf({}) == []
    assert fuse_rrf({"lexical": [], "semantic": []}) == []


# --- weighted sum of normalised scores ----------------------------------------------


def test_weighted_min_max_with_absent_chunks_scoring_zero() -> None:
    fused = fuse_weighted({"lexical": [(1, 10.0), (2, 6.0), (3, 2.0)], "semantic": [(2, 0.9), (4, 0.5)]})
    # lexical over [2, 10]: 1 -> 1.0, 2 -> 0.5, 3 -> 0.0; semantic over [0.5, 0.9]: 2 -> 1.0, 4 -> 0.0
    # absent chunks get 0.0. 2: 0.5 + 1.0 = 1.5; 1: 1.0 + 0 = 1.0; 3 and 4: 0, tied, by chunk id
    assert order(fused) == [2, 1, 3, 4]
    assert scores(fused) == pytest.approx({2: 1.5, 1: 1.0, 3: 0.0, 4: 0.0})
    by_id = {hit.chunk_id: hit.contributions for hit in fused}
    assert by_id[1] == pytest.approx({"lexical": 1.0, "semantic": 0.0})  # absent from semantic: its value is there
    assert by_id[4] == pytest.approx({"lexical": 0.0, "semantic": 0.0})
    assert_shares_add_up(fused)


def test_weighted_min_max_applies_weights() -> None:
    signals = {"lexical": [(1, 10.0), (2, 6.0), (3, 2.0)], "semantic": [(2, 0.9), (4, 0.5)]}
    fused = fuse_weighted(signals, weights={"lexical": 4.0, "semantic": 0.5})
    # 1: 4 * 1.0 = 4.0; 2: 4 * 0.5 + 0.5 * 1.0 = 2.5; 3 and 4: 0
    assert order(fused) == [1, 2, 3, 4]
    assert scores(fused) == pytest.approx({1: 4.0, 2: 2.5, 3: 0.0, 4: 0.0})
    assert fused[1].contributions == pytest.approx({"lexical": 2.0, "semantic": 0.5})


def test_weighted_zero_max_keeps_the_shape_of_a_flat_list() -> None:
    # lexical 10, 6, 2 -> 1.0, 0.6, 0.2 (min-max: 1.0, 0.5, 0.0); semantic 0.5, 0.45, 0.4 -> 1.0, 0.9, 0.8:
    # a list whose hits score alike does not have their differences stretched over the whole range
    signals = {"lexical": [(1, 10.0), (2, 6.0), (3, 2.0)], "semantic": [(3, 0.5), (2, 0.45), (4, 0.4)]}
    fused = fuse_weighted(signals, normalize="zero-max")
    # 2: 0.6 + 0.9 = 1.5; 3: 0.2 + 1.0 = 1.2; 1: 1.0 + 0 = 1.0; 4: 0 + 0.8 = 0.8
    assert order(fused) == [2, 3, 1, 4]
    assert scores(fused) == pytest.approx({2: 1.5, 3: 1.2, 1: 1.0, 4: 0.8})
    assert fused[3].contributions == pytest.approx({"lexical": 0.0, "semantic": 0.8})
    assert_shares_add_up(fused)
    # min-max on the same lists: 1, 2 and 3 tie, 4 (last of semantic's three) gets nothing
    assert scores(fuse_weighted(signals)) == pytest.approx({1: 1.0, 2: 1.0, 3: 1.0, 4: 0.0})


def test_weighted_zero_max_floors_a_list_below_zero_at_its_lowest() -> None:
    # semantic 0.6, 0.2, -0.2: the floor is -0.2, so 1.0, 0.5, 0.0: no hit below an absent chunk (0.0)
    fused = fuse_weighted({"semantic": [(1, 0.6), (2, 0.2), (3, -0.2)], "lexical": [(4, 3.0)]}, normalize="zero-max")
    assert scores(fused) == pytest.approx({1: 1.0, 4: 1.0, 2: 0.5, 3: 0.0})
    # equal scores, zeros included: every hit 1.0, as under min-max
    fused = fuse_weighted({"lexical": [(1, 0.0), (2, 0.0)], "semantic": [(3, 0.3), (1, 0.3)]}, normalize="zero-max")
    assert scores(fused) == pytest.approx({1: 2.0, 2: 1.0, 3: 1.0})


def test_weighted_z_score_gives_absent_chunks_the_lowest_z() -> None:
    fused = fuse_weighted(
        {"lexical": [(1, 3.0), (2, 2.0), (3, 1.0)], "semantic": [(3, 4.0), (4, 0.0)]}, normalize="z-score"
    )
    # lexical: mean 2, population std sqrt(2/3): 1 -> +sqrt(1.5), 2 -> 0, 3 -> -sqrt(1.5); absent -sqrt(1.5)
    # semantic: mean 2, std 2: 3 -> +1, 4 -> -1; absent -1
    # 1: sqrt(1.5) - 1 = 0.22; 3: -sqrt(1.5) + 1 = -0.22; 2: 0 - 1 = -1; 4: -sqrt(1.5) - 1 = -2.22
    assert order(fused) == [1, 3, 2, 4]
    assert scores(fused) == pytest.approx({1: SQRT_1_5 - 1, 3: 1 - SQRT_1_5, 2: -1.0, 4: -SQRT_1_5 - 1})
    by_id = {hit.chunk_id: hit.contributions for hit in fused}
    assert by_id[4] == pytest.approx({"lexical": -SQRT_1_5, "semantic": -1.0})
    # absent from semantic, 2 gets what semantic's last hit (4) got, not the mean 0 that would lift it above 3
    assert by_id[2]["semantic"] == by_id[4]["semantic"]
    assert_shares_add_up(fused)


def test_single_hit_lists() -> None:
    signals = {"lexical": [(5, 3.7)], "semantic": [(6, 0.2), (5, 0.1)]}
    # min-max: the lone lexical hit gets 1.0, 6 (absent there) 0.0; semantic: 6 -> 1.0, 5 -> 0.0
    # 5: 1.0 + 0.0 = 1.0; 6: 0.0 + 1.0 = 1.0, tied, by chunk id
    fused = fuse_weighted(signals, weights={"lexical": 2.0})
    assert scores(fused) == pytest.approx({5: 2.0, 6: 1.0})
    assert fused[0].contributions == pytest.approx({"lexical": 2.0, "semantic": 0.0})
    # z-score: a lone hit is the mean, 0.0, and so is the absent value: the list decides nothing
    # semantic: mean 0.15, std 0.05: 6 -> +1, 5 -> -1
    fused = fuse_weighted(signals, weights={"lexical": 2.0}, normalize="z-score")
    assert order(fused) == [6, 5]
    assert scores(fused) == pytest.approx({6: 1.0, 5: -1.0})
    assert fused[1].contributions == pytest.approx({"lexical": 0.0, "semantic": -1.0})


def test_equal_scores() -> None:
    signals = {"lexical": [(1, 0.1), (2, 0.1), (3, 0.1)], "semantic": [(4, 0.3), (1, 0.2)]}
    # min-max: equal lexical scores all get 1.0, 4 (absent) 0.0; semantic: 4 -> 1.0, 1 -> 0.0, 2 and 3 absent 0.0
    # with semantic weighted 0.5: 1, 2, 3: 1 + 0 = 1 (tied, by chunk id); 4: 0 + 0.5 = 0.5
    fused = fuse_weighted(signals, weights={"semantic": 0.5})
    assert order(fused) == [1, 2, 3, 4]
    assert scores(fused) == pytest.approx({1: 1.0, 2: 1.0, 3: 1.0, 4: 0.5})
    # z-score: equal lexical scores all get exactly 0.0 (the float mean of three 0.1s is not 0.1, so a
    # std == 0 test would not catch it), absent (4) 0.0 too; semantic: mean 0.25, std 0.05: 4 -> +1, 1 -> -1,
    # 2 and 3 absent -> -1. 4: 0 + 1 = 1; 1, 2, 3: 0 - 1 = -1, tied, by chunk id
    fused = fuse_weighted(signals, normalize="z-score")
    assert order(fused) == [4, 1, 2, 3]
    assert [hit.contributions["lexical"] for hit in fused] == [0.0, 0.0, 0.0, 0.0]
    assert scores(fused) == pytest.approx({4: 1.0, 1: -1.0, 2: -1.0, 3: -1.0})


def test_zero_weight_contributes_a_plain_zero() -> None:
    fused = fuse_weighted(
        {"lexical": [(1, 3.0), (2, 1.0)], "semantic": [(2, 5.0), (1, 1.0), (3, 0.0)]},
        weights={"semantic": 0},
        normalize="z-score",
    )
    # lexical: mean 2, std 1: 1 -> +1, 2 -> -1, absent (3) -> -1; semantic adds 0 whatever its z
    assert order(fused) == [1, 2, 3]
    assert scores(fused) == pytest.approx({1: 1.0, 2: -1.0, 3: -1.0})
    for hit in fused:
        assert hit.contributions["semantic"] == 0.0
        assert math.copysign(1.0, hit.contributions["semantic"]) == 1.0  # not -0.0 from a negative z


@pytest.mark.parametrize("normalize", ["min-max", "z-score"])
def test_calibrated_signal_is_used_as_it_is(normalize: str) -> None:
    signals = {"lexical": [(1, 5.0), (2, 1.0)], "activation": [(7, 0.8), (1, 0.3)]}
    fused = fuse_weighted(signals, calibrated={"activation"}, normalize=normalize)
    # activation as is: 7 -> 0.8, 1 -> 0.3, absent (2) -> 0.0
    by_id = {hit.chunk_id: hit.contributions for hit in fused}
    assert by_id[7]["activation"] == pytest.approx(0.8)
    assert by_id[1]["activation"] == pytest.approx(0.3)
    assert by_id[2]["activation"] == 0.0
    if normalize == "min-max":
        # lexical: 1 -> 1.0, 2 -> 0.0, absent (7) -> 0.0. 1: 1.3; 7: 0.8; 2: 0.0
        assert order(fused) == [1, 7, 2]
        assert scores(fused) == pytest.approx({1: 1.3, 7: 0.8, 2: 0.0})
    else:
        # lexical: mean 3, std 2: 1 -> +1, 2 -> -1, absent (7) -> -1. 1: 1.3; 7: -0.2; 2: -1.0
        assert order(fused) == [1, 7, 2]
        assert scores(fused) == pytest.approx({1: 1.3, 7: -0.2, 2: -1.0})
    assert_shares_add_up(fused)
    # not calibrated, activation would be normalised too: under min-max 7 -> 1.0 and 1 -> 0.0
    if normalize == "min-max":
        assert scores(fuse_weighted(signals)) == pytest.approx({1: 1.0, 7: 1.0, 2: 0.0})


def test_weighted_of_nothing_is_empty() -> None:
    assert fuse_weighted({}) == []
    assert fuse_weighted({"lexical": [], "semantic": []}, normalize="z-score") == []


def test_an_empty_list_adds_nothing() -> None:
    fused = fuse_weighted({"lexical": [(1, 2.0), (2, 1.0)], "semantic": []}, calibrated={"semantic"})
    assert fused == [FusedHit(1, 1.0, {"lexical": 1.0}), FusedHit(2, 0.0, {"lexical": 0.0})]


# --- through the plugin host ---------------------------------------------------------


def test_host_loads_both_methods_by_entry_point_and_calls_them() -> None:
    host = PluginHost()
    signals = {"lexical": [(1, 3.0), (2, 1.0)], "activation": [(2, 0.9)]}
    arguments = {"signals": signals, "weights": {"lexical": 2.0}, "calibrated": {"activation"}}

    plugin = host.load("fusion", "weighted")
    declared = host.require(plugin, "aurora_describe").options
    options = resolve("pipelines.default.fusion", declared, {})
    assert options == {"normalize": "min-max"}
    # lexical: 1 -> 1.0, 2 -> 0.0; activation as is: 2 -> 0.9, absent (1) -> 0.0. 1: 2.0; 2: 0.9
    fused = host.require(plugin, "aurora_fuse", **arguments, options=options)
    assert fused == [
        FusedHit(1, 2.0, {"lexical": 2.0, "activation": 0.0}),
        FusedHit(2, 0.9, pytest.approx({"lexical": 0.0, "activation": 0.9})),
    ]

    plugin = host.load("fusion", "rrf")
    options = resolve("pipelines.default.fusion", host.require(plugin, "aurora_describe").options, {})
    # 1: 2/61; 2: 2/62 + 1/61
    fused = host.require(plugin, "aurora_fuse", **arguments, options=options)
    assert order(fused) == [2, 1]
    assert scores(fused) == pytest.approx({2: 2 / 62 + 1 / 61, 1: 2 / 61})


def test_invalid_normalize_option_is_refused() -> None:
    host = PluginHost()
    declared = host.require(host.load("fusion", "weighted"), "aurora_describe").options
    with pytest.raises(ConfigError) as refused:
        resolve("pipelines.default.fusion", declared, {"normalize": ("bogus", "aurora.toml")})
    assert str(refused.value) == (
        'aurora.toml: pipelines.default.fusion.normalize = "bogus": not an allowed value; '
        'allowed: "min-max", "z-score", "zero-max"'
    )
    assert resolve("pipelines.default.fusion", declared, {"normalize": ("z-score", "aurora.toml")}) == {
        "normalize": "z-score"
    }


def test_plugins_list_shows_both_fusion_methods(tmp_path: Path, cli) -> None:
    listed = cli.json("plugins", "list", cwd=tmp_path)
    fusion = {entry["name"]: entry for entry in listed if entry["role"] == "fusion"}
    assert set(fusion) == {"rrf", "weighted"}
    assert fusion["weighted"]["module"] == "aurora_fusion.weighted"
    assert fusion["rrf"]["distribution"] == fusion["weighted"]["distribution"] == "aurora-search"
