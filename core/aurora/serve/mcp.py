"""``aurora mcp``: Aurora's search, reading, indexing, stats and models as tools for AI coding assistants.

A Model Context Protocol server on stdio, built with the official ``mcp`` Python SDK
(the ``mcp`` extra). Its ``search`` and ``read`` tools ask the root's warm ``aurora serve``
when one runs (sharing its loaded models and indexes) and otherwise work in this process,
which is long-lived too: after the first call its index and model stay loaded. Every
tool goes through the Python API (:mod:`aurora.api`), like the CLI and the server, so
the three answer alike. docs/mcp.md shows how to register it with common clients.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from aurora.errors import AuroraError, BackendNotInstalledError
from aurora.search.options import MCP_OPTIONS, SearchOption, with_option_parameters
from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint

F = TypeVar("F", bound=Callable[..., Any])

INSTRUCTIONS = (
    "Aurora searches the indexed codebase or notes at {root}: BM25 over code-aware tokens, embeddings "
    "when a model is configured, and activation (recently and often used code ranks higher). Use `search` "
    "with words, identifiers or a question (narrow it with `path`, `exclude` and `lang`); results give "
    "path, lines, symbol, score and a snippet whose lines start with their numbers. "
    "Use `read` to get the code of a result you work with: it records the use, so what you read ranks "
    "higher in later searches (a result only shown in a search does not count). "
    "Run `index` after large edits (it is incremental)."
)
#: What the ``read`` tool's parameter means (the JSON schema shows it to the assistant).
READ_TARGET = (
    "A search result as path:line_start-line_end (its lines), path:line (the indexed chunk spanning that "
    "line) or path (the file from its start); the path as search results give it, relative to the project root"
)
#: What the other tools' parameters mean.
QUERY = "Words, identifiers or a question: what the code you look for does or is named"
INCREMENTAL = "true: read only the files changed since the last indexing; false: rebuild the whole index"
TOP = "How many of the most used chunks to list"


def compact(document: dict[str, Any]) -> dict[str, Any]:
    """Return a search's answer as the ``search`` tool gives it: what an assistant uses, nothing twice.

    Per result: path, lines (``START-END``, as ``read`` takes them), symbol (when it has
    one), score, snippet (each line prefixed with its number) and, ranking files, the
    count of matching chunks. Around them: the mode that answered and the warnings.
    """
    results = []
    for result in document["results"]:
        numbered = zip(result["snippet_lines"], result["snippet"].split("\n"), strict=False)
        item = {"path": result["path"], "lines": f"{result['line_start']}-{result['line_end']}"}
        if result["symbol"]:
            item["symbol"] = result["symbol"]
        item["score"] = round(result["score"], 4)
        item["snippet"] = "\n".join(f"{number}: {text}" for number, text in numbered)
        if document["files"]:
            item["matches"] = result["matches"]
        results.append(item)
    return {"mode": document["mode"], "warnings": document["warnings"], "results": results}


class Tools:
    """The tools' work for one root, independent of MCP (so it can be tested and reused)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def search(self, query: str, **options: Any) -> dict[str, Any]:
        """Search through the warm server when one runs for the root, else in this process; answer :func:`compact`.

        ``options`` are the tool's (:data:`aurora.search.options.MCP_OPTIONS`) by name.
        """
        from aurora.serve.client import REPLY_MARGIN_S

        request = {"op": "search", "query": query, "options": options, "output": {"format": "json"}}
        served = self._through_server(request, "response", 120.0 + REPLY_MARGIN_S)
        if served is None:
            import aurora

            served = aurora.open(self.root).search(query, **options, background=True).to_dict()
        return compact(served)

    def read(self, target: str) -> dict[str, Any]:
        """Return the lines of ``target`` (relative to the root) and record their use, as ``aurora read --json``."""
        from aurora.serve.client import REPLY_MARGIN_S

        served = self._through_server({"op": "read", "target": target}, "read", REPLY_MARGIN_S)
        if served is not None:
            return served
        import aurora

        return aurora.open(self.root).read(target).to_dict()

    def _through_server(self, request: dict[str, Any], answer: str, timeout: float) -> dict[str, Any] | None:
        """Send ``request`` (its op and fields) to the server; return its ``answer`` (errors raised), or None.

        None when no server can answer: the tool then works in this process.
        """
        from aurora.serve.client import ask

        request = {"v": protocol.VERSION, "root": str(self.root), **request}
        reply = ask(Endpoint(str(self.root)), request, timeout=timeout, quiet=True)
        if reply is None:
            return None
        if not reply["ok"]:
            raise AuroraError(str(reply["error"].get("message")), reply["error"].get("hint"))
        return reply[answer]

    def index(self, incremental: bool = True) -> dict[str, Any]:
        """Bring the index up to date (or rebuild it) and report what was done."""
        import aurora

        return aurora.open(self.root).index(rebuild=not incremental).to_dict()

    def stats(self, top: int = 10) -> dict[str, Any]:
        """Return the index's size, models and most used chunks."""
        import aurora
        from aurora.cli.stats import index_stats

        return index_stats(aurora.open(self.root), top)

    def models(self) -> list[dict[str, Any]]:
        """Return every configured model, where it was found and whether it is available."""
        import aurora
        from aurora.semantic.report import model_rows

        return [row._asdict() for row in model_rows(aurora.open(self.root))]


