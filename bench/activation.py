"""Activation in a working session: what learning from reads gains, and what counting shown results costs.

    python bench/activation.py [DATA_DIR] [--dataset scifact --dataset cosqa --dataset codesearch]
                               [--repos gin,sinatra,...] [--trees DIR] [--pace SECONDS] [--stray-reads N]
                               [--weight W ...] [--record-top N ...] [--read-weight W ...]

A session replays a set's judged queries in order, lexical, default pipeline, on a
simulated clock (a query every --pace seconds, 60 by default, so the numbers do not
depend on the machine's speed). Each query is searched, its top 10 shown; for every
other query the assistant reads the relevant results it was shown (`aurora read
PATH:START-END`; BEIR documents have no file, so there the read's record alone is made).
With --stray-reads N the assistant also reads, in every query, the first N results shown
that are not relevant (results it checks and then does not use: the noise of a real
reader). A session whose settings record shown results (`[activation] record_top`)
records them as `aurora search` does. Then every query is searched again, recording
nothing, and nDCG@10 of that second pass is reported for the queries where something
was read (those of every other query whose top 10 without activation held a relevant
result), for the others (whose candidates only carry the activation of unrelated reads
and shown results: the noise a setting must not let hurt), and for all.

The sessions compared: activation off (always, first); then, by default, the shipped
settings and the shipped settings with `record_top = 3` (the behaviour before reads,
when every search recorded its top 3). --weight, --record-top and --read-weight replace
these two by the shipped settings with each combination of the values given. The
code-search set (DATA_DIR/codesearch) is scored on six repositories of six languages
(--repos), each its own session, with the set's chunk protocol (and the file protocol
in the JSON). docs/activation.md has the tables.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from measure import RESULTS, save

from aurora.activation.reading import read_passage
from aurora.activation.usage import HISTORY_NAME, Usage, chunk_key
from aurora.api import Project
from aurora.cli.progress import Progress
from aurora.common.layout import DATABASE_NAME, INDEX_DIRNAME, index_dir
from aurora.evaluation import codesearch
from aurora.evaluation.beir import _pytrec_eval, load_corpus, load_qrels, load_queries
from aurora.index.indexer import index_documents, index_tree
from aurora.index.store import Store, StoredChunk
from aurora.search.engine import ACTIVATION, Searcher, run_search
from aurora.search.options import SearchRequest

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = ("scifact", "cosqa", "codesearch")
#: Six repositories of six languages, of the code-search set.
CODE_REPOS = ("gin", "sinatra", "axios", "gson", "serde", "redis")
#: Where the simulated clock starts (any fixed time: only differences matter).
EPOCH = 1_700_000_000.0
SHOWN = 10
DEPTH = 100


class Variant(NamedTuple):
    """A session's settings: its name and the aurora.toml written for it (empty: the shipped defaults)."""

    name: str
    toml: str


#: The reference every table starts with, which also decides the queries with reads.
OFF = Variant("off", "[activation]\nenabled = false\n")
DEFAULT_VARIANTS = (Variant("shipped", ""), Variant("record_top 3 (before)", "[activation]\nrecord_top = 3\n"))


class Query(NamedTuple):
    """A judged query of a session: its id, text and whether a result (path, first line, last line) answers it."""

    qid: str
    text: str
    relevant: Callable[[str, int, int], bool]


class Session(NamedTuple):
    """One project of a benchmark: its indexed root and its queries, in the order they are asked."""

    root: Path
    queries: list[Query]


class Benchmark(NamedTuple):
    """A set as sessions, and how to score a second pass (query id -> ranked (path, first, last line) -> nDCG@10)."""

    name: str
    sessions: list[Session]
    score: Callable[[dict[str, list[tuple[str, int, int]]]], dict[str, dict[str, float]]]


class Clock:
    """The simulated time of a session: it moves on by ``pace`` seconds at every query."""

    def __init__(self, pace: float) -> None:
        self.now = EPOCH
        self.pace = pace

    def tick(self) -> None:
        """Move on to the next query's time."""
        self.now += self.pace

    def __call__(self) -> float:
        return self.now


def beir(folder: Path, scratch: Path, split: str) -> Benchmark:
    """Index a BEIR set once; one session over its judged queries, scored with pytrec_eval as `aurora eval` does."""
    qrels = load_qrels(folder, split)
    queries = {qid: text for qid, text in load_queries(folder).items() if qid in qrels and text.strip()}
    root = scratch / folder.name
    root.mkdir()
    project = Project(root)
    index_documents(index_dir(root), load_corpus(folder), project.pipeline(), project.host, Progress(False))
    evaluator = _pytrec_eval().RelevanceEvaluator({qid: qrels[qid] for qid in queries}, {"ndcg_cut.10"})

    def score(ranked: dict[str, list[tuple[str, int, int]]]) -> dict[str, dict[str, float]]:
        run = {qid: _doc_scores(results) for qid, results in ranked.items()}
        measured = evaluator.evaluate(run)
        return {qid: {"ndcg": measured.get(qid, {}).get("ndcg_cut_10", 0.0)} for qid in queries}

    judged = [
        Query(qid, text, lambda path, _start, _end, grades=qrels[qid]: grades.get(path, 0) > 0)
        for qid, text in queries.items()
    ]
    return Benchmark(folder.name, [Session(root, judged)], score)


