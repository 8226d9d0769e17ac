"""``aurora eval`` on a code-search set in the codesearch format (the layout of semble's benchmark).

A set is a folder with ``repos.json`` (one entry per repository: ``name``, ``language``,
``benchmark_root``), ``annotations/<name>.json`` (queries, each with the files that
answer it and a ``category``) and, optionally, ``published.json`` (other engines'
per-repository scores). The source trees live in another folder, ``<trees>/<name>/``.

Each repository's ``benchmark_root`` (or its whole tree when the tree has no such
folder, i.e. the tree *is* the benchmark root) is copied to a scratch folder at the same
relative place, so that result paths stay relative to the tree as the annotations are,
and indexed there: the source tree is never written to. Every query then goes through
the searcher that ``aurora search`` uses, with no access history (no activation signal,
nothing recorded), and is scored with nDCG@10 (gain 1 per target, a rank counted once)
in the set's two protocols:

* ``file``: results mapped to their files, first occurrence kept, the first 10 files;
* ``chunk``: the first 10 results as they are, a file possibly filling several places;
  a target with a line span matches only a result whose lines overlap it. The
  published scores were computed this way (except ColGREP's, at file level).

A result matches a target when the two paths are equal. A repository scores the mean
over its queries; a language and the whole set, the mean over their repositories; a
category, the mean over the repositories that have queries of it of their mean over
those queries (as semble aggregates). Published figures are averaged over the same
repositories as ours, so a subset compares like with like.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from aurora.cli.progress import Progress
from aurora.common.layout import DATABASE_NAME, INDEX_DIRNAME, index_dir
from aurora.config.layers import Config
from aurora.errors import UsageError
from aurora.evaluation.measures import check_scorable, eval_request, latency_percentiles, ndcg
from aurora.host.pipeline import Pipeline
from aurora.host.registry import PluginHost
from aurora.index.indexer import index_tree
from aurora.index.store import Store
from aurora.search.engine import FUSION_DEPTH, Searcher, run_search

K = 10
PROTOCOLS = ("file", "chunk")
#: Results fetched per query: the first K are the chunk protocol's list, and their files in
#: order (first occurrence) the file protocol's (the searcher ranks this many candidates anyway).
SEARCH_DEPTH = FUSION_DEPTH
#: Searched once per repository before the timed queries: it opens the index and loads the model,
#: and is none of the set's queries, so that no query's embedding is cached before it is timed.
WARM_UP_QUERY = "open the index and load the model"
#: Short column names for the methods of semble's published.json; others show their key.
METHOD_LABELS = {"semble": "semble", "bm25_raw": "BM25", "coderankembed_hybrid": "CRE hybrid", "colgrep": "ColGREP"}
#: Where semble's ``unpack.sh`` puts the trees by default, below ``$XDG_CACHE_HOME``.
UNPACK_DIRNAME = "aurora-codesearch"


@dataclass(frozen=True)
class Target:
    """A file that answers a query, optionally narrowed to a line span (1-based, inclusive)."""

    path: str
    start_line: int | None = None
    end_line: int | None = None

    def matches(self, path: str, line_start: int, line_end: int) -> bool:
        """Return whether a result at ``path``, lines ``line_start``-``line_end``, hits this target (chunk protocol)."""
        if path != self.path:
            return False
        if self.start_line is None or self.end_line is None:
            return True
        return not (line_end < self.start_line or line_start > self.end_line)

    def to_dict(self) -> dict[str, Any]:
        """Return the target as it is written in an annotations file."""
        if self.start_line is None:
            return {"path": self.path}
        return {"path": self.path, "start_line": self.start_line, "end_line": self.end_line}


@dataclass(frozen=True)
class Query:
    """An annotated query: its targets are ``relevant + secondary``, every one of gain 1, duplicates kept."""

    text: str
    category: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Repo:
    """One repository of a set: its queries and the published scores of other engines on it."""

    name: str
    language: str
    benchmark_root: str | None
    queries: tuple[Query, ...]
    published: dict[str, float | None] = field(default_factory=dict)


#: A ranked search result as the protocols see it: (path, line_start, line_end).
Ranked = tuple[str, int, int]


@dataclass(frozen=True)
class QueryScore:
    """Where each target of a query was found (1-based rank in the top 10, or None) under each protocol."""

    query: Query
    file_ranks: tuple[int | None, ...]
    chunk_ranks: tuple[int | None, ...]

    @classmethod
    def of(cls, query: Query, ranked: Sequence[Ranked]) -> QueryScore:
        """Score ``ranked`` (best first) against ``query``."""
        files = list(dict.fromkeys(path for path, _, _ in ranked))[:K]
        chunks = list(ranked)[:K]
        return cls(
            query,
            tuple(_first_rank(files, lambda path, t=target: path == t.path) for target in query.targets),
            tuple(_first_rank(chunks, lambda item, t=target: t.matches(*item)) for target in query.targets),
        )

    def ndcg(self, protocol: str) -> float:
        """Return this query's nDCG@10 under ``protocol`` (``file`` or ``chunk``)."""
        ranks = self.file_ranks if protocol == "file" else self.chunk_ranks
        return ndcg([rank for rank in ranks if rank is not None], len(self.query.targets), K)

    def to_dict(self) -> dict[str, Any]:
        """Return the query, its scores and each target's ranks."""
        return {
            "query": self.query.text,
            "category": self.query.category,
            "ndcg_at_10": {protocol: round(self.ndcg(protocol), 6) for protocol in PROTOCOLS},
            "targets": [
                {**target.to_dict(), "file_rank": file_rank, "chunk_rank": chunk_rank}
                for target, file_rank, chunk_rank in zip(
                    self.query.targets, self.file_ranks, self.chunk_ranks, strict=True
                )
            ],
        }


