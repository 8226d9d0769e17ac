"""Codesearch-format evaluation: nDCG@10 in both protocols, checked against values worked out by hand.

The tiny set below has two repositories with one-window files (``[index]`` makes every
file a run of 10-line windows, so the chunks are known) and nonsense words whose BM25
order is fixed by how often each file repeats them at equal lengths.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write

import aurora
from aurora.cli.progress import Progress
from aurora.errors import EXIT_USER_ERROR, UsageError
from aurora.evaluation import codesearch
from aurora.evaluation.measures import ndcg

BENCH = Path(__file__).resolve().parents[1] / "bench"
CONFIG = '[index]\nchunkers = []\nfallback_chunker = "windows"\nwindow_lines = 10\nwindow_overlap = 0\n'
R2, R3 = 1 / math.log2(3), 1 / math.log2(4)  # the gains at ranks 2 and 3 (rank 1 gains 1)


def _lines(*words: str, total: int = 10) -> str:
    """Return ``total`` lines of four filler words each, line i carrying ``words[i]`` instead of one filler."""
    fillers = ["lorem ipsum dolor sit"] * total
    return "\n".join(f"lorem ipsum dolor {word}" for word in words) + "\n" + "\n".join(fillers[len(words) :]) + "\n"


def _query(text: str, category: str, relevant: list, secondary: list | None = None) -> dict:
    return {"query": text, "relevant": relevant, "secondary": secondary or [], "category": category}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A codesearch set: alpha (go, benchmark_root src) and beta (rust, its tree is the benchmark root)."""
    folder = tmp_path / "set"
    repos = [
        {"name": "alpha", "language": "go", "url": "", "revision": "", "benchmark_root": "src"},
        {"name": "beta", "language": "rust", "url": "", "revision": "", "benchmark_root": "crates/beta"},
        {"name": "gamma", "language": "rust", "url": "", "revision": "", "benchmark_root": None},
    ]
    alpha = [
        _query("zorblax", "semantic", ["src/a.go"]),
        _query("quuxly", "architecture", ["src/c.go"], [{"path": "src/big.go", "start_line": 12, "end_line": 14}]),
        _query("frobnicate", "symbol", ["src/a.go", "src/a.go"]),
    ]
    beta = [
        _query("wibblewobble", "semantic", ["x.rs"], ["y.rs"]),
        _query("snorkel", "architecture", ["y.rs"]),
    ]
    published = {
        "sources": {"semble": {"protocol": "chunk-level (b)"}, "bm25_raw": {"protocol": "chunk-level (b)"}},
        "per_repo": {
            "alpha": {"language": "go", "semble": 0.9, "bm25_raw": None},
            "beta": {"language": "rust", "semble": 0.7, "bm25_raw": 0.5},
        },
    }
    write(
        folder,
        {
            "repos.json": json.dumps(repos),
            "annotations/alpha.json": json.dumps(alpha),
            "annotations/beta.json": json.dumps(beta),
            "annotations/gamma.json": json.dumps([_query("anything", "semantic", ["a.rs"])]),
            "published.json": json.dumps(published),
        },
    )
    trees = tmp_path / "trees"
    write(
        trees,
        {
            "repos/alpha/NOTES.txt": _lines("zorblax", "zorblax", "zorblax", "zorblax", "quuxly"),  # outside src
            "repos/alpha/src/a.go": _lines("zorblax", "frobnicate"),
            "repos/alpha/src/b.go": _lines("zorblax", "zorblax", "zorblax"),
            "repos/alpha/src/big.go": _lines("quuxly", "quuxly", "quuxly", total=10) + _lines("quuxly", "quuxly"),
            "repos/alpha/src/c.go": _lines("quuxly"),
            "repos/beta/x.rs": _lines("wibblewobble"),
            "repos/beta/y.rs": _lines(),
        },
    )
    return folder


def _evaluate(dataset: Path, tmp_path: Path, **options) -> codesearch.CodesearchReport:
    project = tmp_path / "project"
    write(project, {"aurora.toml": CONFIG})
    opened = aurora.open(project)
    return codesearch.evaluate(
        dataset,
        opened.config,
        opened.pipeline(),
        opened.host,
        None,
        Progress(False),
        trees=dataset.parent / "trees",
        **options,
    )