def _doc_scores(results: list[tuple[str, int, int]]) -> dict[str, float]:
    """Return a run's scores for pytrec_eval: each document's best rank as a descending score."""
    scores: dict[str, float] = {}
    for rank, (path, _, _) in enumerate(results):
        scores.setdefault(path, float(len(results) - rank))
    return scores


def code(folder: Path, trees: Path | None, repos: list[str], scratch: Path) -> Benchmark:
    """Copy and index each repository's benchmark folder; one session per repository, chunk and file protocols."""
    dataset = codesearch.load_set(folder, repos)
    base = codesearch.find_trees(folder, trees)
    sessions, annotated = [], {}
    for repo in dataset.repos:
        root = scratch / repo.name
        part = codesearch.benchmark_folder(base / repo.name, repo)
        shutil.copytree(
            base / repo.name / part,
            root / part,
            symlinks=True,
            ignore=shutil.ignore_patterns(INDEX_DIRNAME),
        )
        project = Project(root)
        index_tree(root, project.config, project.pipeline(), project.host, Progress(False))
        queries = []
        for number, query in enumerate(repo.queries):
            qid = f"{repo.name}/{number}"
            annotated[qid] = query
            queries.append(Query(qid, query.text, lambda *result, q=query: any(t.matches(*result) for t in q.targets)))
        sessions.append(Session(root, queries))

    def score(ranked: dict[str, list[tuple[str, int, int]]]) -> dict[str, dict[str, float]]:
        scores = {qid: codesearch.QueryScore.of(annotated[qid], results) for qid, results in ranked.items()}
        return {qid: {"ndcg": s.ndcg("chunk"), "ndcg_file": s.ndcg("file")} for qid, s in scores.items()}

    return Benchmark(f"codesearch ({len(sessions)} repositories)", sessions, score)


class Outcome(NamedTuple):
    """A variant's session, per query: the second pass's ranking, the queries with reads, the first pass's top 10.

    ``settings``: the activation settings in effect (weight, record_top, read_weight).
    """

    ranked: dict[str, list[tuple[str, int, int]]]
    read: set[str]
    shown: dict[str, list[tuple[str, int, int]]]
    settings: dict[str, Any]


def run_session(session: Session, variant: Variant, pace: float, stray: int) -> Outcome:
    """Replay ``session`` under ``variant``: ask every query (reading for every other one), then ask them all again.

    ``stray``: irrelevant results shown that are read too, in every query.
    """
    root = session.root
    (root / "aurora.toml").write_text(variant.toml, encoding="utf-8")
    for suffix in ("", "-wal", "-shm"):
        (index_dir(root) / f"{HISTORY_NAME}{suffix}").unlink(missing_ok=True)
    project = Project(root)
    clock = Clock(pace)
    usage, _ = Usage.open(index_dir(root), project.config, clock)
    store = Store.open(index_dir(root) / DATABASE_NAME)
    pipeline = project.pipeline()
    searcher = Searcher(root, store, pipeline, project.host, usage=usage)
    shown, read, ranked = {}, set(), {}
    try:
        for number, query in enumerate(session.queries):
            clock.tick()
            response = run_search(searcher, query.text, SearchRequest(limit=SHOWN, snippet_lines=0, record=True))
            shown[query.qid] = [_location(result.chunk) for result in response.results]
            useful = [r.chunk for r in response.results if query.relevant(*_location(r.chunk))]
            for chunk in useful if number % 2 == 0 else []:
                _read(store, usage, root, chunk)
                read.add(query.qid)
            for chunk in [r.chunk for r in response.results if r.chunk not in useful][:stray]:
                _read(store, usage, root, chunk)
        for query in session.queries:
            clock.tick()
            response = run_search(searcher, query.text, SearchRequest(limit=DEPTH, snippet_lines=0, record=False))
            ranked[query.qid] = [_location(result.chunk) for result in response.results]
    finally:
        searcher.close()  # its store and access history too
    settings = {
        "enabled": project.config.get("activation", "enabled"),
        "weight": pipeline.weights[ACTIVATION],
        "record_top": project.config.get("activation", "record_top"),
        "read_weight": project.config.get("activation", "read_weight"),
    }
    return Outcome(ranked, read, shown, settings)


def _location(chunk: StoredChunk) -> tuple[str, int, int]:
    return chunk.path, chunk.line_start, chunk.line_end


def _read(store: Store, usage: Usage | None, root: Path, chunk: StoredChunk) -> None:
    """Read a shown result: `aurora read PATH:START-END` where it is a file, else (a BEIR document) its record alone."""
    if (root / chunk.path).is_file():
        read_passage(store, usage, root, f"{chunk.path}:{chunk.line_start}-{chunk.line_end}", root)
    elif usage is not None:
        usage.record_read([chunk_key(chunk.path, chunk.symbol, chunk.line_start)])