def _first_rank(items: Sequence[Any], hit: Callable[[Any], bool]) -> int | None:
    return next((rank for rank, item in enumerate(items, 1) if hit(item)), None)


@dataclass
class RepoResult:
    """The evaluation of one repository: its index, its query latencies and its queries' scores."""

    repo: Repo
    files: int
    chunks: int
    index_s: float
    latencies_ms: list[float]
    scores: list[QueryScore]

    def ndcg(self, protocol: str, category: str | None = None) -> float | None:
        """Return the mean nDCG@10 over the queries (of ``category``), None when there is none."""
        values = [s.ndcg(protocol) for s in self.scores if category is None or s.query.category == category]
        return sum(values) / len(values) if values else None

    def categories(self) -> list[str]:
        """Return the categories of this repository's queries, sorted."""
        return sorted({score.query.category for score in self.scores})

    def to_dict(self) -> dict[str, Any]:
        """Return this repository's scores, published figures, index size, timings and every query's ranks."""
        p50, p95 = latency_percentiles(self.latencies_ms)
        return {
            "language": self.repo.language,
            "queries": len(self.scores),
            "ndcg_at_10": _scores(self.ndcg(protocol) for protocol in PROTOCOLS),
            "per_category": {
                category: {
                    "queries": sum(1 for s in self.scores if s.query.category == category),
                    "ndcg_at_10": _scores(self.ndcg(protocol, category) for protocol in PROTOCOLS),
                }
                for category in self.categories()
            },
            "published": self.repo.published,
            "files": self.files,
            "chunks": self.chunks,
            "index_s": round(self.index_s, 3),
            "latency_p50_ms": round(p50, 3),
            "latency_p95_ms": round(p95, 3),
            "details": [score.to_dict() for score in self.scores],
        }


