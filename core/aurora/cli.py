"""The ``aurora`` command line (typer).

Start-up is a feature: this module imports only typer and the standard library at
load time; each command imports what it needs when it runs, so ``aurora --help`` and
``aurora plugins list`` never import numpy, bm25s or any model library.
Errors a user can fix print one line (plus a hint) and exit with a documented code
(docs/cli.md); Ctrl-C exits with 130.
"""

from __future__ import annotations

import enum
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from aurora import __version__
from aurora.errors import EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED, EXIT_NO_RESULTS, AuroraError

if TYPE_CHECKING:
    from aurora.api import Project
    from aurora.indexer import IndexReport

_COMMON = {
    "rich_markup_mode": None,
    "pretty_exceptions_enable": False,
    "no_args_is_help": True,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(
    name="aurora",
    help="Local hybrid search for codebases and notes.\n\n"
    'Index a folder once with `aurora index`, then `aurora search "query"` from anywhere inside it.',
    add_completion=False,
    **_COMMON,  # type: ignore[arg-type]
)
plugins_app = typer.Typer(help="Inspect installed plugins.", **_COMMON)  # type: ignore[arg-type]
config_app = typer.Typer(help="Inspect the configuration.", **_COMMON)  # type: ignore[arg-type]
app.add_typer(plugins_app, name="plugins")
app.add_typer(config_app, name="config")

F = TypeVar("F", bound=Callable[..., Any])


class Mode(enum.StrEnum):
    """Search modes."""

    auto = "auto"
    lexical = "lexical"
    semantic = "semantic"
    hybrid = "hybrid"


class Color(enum.StrEnum):
    """When to colour output."""

    auto = "auto"
    always = "always"
    never = "never"


PipelineOption = Annotated[
    str | None, typer.Option("--pipeline", "-p", help="Named pipeline from the configuration.", show_default=False)
]
BackendOption = Annotated[
    str | None,
    typer.Option("--backend", "-b", help="Use this plugin for every role it can fill.", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _guarded(command: F) -> F:
    """Turn user-fixable errors into one line on stderr and Ctrl-C into exit code 130."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuroraError as exc:
            _error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _error("interrupted; nothing was changed" if command.__name__ == "index" else "interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return run  # type: ignore[return-value]


def _error(message: str, hint: str | None = None) -> None:
    print(f"aurora: error: {message}", file=sys.stderr)
    if hint:
        print(f"  hint: {hint}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"aurora: warning: {message}", file=sys.stderr)


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")


def _version(value: bool) -> None:
    if value:
        print(f"aurora {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Local hybrid search for codebases and notes."""


def _project(start: Path | None, *, exact: bool = False, indexed: bool = False) -> Project:
    """Return the project at or above ``start`` (the current folder when None).

    ``exact`` takes ``start`` itself as the root; ``indexed`` requires an existing index.
    """
    from aurora.api import Project, open_project
    from aurora.errors import NoIndexError, UsageError
    from aurora.layout import find_root

    folder = start or Path.cwd()
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    if exact:
        return Project(folder.resolve())
    if indexed and find_root(folder) is None:
        raise NoIndexError(f"no index at or above {folder}", hint="run `aurora index` in the project root first")
    return open_project(folder)


@app.command()
@_guarded
def index(
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="[PATH]",
            help="Folder to index [default: the indexed folder above the current one, or the current one].",
            show_default=False,
        ),
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-read every file and rebuild all indexes.")] = False,
    pipeline: PipelineOption = None,
    backend: BackendOption = None,
    json_output: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every warning.")] = False,
) -> None:
    """Index a folder: code by function and class, Markdown by section, other text by lines.

    Re-indexing is incremental: unchanged files are skipped, changed and deleted ones
    updated. Honours .gitignore and .auroraignore.
    """
    from aurora.progress import Progress

    project = _project(path, exact=path is not None)
    report = project.index(
        pipeline=pipeline, backend=backend, rebuild=rebuild, progress=Progress.for_terminal(quiet or json_output)
    )
    failure = report.semantic_error
    if json_output:
        _print_json(report.to_dict())
    elif not quiet:
        _print_index_report(project, report, verbose)
    if failure:
        if not json_output:
            _error(failure.message, failure.hint)
        raise typer.Exit(failure.exit_code)


def _print_index_report(project: Project, report: IndexReport, verbose: bool) -> None:
    if report.recreated:
        _warn(f"rebuilt the index from scratch: {report.recreated}")
    shown = report.warnings if verbose else report.warnings[:10]
    for warning in shown:
        _warn(warning)
    if len(shown) < len(report.warnings):
        _warn(f"... and {len(report.warnings) - len(shown):,} more (see --verbose)")
    where = "" if project.root == Path.cwd().resolve() else f"{project.root}: "
    print(where + report.summary())


@app.command("models")
@_guarded
def models_command(
    root: Annotated[Path | None, typer.Option("--root", "-C", help="Project folder [default: current].")] = None,
    json_output: JsonOption = False,
) -> None:
    """List the embedding models of every pipeline and installed embedder, and whether they are on disk.

    Looks at the filesystem only: no model library is imported.
    """
    from aurora.model_report import model_rows

    rows = model_rows(_project(root))
    if json_output:
        _print_json([row._asdict() for row in rows])
        return
    table = [("PIPELINE", "PLUGIN", "MODEL", "AVAILABLE", "WHERE")]
    table += [
        (r.pipeline, r.plugin, r.model, "yes" if r.available else "no", f"{r.source}: {r.path}" if r.path else r.source)
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@app.command()
@_guarded
def search(
    query: Annotated[str, typer.Argument(metavar="QUERY", help="What to look for: words, identifiers or a question.")],
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Number of results [default: 10].", show_default=False)
    ] = None,
    json_output: JsonOption = False,
    files: Annotated[bool, typer.Option("--files", "-l", help="Rank files (best chunk per file).")] = False,
    mode: Annotated[
        Mode | None,
        typer.Option("--mode", "-m", help="auto, lexical, semantic or hybrid [default: the pipeline's, auto]."),
    ] = None,
    pipeline: PipelineOption = None,
    backend: BackendOption = None,
    root: Annotated[
        Path | None,
        typer.Option("--root", "-C", help="Indexed folder [default: found from the current folder upwards]."),
    ] = None,
    color: Annotated[Color, typer.Option("--color", help="Colour the output.")] = Color.auto,
) -> None:
    """Search the index: path:lines, symbol, score and the matching lines of each result.

    Exit status: 0 results found, 1 no results, 2 usage or index error.
    """
    project = _project(root, indexed=True)
    response = project.search(
        query, limit=limit, mode=mode.value if mode else None, pipeline=pipeline, backend=backend, files=files
    )
    if json_output:
        _print_json(response.to_dict())
    else:
        from aurora.render import results_text, use_color

        for warning in response.warnings:
            _warn(warning)
        sys.stdout.write(results_text(response, use_color(color.value, sys.stdout), Path.cwd()))
        if not response.results:
            print(f"no results for {query!r}", file=sys.stderr)
    if not response.results:
        raise typer.Exit(EXIT_NO_RESULTS)


@app.command("eval")
@_guarded
def evaluate(
    dataset: Annotated[
        Path, typer.Argument(metavar="DATASET", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.")
    ],
    split: Annotated[str, typer.Option("--split", help="Qrels split to evaluate.")] = "test",
    mode: Annotated[Mode | None, typer.Option("--mode", "-m", help="Search mode [default: the pipeline's].")] = None,
    pipeline: PipelineOption = None,
    backend: BackendOption = None,
    max_queries: Annotated[
        int | None, typer.Option("--max-queries", min=1, help="Evaluate only the first N queries.")
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Keep the corpus index in this folder and reuse it [default: a temporary one]."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Score a pipeline on a BEIR dataset: nDCG@10, Recall@100 and query latency."""
    from aurora.errors import UsageError
    from aurora.evaluation import evaluate as run_evaluation
    from aurora.progress import Progress

    if not dataset.is_dir():
        raise UsageError(f"{dataset}: no such folder")
    project = _project(None)
    report = run_evaluation(
        dataset,
        split,
        project.pipeline(pipeline, backend),
        project.host,
        mode.value if mode else None,
        Progress.for_terminal(json_output),
        max_queries=max_queries,
        store_dir=store.resolve() if store else None,
    )
    if json_output:
        _print_json(report.to_dict())
    else:
        print(report.text())


@plugins_app.command("list")
@_guarded
def plugins_list(json_output: JsonOption = False) -> None:
    """List installed plugins from their entry points (imports none of them)."""
    from aurora.plugins import discover

    entries = discover()
    if json_output:
        _print_json([entry.to_dict() for entry in entries])
        return
    rows = [("NAME", "ROLE", "DISTRIBUTION", "VERSION", "MODULE")]
    rows += [(e.name, e.role, e.distribution or "-", e.version or "-", e.value) for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@config_app.command("show")
@_guarded
def config_show(
    pipeline: PipelineOption = None,
    backend: BackendOption = None,
    root: Annotated[Path | None, typer.Option("--root", "-C", help="Project folder [default: current].")] = None,
    json_output: JsonOption = False,
) -> None:
    """Print the effective configuration and where each value came from."""
    from aurora.settings_report import effective_settings

    project = _project(root)
    rows = effective_settings(project, pipeline, backend)
    if json_output:
        _print_json(
            {
                "root": str(project.root),
                "sources": project.config.sources,
                "values": {key: {"value": value, "source": source} for key, value, source in rows},
            }
        )
        return
    print(f"# root: {project.root}")
    print(f"# sources, lowest precedence first: {'; '.join(project.config.sources)}")
    width = max(len(f"{key} = {json.dumps(value)}") for key, value, _ in rows)
    for key, value, source in rows:
        print(f"{key} = {json.dumps(value)}".ljust(width) + f"  # {source}")


def main() -> None:
    """Run the CLI; an unexpected exception is a bug and is reported with its traceback."""
    try:
        app(prog_name="aurora")
    except Exception:
        import traceback

        traceback.print_exc()
        _error("internal error: this is a bug in Aurora or one of its plugins; please report it with the traceback")
        sys.exit(EXIT_INTERNAL_ERROR)