def run_variant(benchmark: Benchmark, variant: Variant, pace: float, stray: int) -> Outcome:
    """Run every session of ``benchmark`` under ``variant``; merge their outcomes."""
    ranked, read, shown, settings = {}, set(), {}, {}
    for session in benchmark.sessions:
        outcome = run_session(session, variant, pace, stray)
        ranked |= outcome.ranked
        read |= outcome.read
        shown |= outcome.shown
        settings = outcome.settings
    return Outcome(ranked, read, shown, settings)


def variants(args: argparse.Namespace) -> list[Variant]:
    """Return the sessions to compare with off: the default two, or the shipped settings with each combination asked."""
    if not (args.weight or args.record_top or args.read_weight):
        return list(DEFAULT_VARIANTS)
    chosen = []
    for weight, record_top, read_weight in itertools.product(
        args.weight or [None], args.record_top or [None], args.read_weight or [None]
    ):
        activation = "".join(
            f"{key} = {value}\n"
            for key, value in (("record_top", record_top), ("read_weight", read_weight))
            if value is not None
        )
        toml = (f"[activation]\n{activation}" if activation else "") + (
            f"[pipelines.default.weights]\nactivation = {weight}\n" if weight is not None else ""
        )
        name = ", ".join(
            f"{key} {value:g}"
            for key, value in (("weight", weight), ("record_top", record_top), ("read_weight", read_weight))
            if value is not None
        )
        chosen.append(Variant(name, toml))
    return chosen


def benchmarks(args: argparse.Namespace, scratch: Path) -> Iterator[Benchmark]:
    """Yield each set asked for, indexed under ``scratch``."""
    for name in args.dataset or DATASETS:
        folder = args.data / name
        place = scratch / name.replace("/", "_")
        place.mkdir()
        if codesearch.is_codesearch_folder(folder):
            yield code(folder, args.trees, args.repos.split(",") if args.repos else list(CODE_REPOS), place)
        else:
            yield beir(folder, place, args.split)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def main() -> None:
    """Run the sessions of every set and print one table per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--dataset", action="append", help=f"a folder of DATA (default: {', '.join(DATASETS)})")
    parser.add_argument("--split", default="test")
    parser.add_argument("--repos", help=f"code-search repositories (default: {','.join(CODE_REPOS)})")
    parser.add_argument("--trees", type=Path, help="the code-search set's source trees (default: found as aurora eval)")
    parser.add_argument("--pace", type=float, default=60.0, help="simulated seconds between queries")
    parser.add_argument("--stray-reads", type=int, default=0, help="irrelevant results read in every query")
    parser.add_argument("--weight", type=float, action="append", help="activation weight of the pipeline")
    parser.add_argument("--record-top", type=int, action="append", help="[activation] record_top")
    parser.add_argument("--read-weight", type=float, action="append", help="[activation] read_weight")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aurora-bench-activation-") as scratch:
        os.environ["XDG_CONFIG_HOME"] = str(Path(scratch) / "config")  # the user's configuration stays out
        for benchmark in benchmarks(args, Path(scratch)):
            reference = run_variant(benchmark, OFF, args.pace, args.stray_reads)
            every = list(reference.ranked)
            readers = {
                query.qid
                for session in benchmark.sessions
                for number, query in enumerate(session.queries)
                if number % 2 == 0 and any(query.relevant(*shown) for shown in reference.shown[query.qid])
            }
            groups = {"feedback": readers, "others": set(every) - readers, "all": set(every)}
            print(
                f"\n{benchmark.name}: {len(every)} queries, {len(readers)} with reads, pace {args.pace:g} s, "
                f"{args.stray_reads} stray reads per query"
            )
            print("| session | nDCG@10, queries with reads | the others | all |\n|---|---|---|---|")
            rows = []
            for variant in [OFF, *variants(args)]:
                outcome = reference if variant is OFF else run_variant(benchmark, variant, args.pace, args.stray_reads)
                scores = benchmark.score(outcome.ranked)
                row: dict[str, Any] = {"variant": variant.name, **outcome.settings}
                for measure in scores[every[0]] if every else ():
                    suffix = measure.removeprefix("ndcg")
                    for group, members in groups.items():
                        row[f"ndcg{suffix}_{group}"] = _mean([scores[qid][measure] for qid in members])
                row["queries_read"] = len(readers)
                row["queries_read_in_session"] = len(outcome.read)
                rows.append(row)
                cells = [row.get(f"ndcg_{group}") for group in groups]
                print(f"| {variant.name} | " + " | ".join("-" if c is None else f"{c:.4f}" for c in cells) + " |")
            name = benchmark.name.split(" ")[0]
            document = {"pace_s": args.pace, "stray_reads": args.stray_reads, "off": rows[0], "rows": rows[1:]}
            print(f"saved {save(f'activation-{name}', document, args.results)}")


if __name__ == "__main__":
    main()