@dataclass
class Summary:
    """Means over a group of repositories: ours per protocol and each published method's over the same ones."""

    repos: int
    queries: int
    ndcg_at_10: dict[str, float]
    published: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, results: Sequence[RepoResult], methods: Iterable[str], category: str | None = None) -> Summary:
        """Average ``results`` (the repositories with queries of ``category``, if given) and the published figures."""
        values = {protocol: [r.ndcg(protocol, category) for r in results] for protocol in PROTOCOLS}
        kept = [r for r, value in zip(results, values["file"], strict=True) if value is not None]
        published = {}
        if category is None:
            for method in methods:
                known = [r.repo.published[method] for r in kept if r.repo.published.get(method) is not None]
                published[method] = {"ndcg_at_10": _mean(known), "repos": len(known)}
        return cls(
            repos=len(kept),
            queries=sum(1 for r in kept for s in r.scores if category is None or s.query.category == category),
            ndcg_at_10={protocol: _mean([v for v in values[protocol] if v is not None]) for protocol in PROTOCOLS},
            published=published,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready dict."""
        document: dict[str, Any] = {
            "repos": self.repos,
            "queries": self.queries,
            "ndcg_at_10": {protocol: round(value, 6) for protocol, value in self.ndcg_at_10.items()},
        }
        if self.published:
            document["published"] = {
                method: {**entry, "ndcg_at_10": None if entry["ndcg_at_10"] is None else round(entry["ndcg_at_10"], 6)}
                for method, entry in self.published.items()
            }
        return document


def _mean(values: Sequence[float]) -> Any:
    return sum(values) / len(values) if values else None


def _scores(values: Iterable[float | None]) -> dict[str, float | None]:
    return {protocol: None if v is None else round(v, 6) for protocol, v in zip(PROTOCOLS, values, strict=True)}


@dataclass
class CodesearchReport:
    """The result of evaluating a pipeline on a codesearch set; ``to_dict()`` is the ``--json`` document."""

    dataset: str
    pipeline: str
    mode: str
    results: list[RepoResult]
    methods: dict[str, str]  # published method -> its protocol, as published.json describes it
    skipped: dict[str, str]  # repository -> why it was not evaluated

    def overall(self) -> Summary:
        """Return the means over every evaluated repository."""
        return Summary.of(self.results, self.methods)

    def per_language(self) -> dict[str, Summary]:
        """Return the means over each language's repositories, by language."""
        languages = sorted({r.repo.language for r in self.results})
        return {
            language: Summary.of([r for r in self.results if r.repo.language == language], self.methods)
            for language in languages
        }

    def per_category(self) -> dict[str, Summary]:
        """Return, by category, the mean over repositories of their mean over that category's queries."""
        categories = sorted({c for r in self.results for c in r.categories()})
        return {category: Summary.of(self.results, self.methods, category) for category in categories}

    def latency_ms(self) -> tuple[float, float]:
        """Return the median and 95th percentile of every query's latency."""
        return latency_percentiles([ms for r in self.results for ms in r.latencies_ms])

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        p50, p95 = self.latency_ms()
        return {
            "dataset": self.dataset,
            "pipeline": self.pipeline,
            "mode": self.mode,
            "metric": "ndcg_at_10",
            "protocols": {
                "file": "first occurrence of each result's file, top 10 files, paths only",
                "chunk": "top 10 results as ranked, a target's line span must overlap the result's lines",
            },
            "published_methods": self.methods,
            "overall": self.overall().to_dict(),
            "per_language": {name: s.to_dict() for name, s in self.per_language().items()},
            "per_category": {name: s.to_dict() for name, s in self.per_category().items()},
            "per_repo": {r.repo.name: r.to_dict() for r in self.results},
            "skipped": self.skipped,
            "latency_p50_ms": round(p50, 3),
            "latency_p95_ms": round(p95, 3),
            "index_s": round(sum(r.index_s for r in self.results), 3),
            "files": sum(r.files for r in self.results),
            "chunks": sum(r.chunks for r in self.results),
        }

    def text(self) -> str:
        """Return the report as an aligned table for a terminal: repositories, languages, categories, overall."""
        overall = self.overall()
        methods = list(self.methods)
        header = f"{'nDCG@10':<24}{'queries':>8}{'file':>8}{'chunk':>8}" + (" |" if methods else "")
        header += "".join(f"{METHOD_LABELS.get(m, m):>11}" for m in methods)

        def row(label: str, summary: Summary) -> str:
            line = f"{label:<24}{summary.queries:>8,}" + "".join(
                f"{summary.ndcg_at_10[p]:>8.3f}" if summary.ndcg_at_10[p] is not None else f"{'-':>8}"
                for p in PROTOCOLS
            )
            if methods:
                line += " |" + "".join(
                    _published_cell(summary.published.get(method), summary.repos) for method in methods
                )
            return line

        ordered = sorted(self.results, key=lambda r: (r.repo.language, r.repo.name))
        lines = [
            f"{self.dataset}: {overall.repos} repositories, {overall.queries:,} queries, "
            f"pipeline {self.pipeline}, mode {self.mode}",
            header,
            *(row(r.repo.name, Summary.of([r], self.methods)) for r in ordered),
            *(row(f"{name} ({s.repos})", s) for name, s in self.per_language().items()),
            *(row(f"{name} ({s.repos})", s) for name, s in self.per_category().items()),
            row(f"all ({overall.repos})", overall),
        ]
        p50, p95 = self.latency_ms()
        files, chunks = sum(r.files for r in self.results), sum(r.chunks for r in self.results)
        lines += [
            f"latency      p50 {p50:.1f} ms   p95 {p95:.1f} ms",
            f"indexing     {sum(r.index_s for r in self.results):.1f} s ({files:,} files, {chunks:,} chunks)",
            "file: each file once, top 10 files; chunk: top 10 results, line spans checked (as published"
            + (", except ColGREP: file level)" if "colgrep" in self.methods else ")"),
        ]
        if self.skipped:
            lines.append("skipped      " + "; ".join(f"{name}: {why}" for name, why in self.skipped.items()))
        return "\n".join(lines)


def _published_cell(entry: dict[str, Any] | None, repos: int) -> str:
    """Return a published mean, marked with its repository count when some of ours have no published figure."""
    if entry is None or entry["ndcg_at_10"] is None:
        return f"{'-':>11}"
    mark = f" ({entry['repos']})" if entry["repos"] != repos else ""
    return f"{entry['ndcg_at_10']:.3f}{mark}".rjust(11)


# --- reading a set -------------------------------------------------------------------


def is_codesearch_folder(path: Path) -> bool:
    """Return whether ``path`` looks like a codesearch set (``repos.json`` and ``annotations/``); filesystem only."""
    return (path / "repos.json").is_file() and (path / "annotations").is_dir()


@dataclass(frozen=True)
class CodesearchSet:
    """A set as read: its selected repositories and the published methods (method -> protocol)."""

    name: str
    repos: list[Repo]
    methods: dict[str, str]


def load_set(folder: Path, repos: Sequence[str] | None = None, languages: Sequence[str] | None = None) -> CodesearchSet:
    """Read the set at ``folder``, keeping the repositories named in ``repos`` and of ``languages`` (all if None)."""
    if not is_codesearch_folder(folder):
        missing = "repos.json" if not (folder / "repos.json").is_file() else "annotations/"
        raise UsageError(
            f"{folder} is not a codesearch folder: {missing} is missing",
            hint="a codesearch set has repos.json and annotations/<name>.json; a BEIR set has corpus.jsonl, "
            "queries.jsonl and qrels/",
        )
    specs = _repo_specs(folder / "repos.json")
    _check_names("repository", repos, [spec["name"] for spec in specs])
    _check_names("language", languages, sorted({spec["language"] for spec in specs}))
    methods, published = _published(folder / "published.json")
    selected = [
        Repo(
            spec["name"],
            spec["language"],
            spec["benchmark_root"],
            _queries(folder / "annotations" / f"{spec['name']}.json"),
            published.get(spec["name"], {}),
        )
        for spec in specs
        if (not repos or spec["name"] in repos) and (not languages or spec["language"] in languages)
    ]
    return CodesearchSet(folder.name, selected, methods)


def _check_names(kind: str, asked: Sequence[str] | None, known: Sequence[str]) -> None:
    unknown = [name for name in asked or () if name not in known]
    if unknown:
        raise UsageError(f"unknown {kind} '{unknown[0]}'; available: {', '.join(known)}")


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path} is missing") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def _repo_specs(path: Path) -> list[dict[str, Any]]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a list of repositories")
    specs = []
    for number, spec in enumerate(data, start=1):
        where = f"{path}: repository {number}"
        if not isinstance(spec, dict):
            raise UsageError(f"{where}: expected an object")
        name, language, root = spec.get("name"), spec.get("language"), spec.get("benchmark_root")
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise UsageError(f"{where}: name must be a folder name")
        if not isinstance(language, str) or not language:
            raise UsageError(f"{where} ({name}): language must be a string")
        if root is not None and (not isinstance(root, str) or not _relative_inside(root)):
            raise UsageError(f"{where} ({name}): benchmark_root must be null or a relative path inside the tree")
        specs.append({"name": name, "language": language, "benchmark_root": root or None})
    return specs


