"""``aurora mcp``: Aurora's search, indexing, stats and models as tools for AI coding assistants.

A Model Context Protocol server on stdio, built with the official ``mcp`` Python SDK
(the ``mcp`` extra). Its ``search`` tool asks the root's warm ``aurora serve`` when one
runs (sharing its loaded models and indexes) and otherwise searches in this process,
which is long-lived too: after the first call its index and model stay loaded. Every
tool goes through the Python API (:mod:`aurora.api`), like the CLI and the server, so
the three answer alike. docs/mcp.md shows how to register it with common clients.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aurora.errors import AuroraError, BackendNotInstalledError
from aurora.search.options import MCP_OPTIONS, with_option_parameters
from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint

F = TypeVar("F", bound=Callable[..., Any])

INSTRUCTIONS = (
    "Aurora searches the indexed codebase or notes at {root}: BM25 over code-aware tokens, embeddings "
    "when a model is configured, and activation (recently and often used code ranks higher). Use `search` "
    "with words, identifiers or a question; results give path, line range, symbol, snippet and scores. "
    "Run `index` after large edits (it is incremental)."
)


class Tools:
    """The tools' work for one root, independent of MCP (so it can be tested and reused)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def search(self, query: str, **options: Any) -> dict[str, Any]:
        """Search through the warm server when one runs for the root, else in this process.

        ``options`` are the tool's (:data:`aurora.search.options.MCP_OPTIONS`) by name.
        """
        served = self._through_server(query, options)
        if served is not None:
            return served
        import aurora

        response = aurora.open(self.root).search(query, **options, background=True)
        return response._replace(answered_by="mcp").to_dict()

    def _through_server(self, query: str, options: dict[str, Any]) -> dict[str, Any] | None:
        """Return the server's answer (its errors raised), or None when no server can answer."""
        from aurora.serve.client import REPLY_MARGIN_S, ask

        request = {
            "v": protocol.VERSION,
            "op": "search",
            "root": str(self.root),
            "query": query,
            "options": options,
            "output": {"format": "json"},
        }
        reply = ask(Endpoint(str(self.root)), request, timeout=120.0 + REPLY_MARGIN_S, quiet=True)
        if reply is None:
            return None
        if not reply["ok"]:
            raise AuroraError(str(reply["error"].get("message")), reply["error"].get("hint"))
        return reply["response"]

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