# Expected nDCG@10, by hand (IDCG of one target is 1, of two is 1 + R2):
#   alpha "zorblax": b.go (3 hits) ranks 1, a.go 2                      file R2           chunk R2
#   alpha "quuxly": chunks big.go:1-10 (3 hits), big.go:11-20 (2), c.go (1)
#       file: big.go 1, c.go 2, both targets found                      file (1 + R2) / (1 + R2) = 1
#       chunk: the span 12-14 misses big.go:1-10, hits big.go:11-20 at 2; c.go at 3
#                                                                       chunk (R2 + R3) / (1 + R2)
#   alpha "frobnicate": targets [a.go, a.go] both at rank 1, the position counts once
#                                                                       both 1 / (1 + R2)
#   beta "wibblewobble": x.rs 1, y.rs never (no match)                  both 1 / (1 + R2)
#   beta "snorkel": no file has it                                      both 0
ALPHA = {"file": (R2 + 1 + 1 / (1 + R2)) / 3, "chunk": (R2 + (R2 + R3) / (1 + R2) + 1 / (1 + R2)) / 3}
BETA = {"file": (1 / (1 + R2) + 0) / 2, "chunk": (1 / (1 + R2) + 0) / 2}


def test_scores_match_the_hand_computed_values(dataset: Path, tmp_path: Path) -> None:
    report = _evaluate(dataset, tmp_path).to_dict()
    per_repo = report["per_repo"]
    assert list(per_repo) == ["alpha", "beta"] and report["skipped"] == {"gamma": report["skipped"]["gamma"]}
    assert per_repo["alpha"]["files"] == 4  # src/ only: NOTES.txt, outside benchmark_root, is not indexed
    assert per_repo["alpha"]["chunks"] == 5  # big.go is two windows
    for name, expected in (("alpha", ALPHA), ("beta", BETA)):
        for protocol in ("file", "chunk"):
            assert per_repo[name]["ndcg_at_10"][protocol] == pytest.approx(expected[protocol], abs=1e-6)
    quuxly = per_repo["alpha"]["details"][1]
    assert [(t["path"], t["file_rank"], t["chunk_rank"]) for t in quuxly["targets"]] == [
        ("src/c.go", 2, 3),
        ("src/big.go", 1, 2),
    ]
    assert report["mode"] == "lexical" and report["latency_p50_ms"] > 0


def test_languages_categories_and_overall_are_means_over_repositories(dataset: Path, tmp_path: Path) -> None:
    report = _evaluate(dataset, tmp_path).to_dict()
    for protocol in ("file", "chunk"):
        assert report["per_language"]["go"]["ndcg_at_10"][protocol] == pytest.approx(ALPHA[protocol], abs=1e-6)
        assert report["per_language"]["rust"]["ndcg_at_10"][protocol] == pytest.approx(BETA[protocol], abs=1e-6)
        overall = (ALPHA[protocol] + BETA[protocol]) / 2
        assert report["overall"]["ndcg_at_10"][protocol] == pytest.approx(overall, abs=1e-6)
    categories = report["per_category"]
    # semantic: alpha R2, beta 1/(1+R2); architecture: alpha 1 (file) or (R2+R3)/(1+R2) (chunk), beta 0.
    assert categories["semantic"]["ndcg_at_10"]["file"] == pytest.approx((R2 + 1 / (1 + R2)) / 2, abs=1e-6)
    assert categories["architecture"]["ndcg_at_10"]["file"] == pytest.approx(0.5, abs=1e-6)
    assert categories["architecture"]["ndcg_at_10"]["chunk"] == pytest.approx((R2 + R3) / (1 + R2) / 2, abs=1e-6)
    assert categories["symbol"]["repos"] == 1 and categories["symbol"]["queries"] == 1
    # Published means cover the same repositories; alpha has no bm25_raw figure.
    assert report["overall"]["published"]["semble"] == {"ndcg_at_10": pytest.approx(0.8), "repos": 2}
    assert report["overall"]["published"]["bm25_raw"] == {"ndcg_at_10": pytest.approx(0.5), "repos": 1}


def test_a_subset_compares_with_the_published_figures_of_the_same_repositories(dataset: Path, tmp_path: Path) -> None:
    report = _evaluate(dataset, tmp_path, languages=["rust"], store_dir=tmp_path / "kept")
    document = report.to_dict()
    assert list(document["per_repo"]) == ["beta"]
    assert document["overall"]["published"]["semble"] == {"ndcg_at_10": pytest.approx(0.7), "repos": 1}
    assert "beta" in report.text() and "alpha" not in report.text()
    # The copy was indexed, never the source tree, and no search was recorded (no activation history).
    assert not (dataset.parent / "trees" / "repos" / "beta" / ".aurora").exists()
    assert sorted(p.name for p in (tmp_path / "kept" / "beta").iterdir()) == [".aurora", "x.rs", "y.rs"]
    assert not list((tmp_path / "kept").rglob("activation.db"))