def _relative_inside(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts


def _queries(path: Path) -> tuple[Query, ...]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a list of queries")
    queries = []
    for number, record in enumerate(data, start=1):
        where = f"{path}: query {number}"
        if not isinstance(record, dict):
            raise UsageError(f"{where}: expected an object")
        text, category = record.get("query"), record.get("category")
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f"{where}: query must be a non-empty string")
        if not isinstance(category, str):
            raise UsageError(f"{where}: category must be a string")
        targets = [
            _target(item, where) for key in ("relevant", "secondary") for item in _target_list(record, key, where)
        ]
        queries.append(Query(text, category, tuple(targets)))
    return tuple(queries)


def _target_list(record: dict[str, Any], key: str, where: str) -> list[Any]:
    items = record.get(key, [])
    if not isinstance(items, list):
        raise UsageError(f"{where}: {key} must be a list")
    return items


def _target(item: Any, where: str) -> Target:
    if isinstance(item, str):
        return Target(item)
    if isinstance(item, dict) and isinstance(item.get("path"), str):
        start, end = item.get("start_line"), item.get("end_line")
        if all(isinstance(line, int) for line in (start, end)):
            return Target(item["path"], start, end)
        if start is None and end is None:
            return Target(item["path"])
    raise UsageError(f"{where}: a target must be a path or {{path, start_line, end_line}}")


