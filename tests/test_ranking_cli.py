"""Fusion methods, per-signal weights, --explain and ACT-R activation through the real CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import AURORA, paths, write
from test_errors import assert_one_line_error

FASTEMBED = ("--backend", "fastembed")


@pytest.mark.parametrize("fusion", [None, "rrf"])
def test_explain_shows_each_signals_score_rank_and_contribution(semantic_project: Path, cli, fusion) -> None:
    cli.json("index", *FASTEMBED, cwd=semantic_project)
    if fusion:
        write(semantic_project, {"aurora.toml": f'[pipelines.default]\nfusion = "{fusion}"\n'})
    document = cli.json("search", "slurp location handle", *FASTEMBED, "--explain", "--wait", cwd=semantic_project)
    best = document["results"][0]
    explain = best["explain"]
    assert set(explain) == {"lexical", "semantic"}
    for name, signal in explain.items():
        assert signal["score"] == best["scores"][name] and signal["rank"] >= 1
    fused = sum(signal["contribution"] for signal in explain.values())
    assert fused == pytest.approx(best["scores"]["fused"], abs=1e-5)
    assert fused + sum(best.get("rerank", {}).values()) == pytest.approx(best["score"], abs=1e-5)
    if fusion == "rrf":
        assert explain["lexical"]["contribution"] == pytest.approx(1 / (60 + explain["lexical"]["rank"]), abs=1e-6)
    else:  # the default, weighted min-max: the best of each list adds its whole weight (1.0)
        lexical_best = min(document["results"], key=lambda r: r["explain"]["lexical"]["rank"] or 10**9)
        assert lexical_best["explain"]["lexical"]["contribution"] == pytest.approx(1.0)
    text = cli("search", "slurp location handle", *FASTEMBED, "--explain", "--wait", cwd=semantic_project).stdout
    assert f"lexical {explain['lexical']['score']:.4g} #{explain['lexical']['rank']}" in text


def weighted_pipeline(root: Path, normalize: str, lexical: float, semantic: float) -> None:
    write(
        root,
        {
            "aurora.toml": f"""
                [pipelines.default]
                embedder = "fastembed"
                reranker = "none"  # these tests check fusion's arithmetic alone
                [pipelines.default.fusion]
                plugin = "weighted"
                normalize = "{normalize}"
                [pipelines.default.weights]
                lexical = {lexical}
                semantic = {semantic}
                """
        },
    )


@pytest.mark.parametrize("normalize", ["min-max", "z-score"])
def test_weighted_fusion_uses_the_pipelines_method_and_weights(semantic_project: Path, cli, normalize: str) -> None:
    cli.json("index", *FASTEMBED, cwd=semantic_project)
    weighted_pipeline(semantic_project, normalize, lexical=0.5, semantic=2.0)
    document = cli.json("search", "slurp location handle", "--explain", "--wait", "-n", "20", cwd=semantic_project)
    assert document["mode"] == "hybrid"
    results = document["results"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    for result in results:
        shares = {name: signal["contribution"] for name, signal in result["explain"].items()}
        assert sum(shares.values()) == pytest.approx(result["score"], abs=1e-5)
    if normalize == "min-max":  # each list maps onto [0, 1], so a signal adds at most its weight
        assert max(r["explain"]["lexical"]["contribution"] for r in results) == pytest.approx(0.5)
        assert max(r["explain"]["semantic"]["contribution"] for r in results) == pytest.approx(2.0)
    else:  # z-scores: a chunk missing from a list gets that list's lowest z, never more than a ranked one
        lexical = [r["explain"]["lexical"] for r in results]
        ranked = [signal["contribution"] for signal in lexical if signal["rank"] is not None]
        unranked = [signal["contribution"] for signal in lexical if signal["rank"] is None]
        assert unranked and all(u <= min(ranked) + 1e-9 for u in unranked)


def test_a_signal_weighted_zero_is_left_out(semantic_project: Path, cli) -> None:
    cli.json("index", *FASTEMBED, cwd=semantic_project)
    weighted_pipeline(semantic_project, "min-max", lexical=0.0, semantic=2.0)
    document = cli.json("search", "slurp location handle", "--explain", "--wait", "-n", "20", cwd=semantic_project)
    for result in document["results"]:
        assert result["explain"]["lexical"]["contribution"] == 0.0
        assert result["score"] == result["scores"]["semantic"] and "fused" not in result["scores"]
    assert paths(document) == [r["path"] for r in sorted(document["results"], key=lambda r: -r["scores"]["semantic"])]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("lexical = -1.0", "pipelines.default.weights.lexical = -1.0: too small; allowed: a number from 0 to 100"),
        ("semantic = 1e9", "pipelines.default.weights.semantic = 1000000000.0: too large"),
        ("activation = nan", "pipelines.default.weights.activation = nan: not a finite number"),
        (
            "lexcal = 1.0",
            "unknown key pipelines.default.weights.lexcal; allowed in weights: lexical, semantic, activation",
        ),
    ],
)
def test_bad_weights_are_refused(indexed: Path, cli, weights: str, message: str) -> None:
    write(indexed, {"aurora.toml": f"[pipelines.default.weights]\n{weights}\n"})
    assert_one_line_error(cli("search", "parse", cwd=indexed), message)


def test_unknown_fusion_method_lists_the_installed_ones(semantic_project: Path, cli) -> None:
    cli.json("index", *FASTEMBED, cwd=semantic_project)
    write(semantic_project, {"aurora.toml": '[pipelines.default]\nembedder = "fastembed"\nfusion = "borda"\n'})
    done = cli("search", "load text from disk", "--wait", cwd=semantic_project)
    assert_one_line_error(done, "unknown fusion plugin 'borda'; available: rrf, weighted")


def history(root: Path) -> sqlite3.Connection:
    return sqlite3.connect(root / ".aurora" / "activation.db")


#: Notes on a release: three that a search records (record_top 3 here), then two that match equally: only
#: activation can order those two.
RELEASE_NOTES = {
    "notes/plan.txt": "release plan: tag the release, build the release, announce the release\n",
    "notes/risks.txt": "what could delay the release: a late release branch\n",
    "notes/standup.txt": "standup: the release is on track\n",
    "notes/monday.txt": "monday: lunch with the team, then review the release\n",
    "notes/friday.txt": "friday: lunch with the team, then review the release\n",
}


def test_searching_and_feedback_raise_what_is_used(project: Path, cli) -> None:
    write(project, {**RELEASE_NOTES, "aurora.toml": "[activation]\nrecord_top = 3\n"})  # shown results count
    cli.json("index", cwd=project)
    query = "release"
    before = cli.json("search", query, "-n", "20", cwd=project)
    results = before["results"]
    assert sorted(paths(before)[3:]) == ["notes/friday.txt", "notes/monday.txt"]
    assert results[3]["score"] == results[4]["score"], "the last two results must tie, below the top 3 recorded"
    last = results[-1]
    target = f"{last['path']}:{last['line_start']}-{last['line_end']}"
    marked = cli.json("feedback", target, cwd=project)
    assert [m["path"] for m in marked] == [last["path"]] and marked[0]["probability"] > 0.5
    after = cli.json("search", query, "-n", "20", "--explain", cwd=project)
    ranks = {(r["path"], r["line_start"]): i for i, r in enumerate(after["results"])}
    assert ranks[(last["path"], last["line_start"])] < len(before["results"]) - 1  # it rose
    moved = after["results"][ranks[(last["path"], last["line_start"])]]
    assert moved["explain"]["activation"]["contribution"] > 0
    stats = cli.json("stats", cwd=project)
    assert stats["accesses"] == 3 + 1 + 3  # top 3 of each search, and the feedback (one access of weight 5)
    assert stats["most_active"][0]["probability"] > 0.5


def test_stats_reports_size_models_and_activity(semantic_project: Path, cli) -> None:
    cli.json("index", *FASTEMBED, cwd=semantic_project)
    write(semantic_project, {"aurora.toml": "[activation]\nrecord_top = 3\n"})  # the search records its top 3
    cli.json("search", "load text from disk", *FASTEMBED, "--wait", cwd=semantic_project)
    stats = cli.json("stats", cwd=semantic_project)
    assert stats["files"] == 5 and stats["chunks"] > 0
    assert stats["models"][0]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert stats["models"][0]["dimension"] == 384
    sizes = stats["size_bytes"]
    assert sizes["vectors"] > 0 and sizes["total"] == sum(v for k, v in sizes.items() if k != "total")
    assert len(stats["most_active"]) == 3
    text = cli("stats", cwd=semantic_project).stdout
    assert "sentence-transformers/all-MiniLM-L6-v2, 384 dimensions" in text


def test_feedback_on_something_not_indexed_is_refused(indexed: Path, cli) -> None:
    assert_one_line_error(cli("feedback", "nowhere.py:3", cwd=indexed), "nothing indexed at nowhere.py line 3")
    assert_one_line_error(cli("feedback", "/elsewhere/x.py", cwd=indexed), "outside the indexed folder")


def test_a_corrupt_access_history_is_rebuilt_with_a_warning(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": "[activation]\nrecord_top = 3\n"})  # searches record their top 3
    cli.json("search", "token", cwd=indexed)
    (indexed / ".aurora" / "activation.db").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (indexed / ".aurora" / f"activation.db{suffix}").unlink(missing_ok=True)
    done = cli("search", "token", cwd=indexed)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "aurora: warning: the access history" in done.stderr and "started a new one" in done.stderr
    assert cli.json("stats", cwd=indexed)["accesses"] == 3  # the search after the rebuild was recorded
    assert "warning" not in cli("search", "token", cwd=indexed).stderr  # said once


def test_a_damaged_access_history_table_is_rebuilt_with_a_warning(indexed: Path, cli) -> None:
    cli.json("search", "token", cwd=indexed)
    with history(indexed) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            db.execute(f"DROP TABLE {table}")
    done = cli("search", "token", cwd=indexed)
    assert done.returncode == 0 and "started a new one" in done.stderr


def test_concurrent_searches_lose_no_access(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": "[activation]\nrecord_top = 3\n"})  # each search records its top 3
    searches = [
        subprocess.Popen(
            [AURORA, "search", "token", "--json"], cwd=indexed, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(8)
    ]
    outputs = [search.communicate(timeout=120) for search in searches]
    for search, (stdout, stderr) in zip(searches, outputs, strict=True):
        assert search.returncode == 0, stderr
        assert b"locked" not in stderr and b"Traceback" not in stderr
        assert json.loads(stdout)["results"]
    assert cli.json("stats", cwd=indexed)["accesses"] == 8 * 3  # each search records its top 3


def test_activation_settings_are_validated(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": "[activation]\ndecay = 1.5\n"})
    assert_one_line_error(cli("search", "token", cwd=indexed), "activation.decay = 1.5: too large")
    write(indexed, {"aurora.toml": "[activation]\nrecord_top = 2\n"})
    cli.json("search", "token", cwd=indexed)
    assert cli.json("stats", cwd=indexed)["accesses"] == 2


def test_a_fusion_plugin_of_the_old_contract_gets_a_clear_error(semantic_project: Path, cli, tmp_path: Path) -> None:
    cli.json("index", *FASTEMBED, cwd=semantic_project)
    site = tmp_path / "site"
    write(
        site,
        {
            "old_fusion.py": (
                "from aurora.host.hookspecs import hookimpl\n\n"
                "@hookimpl\ndef aurora_fuse(signals, weights, options):\n"
                "    return sorted({c: s for hits in signals.values() for c, s in hits}.items(), key=lambda h: -h[1])\n"
            ),
            "aurora_old_fusion-1.0.dist-info/METADATA": (
                "Metadata-Version: 2.1\nName: aurora-old-fusion\nVersion: 1.0\n"
            ),
            "aurora_old_fusion-1.0.dist-info/entry_points.txt": "[aurora.fusion]\nold = old_fusion\n",
        },
    )
    write(semantic_project, {"aurora.toml": '[pipelines.default]\nembedder = "fastembed"\nfusion = "old"\n'})
    done = cli("search", "slurp location handle", "--wait", cwd=semantic_project, env={"PYTHONPATH": str(site)})
    assert_one_line_error(done, "fusion plugin 'old' returned tuple items, not FusedHit", "upgrade it")