def test_ndcg_counts_a_position_once_and_the_ideal_with_duplicates() -> None:
    assert ndcg([1, 1], 2) == pytest.approx(1 / (1 + R2))  # two targets found at the same place
    assert ndcg({2, 3}, 2) == pytest.approx((R2 + R3) / (1 + R2))
    assert ndcg({11}, 1) == 0 and ndcg(set(), 0) == 0
    assert ndcg(set(range(1, 12)), 12) == pytest.approx(1.0)  # IDCG stops at 10 targets


def _fails(folder: Path, message: str, **options) -> None:
    with pytest.raises(UsageError) as caught:
        codesearch.load_set(folder, **options)
    assert message in caught.value.message and "\n" not in caught.value.message
    assert caught.value.exit_code == EXIT_USER_ERROR


def test_a_folder_of_neither_format(tmp_path: Path) -> None:
    assert not codesearch.is_codesearch_folder(tmp_path)
    _fails(tmp_path, "is not a codesearch folder: repos.json is missing")


def test_a_missing_annotations_file(dataset: Path) -> None:
    (dataset / "annotations" / "beta.json").unlink()
    _fails(dataset, "annotations/beta.json is missing")
    codesearch.load_set(dataset, repos=["alpha"])  # only the selected repositories' files are read


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("repos.json", '[{"name": "alpha",', "repos.json:1:19: invalid JSON: Expecting property name"),
        ("annotations/alpha.json", "[1, 2", "alpha.json:1:6: invalid JSON"),
        ("published.json", "{", "published.json:1:2: invalid JSON"),
        ("repos.json", '{"name": "alpha"}', "repos.json: expected a list of repositories"),
        ("annotations/alpha.json", '[{"query": "x", "category": "semantic", "relevant": [3]}]', "a target must be"),
    ],
)
def test_malformed_files(dataset: Path, name: str, text: str, message: str) -> None:
    write(dataset, {name: text})
    _fails(dataset, message)


def test_unknown_names_list_the_available_ones(dataset: Path) -> None:
    _fails(dataset, "unknown repository 'delta'; available: alpha, beta, gamma", repos=["delta"])
    _fails(dataset, "unknown language 'cobol'; available: go, rust", languages=["cobol"])


def test_trees_are_looked_for_and_their_absence_explained(dataset: Path, tmp_path: Path) -> None:
    assert codesearch.find_trees(dataset, tmp_path / "trees") == tmp_path / "trees" / "repos"
    assert codesearch.find_trees(dataset, tmp_path / "trees" / "repos") == tmp_path / "trees" / "repos"
    with pytest.raises(UsageError, match="no source trees for .*: neither .*/set/repos nor .*/aurora-codesearch/repos"):
        codesearch.find_trees(dataset)  # neither beside the set nor where unpack.sh puts them by default


def test_a_named_repository_without_a_tree_is_an_error(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="gamma: no source tree at"):
        _evaluate(dataset, tmp_path, repos=["gamma"])


def test_the_benchmark_script_prints_and_saves_the_language_table(dataset: Path, tmp_path: Path) -> None:
    command = [sys.executable, str(BENCH / "codesearch.py"), str(dataset), "--trees", str(tmp_path / "trees")]
    done = subprocess.run(
        [*command, "--results", str(tmp_path)], cwd=BENCH, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "| go | 1 |" in done.stdout and "| **all** | 2 |" in done.stdout
    saved = json.loads((tmp_path / "codesearch-lexical.json").read_text())
    assert saved["report"]["overall"]["repos"] == 2 and saved["data"]["sha256"]["repos.json"]


def test_aurora_eval_scores_a_code_search_set_from_the_command_line(dataset: Path, tmp_path: Path, cli) -> None:
    project = tmp_path / "project"
    write(project, {"aurora.toml": CONFIG})
    trees = str(dataset.parent / "trees")
    done = cli("eval", str(dataset), "--trees", trees, "--repos", "alpha,beta", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["per_repo"]["alpha"]["ndcg_at_10"]["chunk"] == pytest.approx(ALPHA["chunk"], abs=1e-6)
    wrong = cli("eval", str(dataset), "--max-queries", "3", cwd=project)
    assert wrong.returncode == 2 and "--max-queries applies to BEIR folders" in wrong.stderr
    assert "Traceback" not in wrong.stderr