def _published(path: Path) -> tuple[dict[str, str], dict[str, dict[str, float | None]]]:
    """Return the published methods (method -> protocol) and each one's score on each repository (None: none)."""
    if not path.is_file():
        return {}, {}
    data = _read_json(path)
    if not isinstance(data, dict) or not all(isinstance(data.get(key), dict) for key in ("sources", "per_repo")):
        raise UsageError(f"{path}: expected an object with 'sources' and 'per_repo' objects")
    methods = {
        method: str(source.get("protocol", "")) if isinstance(source, dict) else ""
        for method, source in data["sources"].items()
    }
    scores = {
        name: {method: _number(entry.get(method)) for method in methods}
        for name, entry in data["per_repo"].items()
        if isinstance(entry, dict)
    }
    return methods, scores


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def find_trees(folder: Path, trees: Path | None = None) -> Path:
    """Return the folder holding the source trees (``<name>/`` per repository).

    ``trees`` (or, by default, ``folder`` and then ``unpack.sh``'s default place,
    ``$XDG_CACHE_HOME/aurora-codesearch``) may hold them directly or in ``repos/``.
    """
    if trees is not None:
        if not trees.is_dir():
            raise UsageError(f"{trees}: no such folder (--trees)")
        return trees / "repos" if (trees / "repos").is_dir() else trees
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / UNPACK_DIRNAME
    for place in (folder / "repos", cache / "repos"):
        if place.is_dir():
            return place
    unpack = folder / "unpack.sh"
    raise UsageError(
        f"no source trees for {folder}: neither {folder / 'repos'} nor {cache / 'repos'} exists",
        hint=f"unpack them with `{unpack} DEST` and pass --trees DEST"
        if unpack.is_file()
        else "pass --trees DIR, the folder that holds a <name>/ tree per repository",
    )


