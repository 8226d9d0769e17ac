"""`aurora mcp` through the official MCP client over stdio: the tools, their answers and their errors."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from conftest import AURORA
from mcp import Client, StdioServerParameters

from aurora.search.options import MCP_OPTIONS


def call(root: Path, *calls: tuple[str, dict[str, Any]]) -> tuple[dict[str, Any], list[Any]]:
    """Start `aurora mcp --root ROOT`, list its tools and make ``calls``; return (tools by name, results)."""

    async def session() -> tuple[dict[str, Any], list[Any]]:
        parameters = StdioServerParameters(command=AURORA, args=["mcp", "--root", str(root)], env=dict(os.environ))
        async with Client(parameters) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            return tools, [await client.call_tool(name, arguments) for name, arguments in calls]

    return asyncio.run(session())


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    content = result.structured_content
    return content.get("result", content) if isinstance(content, dict) and set(content) == {"result"} else content


def test_tools_search_index_stats_and_models(indexed: Path) -> None:
    (indexed / "src" / "auth" / "sessions.py").write_text("def expire_sessions():\n    return []\n")
    tools, (found, indexed_now, stats, models, found_again) = call(
        indexed,
        ("search", {"query": "load settings tokens", "limit": 3}),
        ("index", {}),
        ("stats", {"top": 2}),
        ("models", {}),
        ("search", {"query": "expire sessions"}),
    )
    assert set(tools) == {"search", "read", "index", "stats", "models"}  # read: tests/test_read.py
    schema = tools["search"].input_schema
    assert set(schema["properties"]) == {"query", *(option.name for option in MCP_OPTIONS)}
    assert schema["properties"]["limit"] == {"default": 10, "title": "Limit", "type": "integer"}
    document = structured(found)
    assert document["answered_by"] == "mcp" and len(document["results"]) == 3
    best = document["results"][0]
    assert best["path"] == "src/auth/tokens.py" and best["symbol"] == "load_settings"
    assert {"line_start", "line_end", "snippet", "scores"} <= set(best)
    assert structured(indexed_now)["added"] == 1
    assert structured(stats)["chunks"] > 0
    rows = {row["plugin"]: row for row in structured(models)}  # what --backend NAME would use
    assert rows["fastembed"]["available"] and rows["fastembed"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert structured(found_again)["results"][0]["symbol"] == "expire_sessions"


def test_errors_come_back_as_tool_errors_with_the_fix(indexed: Path) -> None:
    _, (empty, unknown) = call(indexed, ("search", {"query": "   "}), ("search", {"query": "x", "pipeline": "nope"}))
    assert empty.is_error and "the query is empty" in empty.content[0].text
    assert unknown.is_error and "unknown pipeline 'nope'" in unknown.content[0].text


def test_search_shares_the_warm_server_when_one_runs(indexed: Path, serve) -> None:
    serve(indexed)
    _, (found,) = call(indexed, ("search", {"query": "refresh auth tokens"}))
    assert structured(found)["answered_by"] == "server"


def test_results_are_plain_json(indexed: Path) -> None:
    _, (found,) = call(indexed, ("search", {"query": "installation", "files": True}))
    text = found.content[0].text
    assert json.loads(text)["files"] is True
