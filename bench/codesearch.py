"""Code search quality on the codesearch set (semble's benchmark: 54 repositories, 18 languages) vs published engines.

    python bench/codesearch.py [DATA_DIR] [--trees DIR] [--repos a,b] [--languages x,y] [--backend NAME]
                               [--config EXTRA.toml]

DATA_DIR is the set (default: ../shared/data/codesearch next to the repository). Its
source trees are unpacked once with the set's own unpack.sh into bench/corpus/codesearch
unless --trees names a folder. The pipeline is written out here (bm25s; with --backend,
that plugin's hybrid search) and the user's configuration is not read, so a rerun on the
same commit and data gives the same scores. Prints a Markdown table per language, ours in
both protocols beside the published semble, BM25, CodeRankEmbed hybrid and ColGREP figures
of the same repositories, and writes bench/results/codesearch-<pipeline>.json with the
whole report, the configuration, the Aurora revision and the data's checksums.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import RESULTS, save

import aurora
from aurora.cli.progress import Progress
from aurora.evaluation.codesearch import CodesearchReport, Summary, evaluate

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPOSITORY.parent / "shared" / "data" / "codesearch"
DEFAULT_TREES = REPOSITORY / "bench" / "corpus" / "codesearch"
LEXICAL = '[pipelines.default]\nmode = "lexical"\n\n[pipelines.default.lexical]\nplugin = "bm25s"\n'
HYBRID = '[pipelines.default]\nmode = "hybrid"\n\n[pipelines.default.lexical]\nplugin = "bm25s"\n'
COLUMNS = {"semble": "semble", "bm25_raw": "BM25", "coderankembed_hybrid": "CodeRankEmbed hybrid", "colgrep": "ColGREP"}


def main() -> None:
    """Evaluate the pipeline on the set and print the per-language table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--trees", type=Path, help="folder holding repos/<name>/ (default: unpack into bench/corpus)")
    parser.add_argument("--repos", help="comma-separated repositories (default: all)")
    parser.add_argument("--languages", help="comma-separated languages (default: all)")
    parser.add_argument("--backend", help="embedder plugin for a hybrid run (default: lexical only)")
    parser.add_argument("--stores", type=Path, help="keep each repository's index here and reuse it (default: none)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--config", type=Path, help="TOML appended to the pipeline written here, for ablations ([index], options)"
    )
    args = parser.parse_args()
    config = HYBRID if args.backend else LEXICAL
    if args.config:
        config += "\n" + args.config.read_text(encoding="utf-8")
    label = f"hybrid-{args.backend}" if args.backend else "lexical"
    trees = args.trees or unpack(args.data)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aurora-bench-codesearch-") as scratch:
        os.environ["XDG_CONFIG_HOME"] = str(Path(scratch) / "config")  # no user configuration
        project = Path(scratch) / "project"
        project.mkdir()
        (project / "aurora.toml").write_text(config, encoding="utf-8")
        report = run(args, project, trees)
    wall_s = time.perf_counter() - started
    table = markdown(report)
    print(table)
    print(f"\nwall time {wall_s:.0f} s")
    document = {
        "pipeline": label,
        "config": config,
        "backend": args.backend,
        "command": sys.argv,
        "aurora": revision(),
        "data": {"folder": str(args.data), "sha256": checksums(args.data)},
        "trees": str(trees),
        "wall_s": round(wall_s, 1),
        "markdown": table,
        "report": report.to_dict(),
    }
    print(f"saved {save(f'codesearch-{label}', document, args.results)}")


def unpack(data: Path) -> Path:
    """Unpack the set's trees into bench/corpus/codesearch (once) with its own script; return the folder."""
    done = subprocess.run(["sh", str(data / "unpack.sh"), str(DEFAULT_TREES)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"cannot unpack the trees: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def run(args: argparse.Namespace, project: Path, trees: Path) -> CodesearchReport:
    """Run the evaluation in this process with the project's pipeline."""
    opened = aurora.open(project)
    return evaluate(
        args.data,
        opened.config,
        opened.pipeline(backend=args.backend),
        opened.host,
        None,
        Progress.for_terminal(),
        trees=trees,
        repos=args.repos.split(",") if args.repos else None,
        languages=args.languages.split(",") if args.languages else None,
        store_dir=args.stores.resolve() if args.stores else None,
    )


def markdown(report: CodesearchReport) -> str:
    """Return the per-language table (plus categories, overall, latency and indexing) in Markdown."""
    methods = [method for method in COLUMNS if method in report.methods]
    head = "| language | repos | ours, file (a) | ours, chunk (b) | " + " | ".join(COLUMNS[m] for m in methods) + " |"
    lines = [head, "|---|---:|---:|---:|" + "---:|" * len(methods)]

    def row(label: str, summary: Summary) -> str:
        ours = " | ".join(_cell(summary.ndcg_at_10[p]) for p in ("file", "chunk"))
        published = [summary.published.get(m, {}) for m in methods]
        cells = [_cell(e.get("ndcg_at_10"), e.get("repos"), summary.repos) for e in published]
        return f"| {label} | {summary.repos} | {ours} | " + " | ".join(cells) + " |"

    lines += [row(language, summary) for language, summary in report.per_language().items()]
    lines.append(row("**all**", report.overall()))
    lines += ["", "| category | repos | queries | ours, file (a) | ours, chunk (b) |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {name} | {s.repos} | {s.queries} | {_cell(s.ndcg_at_10['file'])} | {_cell(s.ndcg_at_10['chunk'])} |"
        for name, s in report.per_category().items()
    ]
    document = report.to_dict()
    lines += [
        "",
        f"{document['overall']['queries']:,} queries; query latency p50 {document['latency_p50_ms']:.1f} ms, "
        f"p95 {document['latency_p95_ms']:.1f} ms; indexing {document['index_s']:.0f} s "
        f"({document['files']:,} files, {document['chunks']:,} chunks); pipeline {report.pipeline}, mode {report.mode}",
        "(a) each result's file once, top 10 files; (b) top 10 results, line spans checked, as semble, BM25 and "
        "CodeRankEmbed were scored (ColGREP: file level). A published mean over fewer repositories says how many.",
    ]
    if report.skipped:
        lines.append("Skipped: " + "; ".join(f"{name} ({why})" for name, why in report.skipped.items()) + ".")
    return "\n".join(lines)


def _cell(value: float | None, count: int | None = None, expected: int | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" + (f" ({count})" if count is not None and count != expected else "")


def revision() -> dict[str, object]:
    """Return the Aurora commit and whether the working tree had changes."""

    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=REPOSITORY, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "HEAD") or None, "modified": bool(git("status", "--porcelain"))}


def checksums(data: Path) -> dict[str, str]:
    """Return the SHA-256 of the set's repos.json, annotations (together) and trees archive."""
    annotations = hashlib.sha256()
    for path in sorted((data / "annotations").glob("*.json")):
        annotations.update(path.name.encode() + b"\0" + path.read_bytes())
    sums = {"annotations": annotations.hexdigest()}
    for name in ("repos.json", "repos.tar.gz"):
        if (data / name).is_file():
            sums[name] = hashlib.sha256((data / name).read_bytes()).hexdigest()
    return sums


if __name__ == "__main__":
    main()