def benchmark_folder(tree: Path, repo: Repo) -> str:
    """Return the folder of ``tree`` to index, relative (``.``: all of it).

    That is its ``benchmark_root``, or the whole tree when it has no such folder (the
    tree then holds the benchmark root's contents, and the annotations are relative to it).
    """
    root = repo.benchmark_root
    return root if root is not None and (tree / root).is_dir() else "."


# --- running it ----------------------------------------------------------------------


def evaluate(
    folder: Path,
    config: Config,
    pipeline: Pipeline,
    host: PluginHost,
    mode: str | None,
    progress: Progress,
    *,
    trees: Path | None = None,
    repos: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    store_dir: Path | None = None,
) -> CodesearchReport:
    """Index each selected repository of the set at ``folder`` with ``pipeline`` and score every query.

    ``config`` gives the indexing settings (``[index]``); indexes go to a temporary
    folder, or to ``store_dir/<name>/`` to be kept and reused. A repository without a
    source tree is skipped (and listed) unless it was named in ``repos``.
    """
    dataset = load_set(folder, repos, languages)
    base = find_trees(folder, trees)
    skipped = {}
    for repo in dataset.repos:
        if not (base / repo.name).is_dir():
            if repos:
                raise UsageError(f"{repo.name}: no source tree at {base / repo.name}", hint="pass --trees DIR")
            skipped[repo.name] = f"no source tree at {base / repo.name}"
    todo = [repo for repo in dataset.repos if repo.name not in skipped and repo.queries]
    skipped.update({repo.name: "no queries" for repo in dataset.repos if not repo.queries})
    if not todo:
        raise UsageError(
            f"no repository of {folder} to evaluate", hint="; ".join(f"{n}: {w}" for n, w in skipped.items())
        )
    results, mode_used = [], mode or pipeline.mode
    with tempfile.TemporaryDirectory(prefix="aurora-codesearch-") as scratch:
        for repo in todo:
            root = (store_dir or Path(scratch)) / repo.name
            result, mode_used = _evaluate_repo(repo, base / repo.name, root, config, pipeline, host, mode, progress)
            results.append(result)
    return CodesearchReport(dataset.name, pipeline.name, mode_used, results, dataset.methods, skipped)


def _evaluate_repo(
    repo: Repo,
    tree: Path,
    root: Path,
    config: Config,
    pipeline: Pipeline,
    host: PluginHost,
    mode: str | None,
    progress: Progress,
) -> tuple[RepoResult, str]:
    """Copy ``repo``'s benchmark folder under ``root``, index it there and run its queries."""
    part = benchmark_folder(tree, repo)
    shutil.copytree(
        tree / part, root / part, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(INDEX_DIRNAME)
    )
    report = index_tree(root, config, pipeline, host, progress)
    if report.semantic_error is not None:
        raise report.semantic_error
    request = eval_request(SEARCH_DEPTH, mode)
    store = Store.open(index_dir(root) / DATABASE_NAME)
    searcher = Searcher(root, store, pipeline, host)  # no access history: no activation signal, nothing recorded
    try:
        run_search(searcher, WARM_UP_QUERY, request)
        latencies, scores, mode_used = [], [], mode or pipeline.mode
        with progress.task(f"Querying {repo.name}", total=len(repo.queries), unit="queries") as advance:
            for query in repo.queries:
                started = time.perf_counter()
                response = run_search(searcher, query.text, request)
                latencies.append((time.perf_counter() - started) * 1000)
                check_scorable(response, mode_used)
                mode_used = response.mode
                ranked = [(r.chunk.path, r.chunk.line_start, r.chunk.line_end) for r in response.results]
                scores.append(QueryScore.of(query, ranked))
                advance(1)
    finally:
        searcher.close()
    return RepoResult(repo, report.files, report.chunks, report.elapsed_s, latencies, scores), mode_used
