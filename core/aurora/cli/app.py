"""The ``aurora`` command line (typer).

Start-up is a feature: this module imports only typer and the standard library at
load time; each command imports what it needs when it runs, so ``aurora --help`` and
``aurora plugins list`` never import numpy, bm25s or any model library.
Errors a user can fix print one line (plus a hint) and exit with a documented code
(docs/cli.md); Ctrl-C exits with 130.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer

from aurora import __version__
from aurora.cli import console
from aurora.cli.extensions import PluginCommandGroup
from aurora.errors import EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED, EXIT_NO_RESULTS, AuroraError
from aurora.search.options import CLI_OPTIONS, MAX_LIMIT, SearchOption, with_option_parameters

if TYPE_CHECKING:
    from aurora.api import Project
    from aurora.index.indexer import IndexReport

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
    add_completion=True,  # --install-completion / --show-completion; typer imports its completion code when used
    **_COMMON,  # type: ignore[arg-type]
)
plugins_app = typer.Typer(help="Inspect installed plugins.", **_COMMON)  # type: ignore[arg-type]
config_app = typer.Typer(help="Inspect the configuration.", **_COMMON)  # type: ignore[arg-type]
app.add_typer(plugins_app, name="plugins")
app.add_typer(config_app, name="config")
models_app = typer.Typer(
    help="List the embedding models of every pipeline and whether they are on this machine; fetch them.",
    cls=PluginCommandGroup,  # plus the commands plugins contribute as models.NAME (aurora.command entry points)
    **{**_COMMON, "no_args_is_help": False},  # type: ignore[arg-type]
)
app.add_typer(models_app, name="models")

F = TypeVar("F", bound=Callable[..., Any])


def _cli_default(option: SearchOption) -> Any:
    """Return an `aurora search` option's value when not given.

    None where its ``[search]`` setting then applies, and for a repeatable option (none given).
    """
    return None if option.setting or option.repeated else option.default


def _typer_option(option: SearchOption) -> Any:
    """Return the typer annotation of an `aurora search` option: its type, flags, limits, choices and help."""
    kind: Any = Path if option.kind is os.PathLike else option.kind
    parser = None
    if option.repeated:  # typer takes no list[Literal]: a parser checks each value against the choices
        kind = list[kind]
        parser = _one_of(option) if option.choices else None
    elif option.choices:
        kind = Literal[option.choices]
    if _cli_default(option) is None:
        kind = kind | None
    declared = typer.Option(
        *option.flags,
        help=option.help,
        min=option.minimum,
        max=option.maximum if option.kind is int else None,  # a float's limits: check_request, with its unit
        metavar=option.metavar,
        parser=parser,
    )
    return Annotated[kind, declared]


def _one_of(option: SearchOption) -> Callable[[str], str]:
    """Return a parser of one value of a repeatable option that refuses a value outside its choices, listing them."""

    def parse(value: str) -> str:
        if value not in option.choices:
            raise typer.BadParameter(f"'{value}' is not one of {', '.join(option.choices)}")
        return value

    return parse


def _with_search_options(command: F) -> F:
    """Give ``command(query, **options)`` a typer option per `aurora search` option of the table, in its order."""
    return with_option_parameters(command, CLI_OPTIONS, _typer_option, _cli_default)  # type: ignore[return-value]


_SEARCH_OPTIONS = {option.name: option for option in CLI_OPTIONS}
#: Options other commands share with `aurora search`.
PipelineOption = _typer_option(_SEARCH_OPTIONS["pipeline"])
BackendOption = _typer_option(_SEARCH_OPTIONS["backend"])
JsonOption = _typer_option(_SEARCH_OPTIONS["json"])
ModeOption = _typer_option(_SEARCH_OPTIONS["mode"])


def _guarded(command: F) -> F:
    """Turn user-fixable errors into one line on stderr and Ctrl-C into exit code 130."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuroraError as exc:
            console.error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            console.error("interrupted; nothing was changed" if command.__name__ == "index" else "interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return run  # type: ignore[return-value]


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Print ``rows`` under ``header`` in aligned columns."""
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        console.line("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


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
    from aurora.common.layout import find_root
    from aurora.errors import NoIndexError, UsageError

    folder = start or Path.cwd()
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    if indexed and not exact and find_root(folder) is None:
        raise NoIndexError(f"no index at or above {folder}", hint="run `aurora index` in the project root first")
    project = Project(folder.resolve()) if exact else open_project(folder)
    for notice in project.config.notices:
        console.warn(notice)
    return project


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
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep the index fresh: re-index what changes until Ctrl-C.")
    ] = False,
) -> None:
    """Index a folder: code by function and class, Markdown by section, other text by lines.

    Re-indexing is incremental: unchanged files are skipped, changed and deleted ones
    updated. Honours .gitignore and .auroraignore.
    """
    from aurora.cli.progress import Progress

    project = _project(path, exact=path is not None)
    if watch:
        from aurora.index.watch import watch_in_foreground

        raise typer.Exit(watch_in_foreground(project, pipeline=pipeline, backend=backend, as_json=json_output))
    report = project.index(
        pipeline=pipeline, backend=backend, rebuild=rebuild, progress=Progress.for_terminal(quiet or json_output)
    )
    failure = report.semantic_error
    if json_output:
        console.print_json(report.to_dict())
    elif not quiet:
        _print_index_report(project, report, verbose)
    if failure:
        if not json_output:
            console.error(failure.message, failure.hint)
        raise typer.Exit(failure.exit_code)


def _print_index_report(project: Project, report: IndexReport, verbose: bool) -> None:
    if report.recreated:
        console.warn(f"rebuilt the index from scratch: {report.recreated}")
    shown = report.warnings if verbose else report.warnings[:10]
    for warning in shown:
        console.warn(warning)
    if len(shown) < len(report.warnings):
        console.warn(f"... and {len(report.warnings) - len(shown):,} more (see --verbose)")
    where = "" if project.root == Path.cwd().resolve() else f"{project.root}: "
    console.line(where + report.summary())


@models_app.callback(invoke_without_command=True)
@_guarded
def models_command(
    context: typer.Context,
    root: Annotated[Path | None, typer.Option("--root", help="Project folder [default: current].")] = None,
    json_output: JsonOption = False,
) -> None:
    """List the embedding models of every pipeline and installed embedder, and whether they are on disk.

    Looks at the filesystem only: no model library is imported.
    """
    if context.invoked_subcommand is not None:
        return
    from aurora.semantic.report import model_rows

    rows = model_rows(_project(root))
    if json_output:
        console.print_json([row._asdict() for row in rows])
        return
    _print_table(
        ("PIPELINE", "PLUGIN", "MODEL", "AVAILABLE", "WHERE"),
        [
            (
                r.pipeline,
                r.plugin,
                r.model,
                "yes" if r.available else "no",
                f"{r.source}: {r.path}" if r.path else r.source,
            )
            for r in rows
        ],
    )


@models_app.command("fetch")
@_guarded
def models_fetch(
    pipeline: PipelineOption = None,
    backend: BackendOption = None,
    root: Annotated[Path | None, typer.Option("--root", help="Project folder [default: current].")] = None,
) -> None:
    """Download the pipeline's model (the library's usual way; needs the network) unless it is already here."""
    from aurora.common.layout import index_dir
    from aurora.semantic import vectors

    project = _project(root)
    role = project.pipeline(pipeline, backend).semantic(index_dir(project.root))
    location = vectors.locate(project.host, role)
    if location is None:
        print(f"downloading {console.visible(role.model_id)} with {role.embedder.name} ...", file=sys.stderr)
        vectors.load_embedder(project.host, role, None)
        location = vectors.locate(project.host, role)
    where = f"{location.source}: {location.path}" if location else "in the library's own cache"
    console.line(f"{role.model_id} ({role.embedder.name}) is on this machine, {where}")


@app.command()
@_guarded
def feedback(
    targets: Annotated[
        list[str],
        typer.Argument(metavar="RESULT...", help="PATH:START-END as `aurora search` shows it, PATH:LINE or PATH."),
    ],
    root: Annotated[Path | None, typer.Option("--root", help="Indexed folder [default: found upwards].")] = None,
    json_output: JsonOption = False,
) -> None:
    """Mark results as useful: they rank higher in later searches (ACT-R activation, docs/activation.md)."""
    from aurora.activation.feedback import mark_useful
    from aurora.common.layout import DATABASE_NAME, index_dir
    from aurora.errors import UsageError
    from aurora.index.store import Store

    project = _project(root, indexed=True)
    usage = project.usage()
    if usage is None:
        raise UsageError("activation is off", hint="set enabled = true under [activation] in aurora.toml")
    store = Store.open(index_dir(project.root) / DATABASE_NAME)
    try:
        marked = mark_useful(store, usage, project.root, targets, Path.cwd())
    finally:
        store.close()
        usage.close()
    if json_output:
        console.print_json(
            [
                {
                    "path": m.chunk.path,
                    "line_start": m.chunk.line_start,
                    "line_end": m.chunk.line_end,
                    "symbol": m.chunk.symbol,
                    "probability": round(m.probability, 4),
                }
                for m in marked
            ]
        )
        return
    for m in marked:
        symbol = f"  {m.chunk.symbol}" if m.chunk.symbol else ""
        console.line(
            f"marked {m.chunk.path}:{m.chunk.line_start}-{m.chunk.line_end}{symbol}  (activation {m.probability:.2f})"
        )


@app.command()
@_guarded
def read(
    target: Annotated[
        str,
        typer.Argument(
            metavar="RESULT",
            help="PATH:LINE (the chunk spanning that line), PATH:START-END or PATH, as `aurora search` shows it.",
        ),
    ],
    root: Annotated[Path | None, typer.Option("--root", help="Indexed folder [default: found upwards].")] = None,
    json_output: JsonOption = False,
) -> None:
    """Print an indexed chunk or lines of a file, and record that you used them: they rank higher later.

    At most 400 lines and 64 KB are printed; a note on stderr says where to read on. Only
    files in the index, inside its folder, can be read (docs/activation.md).
    """
    project = _project(root, indexed=True)
    passage = project.read(target, cwd=Path.cwd())
    if json_output:
        console.print_json(passage.to_dict())
        return
    for warning in passage.warnings:
        console.warn(warning)
    console.line(passage.text)
    if passage.truncated:
        from aurora.activation.reading import MAX_BYTES, MAX_LINES

        rest = f"{os.path.relpath(project.root / passage.path)}:{passage.line_end + 1}-{passage.file_lines}"
        console.note(
            f"printed lines {passage.line_start}-{passage.line_end} of {passage.file_lines:,} (at most "
            f"{MAX_LINES} lines and {MAX_BYTES // 1024} KB at a time); `aurora read {rest}` prints on"
        )


@app.command()
@_guarded
def stats(
    root: Annotated[Path | None, typer.Option("--root", help="Indexed folder [default: found upwards].")] = None,
    top: Annotated[int, typer.Option("--top", min=0, max=MAX_LIMIT, help="Most active chunks to list.")] = 10,
    json_output: JsonOption = False,
) -> None:
    """Show the index: files, chunks, size on disk, embedding models and the most used chunks."""
    from aurora.cli.stats import index_stats, model_text

    document = index_stats(_project(root, indexed=True), top)
    if json_output:
        console.print_json(document)
        return
    sizes = document["size_bytes"]
    console.line(f"index      {document['root']}")
    console.line(f"files      {document['files']:,}   chunks {document['chunks']:,}")
    parts = ", ".join(f"{name} {_megabytes(size)}" for name, size in sizes.items() if name != "total" and size)
    console.line(f"on disk    {_megabytes(sizes['total'])} ({parts})")
    for model in document["models"]:
        console.line(f"model      {model_text(model, document['chunks'])}")
    if not document["models"]:
        console.line("model      none (lexical only)")
    console.line(f"accesses   {document['accesses']:,} recorded")
    for item in document["most_active"]:
        ago = _ago(item["last_access_s_ago"])
        count = f"{item['accesses']:g} access" + ("" if item["accesses"] == 1 else "es")
        console.line(f"  {item['probability']:.2f}  {item['chunk']}  ({count}, last {ago} ago)")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _ago(seconds: float) -> str:
    for unit, length in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{seconds / length:.0f} {unit}"
    return f"{seconds:.0f} s"


@app.command()
@_guarded
@_with_search_options
def search(
    query: Annotated[str, typer.Argument(metavar="QUERY", help="What to look for: words, identifiers or a question.")],
    **options: Any,
) -> None:
    """Search the index: path:lines, symbol, score and the matching lines of each result.

    A running `aurora serve` for the index answers (models loaded, fast); otherwise the
    search runs here. With an embedder the model loads in the background while BM25
    ranks; a search that cannot use it (still loading, not downloaded, not installed,
    broken) answers lexically and says why. Exit status: 0 results found, 1 no results,
    2 usage or index error.
    """
    from aurora.cli.progress import Progress
    from aurora.errors import UsageError
    from aurora.serve.client import output_request, print_answer

    if options["json"] and options["vimgrep"]:
        raise UsageError("--json and --vimgrep do not go together")
    project = _project(options["root"], indexed=True)
    if not options["no_server"]:
        from aurora.serve.autostart import maybe_start_server

        maybe_start_server(project, sys.stdout)
    response = project.search(
        query,
        **{option.name: options[option.name] for option in CLI_OPTIONS if option.request},
        background=False,  # this process exits after answering: it loads a model only to wait for it
        waiting=Progress.for_terminal(False).spinner,
    )
    output = output_request(options, sys.stdout)
    text = None
    if not options["json"]:
        from aurora.cli.render import output_text

        text = output_text(response, output, Path.cwd())
    code = print_answer(response.to_dict(), text, options["json"])
    if code:
        raise typer.Exit(code)


@app.command()
@_guarded
def serve(
    root: Annotated[Path | None, typer.Option("--root", help="Indexed folder [default: found upwards].")] = None,
    http: Annotated[
        str | None,
        typer.Option(
            "--http",
            metavar="[HOST:]PORT",
            help="Also answer JSON over HTTP; a bare PORT listens on 127.0.0.1 only.",
            show_default=False,
        ),
    ] = None,
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            "--idle-timeout",
            metavar="SECONDS",
            help="Stop after this long without a request, 0: never [default: [server] idle_timeout, 1800].",
            show_default=False,
        ),
    ] = None,
    status: Annotated[bool, typer.Option("--status", help="Show the running server of the index and exit.")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the running server of the index.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Keep the index, its models and caches loaded, and answer every `aurora search` for it fast.

    Listens on a Unix socket only you can open; `aurora search` uses it by itself.
    Stops on Ctrl-C, `aurora serve --stop`, or after --idle-timeout seconds without a request.
    """
    from aurora.errors import UsageError
    from aurora.serve.endpoint import Endpoint

    project = _project(root, indexed=True)
    endpoint = Endpoint(str(project.root))
    if status or stop:
        from aurora.serve.client import server_status, stop_server

        if status and stop:
            raise UsageError("--status and --stop do not go together")
        if stop:
            stopped = stop_server(endpoint)
            console.line(f"stopped the server of {project.root}" if stopped else f"no server runs for {project.root}")
            return
        document = server_status(endpoint)
        if json_output:
            console.print_json(document)
        elif document is None:
            console.line(f"no server runs for {project.root}")
        else:
            _print_server_status(document)
        if document is None:
            raise typer.Exit(EXIT_NO_RESULTS)
        return
    from aurora.serve.server import WarmServer, install_signal_handlers, parse_http_address

    timeout = idle_timeout if idle_timeout is not None else project.config.get("server", "idle_timeout")
    if not 0 <= timeout <= 604_800:
        raise UsageError(f"--idle-timeout must be from 0 to 604800 seconds (got {timeout:g})")
    server = WarmServer(
        project.root,
        idle_timeout=timeout,
        workers=project.config.get("server", "workers"),
        http=parse_http_address(http) if http is not None else None,
        endpoint=endpoint,
        watch=project.config.get("server", "watch"),
    )
    install_signal_handlers(server)
    server.run()


