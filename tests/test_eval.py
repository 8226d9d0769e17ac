"""`aurora eval`: trec_eval measures on a BEIR folder, checked against values worked out by hand."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from conftest import write

SCIFACT = Path(os.environ.get("AURORA_BEIR_DIR", Path(__file__).resolve().parents[2] / "shared" / "data")) / "scifact"


def test_scores_match_trec_eval_definitions(tiny_beir: Path, tmp_path: Path, cli) -> None:
    report = cli.json("eval", str(tiny_beir), cwd=tmp_path)
    # q1: d2 first -> 1.  q2: nothing relevant retrieved -> 0 (counted, like trec_eval -c).
    # q3: ranking d3 (gain 2), d1 (0), d2 (1); trec_eval's nDCG uses linear gains and log2(rank + 1).
    q3 = (2 / math.log2(2) + 1 / math.log2(4)) / (2 / math.log2(2) + 1 / math.log2(3))
    assert report["queries"] == 3 and report["documents"] == 4
    assert report["ndcg_at_10"] == pytest.approx((1 + 0 + q3) / 3, abs=1e-4)
    assert report["recall_at_100"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["mode"] == "lexical" and report["latency_p50_ms"] > 0


def test_human_report(tiny_beir: Path, tmp_path: Path, cli) -> None:
    done = cli("eval", str(tiny_beir), cwd=tmp_path)
    assert done.returncode == 0
    assert "nDCG@10      0.6501" in done.stdout and "Recall@100   0.6667" in done.stdout


def test_store_can_be_kept_and_reused(tiny_beir: Path, tmp_path: Path, cli) -> None:
    store = tmp_path / "kept"
    write(store, {"notes.txt": "the user's own file"})
    first = cli.json("eval", str(tiny_beir), "--store", str(store), cwd=tmp_path)
    again = cli.json("eval", str(tiny_beir), "--store", str(store), cwd=tmp_path)
    assert sorted(p.name for p in store.iterdir()) == [".aurora", "notes.txt"]
    assert first["ndcg_at_10"] == again["ndcg_at_10"]


def test_not_a_beir_folder(tmp_path: Path, cli) -> None:
    done = cli("eval", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "not a BEIR dataset folder: corpus.jsonl is missing" in done.stderr


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"qrels/test.tsv": "query-id\tcorpus-id\tscore\n"}, "has no relevance judgements"),
        ({"qrels/test.tsv": "q9\td1\t1\n"}, "none of the 1 queries judged in split 'test' is in queries.jsonl"),
        ({"qrels/test.tsv": "q1\td1\tgood\n" * 2}, "test.tsv:2: expected query-id, corpus-id and an integer score"),
        ({"corpus.jsonl": '{"title": "no id"}\n'}, "corpus.jsonl:1: expected an object with an _id"),
        ({"queries.jsonl": "[1, 2]\n"}, "queries.jsonl:1: expected an object with an _id"),
    ],
)
def test_malformed_dataset_files(tiny_beir: Path, tmp_path: Path, cli, files: dict, message: str) -> None:
    write(tiny_beir, files)
    done = cli("eval", str(tiny_beir), cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_float_grades_and_blank_queries_are_accepted(tiny_beir: Path, tmp_path: Path, cli) -> None:
    queries = (tiny_beir / "queries.jsonl").read_text().replace('"banana"', '"  "')
    write(tiny_beir, {"queries.jsonl": queries, "qrels/test.tsv": "q1\td2\t1.0\nq2\td3\t1\n"})
    report = cli.json("eval", str(tiny_beir), cwd=tmp_path)
    assert report["queries"] == 2 and report["ndcg_at_10"] == pytest.approx(0.5)


def test_unknown_split_lists_the_available_ones(tiny_beir: Path, tmp_path: Path, cli) -> None:
    done = cli("eval", str(tiny_beir), "--split", "dev", cwd=tmp_path)
    assert done.returncode == 2 and "no 'dev' split; available: test" in done.stderr


@pytest.mark.skipif(not SCIFACT.is_dir(), reason="SciFact data not present (set AURORA_BEIR_DIR)")
def test_default_lexical_pipeline_reaches_the_bm25s_reference_on_scifact(tmp_path: Path, cli) -> None:
    report = cli.json("eval", str(SCIFACT), cwd=tmp_path)
    assert report["queries"] == 300
    assert report["ndcg_at_10"] >= 0.679
