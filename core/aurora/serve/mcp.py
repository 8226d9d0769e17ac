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
from typing import Annotated, Any, TypeVar

from aurora.errors import AuroraError, BackendNotInstalledError
from aurora.search.options import MCP_OPTIONS, with_option_parameters
from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint

F = TypeVar("F", bound=Callable[..., Any])

INSTRUCTIONS = (
    "Aurora searches the indexed codebase or notes at {root}: BM25 over code-aware tokens, embeddings "
    "when a model is configured, and activation (recently and often used code ranks higher). Use `search` "
    "with words, identifiers or a question; results give path, line range, symbol, snippet and scores. "
    "Use `read` to get the code of a result you work with: it records the use, so what you read ranks "
    "higher in later searches (a result only shown in a search does not count). "
    "Run `index` after large edits (it is incremental)."
)
#: What the ``read`` tool's parameter means (the JSON schema shows it to the assistant).
READ_TARGET = (
    "A search result as path:line_start-line_end (its lines), path:line (the indexed chunk spanning that "
    "line) or path (the file from its start); the path as search results give it, relative to the project root"
)


class Tools:
    """The tools' work for one root, independent of MCP (so it can be tested and reused)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def search(self, query: str, **options: Any) -> dict[str, Any]:
        """Search through the warm server when one runs for the root, else in this process.

        ``options`` are the tool's (:data:`aurora.search.options.MCP_OPTIONS`) by name.
        """
        from aurora.serve.client import REPLY_MARGIN_S

        request = {"op": "search", "query": query, "options": options, "output": {"format": "json"}}
        served = self._through_server(request, "response", 120.0 + REPLY_MARGIN_S)
        if served is not None:
            return served
        import aurora

        response = aurora.open(self.root).search(query, **options, background=True)
        return response._replace(answered_by="mcp").to_dict()

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
    def search(query: str, **options: Any) -> dict[str, Any]:
        """Search the codebase with words, identifiers or a question.

        Returns ranked chunks with path, line_start, line_end, symbol, snippet and per-signal
        scores. `mode` is auto, lexical, semantic or hybrid; `files` ranks files instead of
        chunks; `pipeline` names a configured pipeline.
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
    def index(incremental: bool = True) -> dict[str, Any]:
        """Update the index after edits (only changed files are read again); incremental=false rebuilds it."""
        return guarded(tools.index, incremental)

    @app.tool()
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
            for name, parameter in signature.parameters.items()
        ]
        tool.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return tool

    return describe


def _with_search_options(tool: F) -> F:
    """Give ``tool(query, **options)`` one parameter per MCP search option, which the SDK reads for the JSON schema.

    An option whose default is None may be None (not given); the schema shows the others' defaults.
    """
    return with_option_parameters(  # type: ignore[return-value]
        tool,
        MCP_OPTIONS,
        lambda option: option.kind if option.default is not None else option.kind | None,
        lambda option: option.default,
    )