def _print_server_status(document: dict[str, Any]) -> None:
    console.line(f"server     pid {document['pid']}, up {_ago(document['uptime_s'])}, for {document['root']}")
    console.line(f"socket     {document['socket']}" + (f"   http {document['http']}" if document.get("http") else ""))
    console.line(f"requests   {document['requests']:,} ({document['errors']:,} errors), {document['workers']} workers")
    idle = document["idle_timeout_s"]
    console.line(f"memory     {document['rss_mb']} MB   idle stop {'never' if not idle else _ago(idle)}")
    for model in document["models"]:
        took = f", loaded in {model['load_s']:.2f} s" if model["load_s"] is not None else ""
        console.line(f"model      {model['model']}: {model['state']}{took}")


@app.command()
@_guarded
def mcp(
    root: Annotated[Path | None, typer.Option("--root", help="Indexed folder [default: found upwards].")] = None,
) -> None:
    """Serve the index to AI coding assistants: a Model Context Protocol server on stdin/stdout.

    Tools: search, read, index, stats, models. Uses a running `aurora serve` when there is one.
    Register it with your client as the command `aurora mcp --root /path/to/project` (docs/mcp.md).
    """
    from aurora.serve.mcp import serve_stdio

    serve_stdio(_project(root).root)


@app.command("eval")
@_guarded
def evaluate(
    dataset: Annotated[
        Path,
        typer.Argument(
            metavar="DATASET",
            help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) or code-search set "
            "(repos.json, annotations/).",
        ),
    ],
    split: Annotated[str, typer.Option("--split", help="Qrels split to evaluate.")] = "test",
    mode: ModeOption = None,
    pipeline: PipelineOption = None,
    backend: BackendOption = None,
    max_queries: Annotated[
        int | None, typer.Option("--max-queries", min=1, help="Evaluate only the first N queries.")
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Keep the corpus index in this folder and reuse it [default: a temporary one]."),
    ] = None,
    trees: Annotated[
        Path | None,
        typer.Option(
            "--trees",
            help="Code-search set: folder of <name>/ or repos/<name>/ trees "
            "[default: DATASET/repos, then $XDG_CACHE_HOME/aurora-codesearch].",
        ),
    ] = None,
    repos: Annotated[
        str | None, typer.Option("--repos", help="Code-search set: comma-separated repositories [default: all].")
    ] = None,
    languages: Annotated[
        str | None, typer.Option("--languages", help="Code-search set: comma-separated languages [default: all].")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Score a pipeline on a BEIR dataset (nDCG@10, Recall@100, latency) or a code-search set (nDCG@10).

    A code-search set is scored per repository, language and query category, in both
    protocols (files de-duplicated, and chunks as published), beside published engines.
    """
    from aurora.cli.progress import Progress
    from aurora.errors import UsageError
    from aurora.evaluation import codesearch
    from aurora.evaluation.beir import evaluate as run_evaluation

    if not dataset.is_dir():
        raise UsageError(f"{dataset}: no such folder")
    project = _project(None)
    progress = Progress.for_terminal(json_output)
    if codesearch.is_codesearch_folder(dataset):
        if max_queries:
            raise UsageError("--max-queries applies to BEIR folders")
        report = codesearch.evaluate(
            dataset,
            project.config,
            project.pipeline(pipeline, backend),
            project.host,
            mode,
            progress,
            trees=trees,
            repos=repos.split(",") if repos else None,
            languages=languages.split(",") if languages else None,
            store_dir=store.resolve() if store else None,
        )
    elif trees or repos or languages:
        raise UsageError("--trees, --repos and --languages apply to code-search sets (repos.json, annotations/)")
    else:
        report = run_evaluation(
            dataset,
            split,
            project.pipeline(pipeline, backend),
            project.host,
            mode,
            progress,
            max_queries=max_queries,
            store_dir=store.resolve() if store else None,
        )
    if json_output:
        console.print_json(report.to_dict())
    else:
        console.line(report.text())


@plugins_app.command("list")
@_guarded
def plugins_list(json_output: JsonOption = False) -> None:
    """List installed plugins from their entry points (imports none of them)."""
    from aurora.host.registry import discover

    entries = discover()
    if json_output:
        console.print_json([entry.to_dict() for entry in entries])
        return
    _print_table(
        ("NAME", "ROLE", "DISTRIBUTION", "VERSION", "MODULE"),
        [(e.name, e.role, e.distribution or "-", e.version or "-", e.value) for e in entries],
    )


@config_app.command("show")
@_guarded
def config_show(
    pipeline: PipelineOption = None,
    backend: BackendOption = None,
    root: Annotated[Path | None, typer.Option("--root", help="Project folder [default: current].")] = None,
    json_output: JsonOption = False,
) -> None:
    """Print the effective configuration and where each value came from."""
    from aurora.config.report import effective_settings

    project = _project(root)
    rows = effective_settings(project, pipeline, backend)
    if json_output:
        console.print_json(
            {
                "root": str(project.root),
                "sources": project.config.sources,
                "values": {key: {"value": value, "source": source} for key, value, source in rows},
            }
        )
        return
    console.line(f"# root: {project.root}")
    console.line(f"# sources, lowest precedence first: {'; '.join(project.config.sources)}")
    width = max(len(f"{key} = {json.dumps(value)}") for key, value, _ in rows)
    for key, value, source in rows:
        console.line(f"{key} = {json.dumps(value)}".ljust(width) + f"  # {source}")


def main() -> None:
    """Run the CLI; an unexpected exception is a bug and is reported with its traceback."""
    try:
        app(prog_name="aurora")
    except SystemExit as exit_:
        _leave_loads_behind(exit_.code)
        raise
    except Exception:
        import traceback

        traceback.print_exc()
        console.error(
            "internal error: this is a bug in Aurora or one of its plugins; please report it with the traceback"
        )
        _leave_loads_behind(EXIT_INTERNAL_ERROR)
        sys.exit(EXIT_INTERNAL_ERROR)


def _leave_loads_behind(code: object) -> None:
    """Exit at once, skipping interpreter teardown, once a model was loaded or is loading in the background.

    The answer is out and everything the command wrote is committed; what remains is
    tearing down ONNX Runtime or PyTorch (their thread pools and hundreds of modules),
    which took a quarter of a second here, or, under a thread that is halfway through
    importing torch, seconds or a crash. The model is of no more use to this process.
    """
    loader_module = sys.modules.get("aurora.semantic.loader")
    if loader_module is None or not loader_module.loader().used():
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head): the answer was read or is not wanted
            pass
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))