def serve_stdio(root: Path) -> None:
    """Run the MCP server for ``root`` on stdin/stdout until the client closes it."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:
        raise BackendNotInstalledError("mcp", "aurora-search", "mcp") from exc
    from aurora import __version__

    tools = Tools(root)
    app = MCPServer(
        name="aurora", version=__version__, instructions=INSTRUCTIONS.format(root=root), log_level="WARNING"
    )

    def guarded(work: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return work(*args, **kwargs)
        except AuroraError as exc:  # the assistant reads the message and the fix
            raise ToolError(exc.message + (f" (hint: {exc.hint})" if exc.hint else "")) from None

    @app.tool()
    @_with_search_options
    @_described(query=QUERY)
    def search(query: str, **options: Any) -> dict[str, Any]:
        """Search the codebase with words, identifiers or a question.

        Returns the mode that answered, warnings, and ranked results: path, lines (START-END,
        as `read` takes them), symbol, score and snippet (lines prefixed with their numbers).
        `path`, `exclude` (globs, as .gitignore) and `lang` narrow the files searched.
        """
        return guarded(tools.search, query, **options)

    @app.tool()
    @_described(target=READ_TARGET)
    def read(target: str) -> dict[str, Any]:
        """Read the code of a search result you use: its lines, and the record that you used them.

        Returns path, line_start, line_end, file_lines, text (at most 400 lines and 64 KB;
        truncated says when cut) and the indexed chunks it covers. What you read ranks higher
        in later searches; call it for the results you work with, not for every result shown.
        """
        return guarded(tools.read, target)

    @app.tool()
    @_described(incremental=INCREMENTAL)
    def index(incremental: bool = True) -> dict[str, Any]:
        """Update the index after edits (only changed files are read again); incremental=false rebuilds it."""
        return guarded(tools.index, incremental)

    @app.tool()
    @_described(top=TOP)
    def stats(top: int = 10) -> dict[str, Any]:
        """Show the index: files, chunks, size on disk, embedding models and the `top` most used chunks."""
        return guarded(tools.stats, top)

    @app.tool()
    def models() -> list[dict[str, Any]]:
        """List the configured embedding models, where each was found and whether it is on this machine."""
        return guarded(tools.models)

    app.run("stdio")


def _described(**descriptions: str) -> Callable[[F], F]:
    """Give each named parameter of a tool its description, which the SDK puts in the tool's JSON schema."""
    import inspect

    from pydantic import Field

    def describe(tool: F) -> F:
        signature = inspect.signature(tool, eval_str=True)
        parameters = [
            parameter.replace(annotation=Annotated[parameter.annotation, Field(description=descriptions[name])])
            if name in descriptions
            else parameter
            for name, parameter in signature.parameters.items()
        ]
        tool.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return tool

    return describe


def _with_search_options(tool: F) -> F:
    """Give ``tool(query, **options)`` one parameter per MCP search option, which the SDK reads for the JSON schema.

    Each has its help as description, its choices as an enum, its limits as minimum and maximum;
    a repeatable one is an array.
    An option whose default is None may be None (not given), a repeatable one too; the
    schema shows the others' defaults.
    """
    return with_option_parameters(tool, MCP_OPTIONS, _schema_type, _schema_default)  # type: ignore[return-value]


def _schema_type(option: SearchOption) -> Any:
    """Return the annotation of a search option that the MCP SDK makes its JSON schema from."""
    from pydantic import Field

    kind: Any = Literal[option.choices] if option.choices else option.kind
    if option.repeated:
        kind = list[kind]
    if _schema_default(option) is None:
        kind = kind | None
    return Annotated[kind, Field(description=option.help, ge=option.minimum, gt=option.above, le=option.maximum)]


def _schema_default(option: SearchOption) -> Any:
    """Return a search option's default in the MCP schema: None (not given) for a repeatable one."""
    return None if option.repeated else option.default
