"""`aurora mcp` through the official MCP client over stdio: the tools, their answers and their errors."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from conftest import AURORA
from mcp import Client, StdioServerParameters

from aurora.search.options import MAX_LIMIT, MCP_OPTIONS


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
    assert schema["properties"]["limit"]["default"] == 10 and schema["properties"]["limit"]["type"] == "integer"
    for tool in tools.values():  # every parameter of every tool says what it means
        assert all(p.get("description") for p in tool.input_schema["properties"].values()), tool.name
    assert schema["properties"]["mode"]["anyOf"][0]["enum"] == ["auto", "lexical", "semantic", "hybrid"]
    document = structured(found)
    assert set(document) == {"mode", "warnings", "results"} and len(document["results"]) == 3
    best = document["results"][0]
    assert best["path"] == "src/auth/tokens.py" and best["symbol"] == "load_settings"
    assert set(best) == {"path", "lines", "symbol", "score", "snippet"}  # compact: nothing an assistant does not use
    start, _, end = best["lines"].partition("-")
    assert int(start) <= int(best["snippet"].partition(":")[0]) <= int(end)  # snippet lines start with their number
    assert structured(indexed_now)["added"] == 1
    assert structured(stats)["chunks"] > 0
    rows = {row["plugin"]: row for row in structured(models)}  # what --backend NAME would use
    assert rows["fastembed"]["available"] and rows["fastembed"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert structured(found_again)["results"][0]["symbol"] == "expire_sessions"


def test_errors_come_back_as_tool_errors_with_the_fix(indexed: Path) -> None:
    tools, (empty, unknown, *limits) = call(
        indexed,
        ("search", {"query": "   "}),
        ("search", {"query": "x", "pipeline": "nope"}),
        *(("search", {"query": "tokens", "limit": limit}) for limit in (0, MAX_LIMIT + 1, 2**64)),
    )
    assert empty.is_error and "the query is empty" in empty.content[0].text
    assert unknown.is_error and "unknown pipeline 'nope'" in unknown.content[0].text
    limit = tools["search"].input_schema["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, MAX_LIMIT)  # the assistant sees the limits
    assert all(refused.is_error and "limit" in refused.content[0].text for refused in limits)


def test_search_shares_the_warm_server_when_one_runs(indexed: Path, serve) -> None:
    from aurora.serve.client import server_status
    from aurora.serve.endpoint import Endpoint

    serve(indexed)
    endpoint = Endpoint(str(indexed))
    before = server_status(endpoint)["requests"]  # type: ignore[index]
    _, (found, narrowed) = call(
        indexed,
        ("search", {"query": "refresh auth tokens"}),
        ("search", {"query": "auth tokens http client", "path": ["src/net"], "lang": ["python"]}),
    )
    assert structured(found)["results"]
    assert {result["path"] for result in structured(narrowed)["results"]} == {"src/net/http_client.py"}
    assert server_status(endpoint)["requests"] >= before + 2  # type: ignore[index] - both searches went there


def test_results_are_plain_json(indexed: Path) -> None:
    _, (found,) = call(indexed, ("search", {"query": "installation", "files": True}))
    text = found.content[0].text
    assert all("matches" in result for result in json.loads(text)["results"])
