"""One table of search options: every front end's form of it agrees with the table, and the table with itself."""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from aurora.cli.app import app
from aurora.config.layers import HOST_OPTIONS, MODES
from aurora.errors import UsageError
from aurora.search.options import (
    CLI_OPTIONS,
    MAX_LIMIT,
    MCP_OPTIONS,
    REQUEST_OPTIONS,
    SEARCH_OPTIONS,
    SERVER_OPTIONS,
    SearchOption,
    SearchRequest,
    check_request,
    request_from,
)
from aurora.serve import client, protocol
from aurora.serve.protocol import search_arguments

#: A value of each kind, as the command line gives it and as the engine receives it.
SAMPLES: dict[type, tuple[str, Any]] = {int: ("7", 7), float: ("2.5", 2.5), str: ("docs", "docs")}


def search_command() -> Any:
    return typer.main.get_command(app).commands["search"]  # type: ignore[attr-defined]


def sample(option: SearchOption) -> tuple[str, Any]:
    """Return a valid value of ``option`` as text and as its type."""
    if option.choices:
        return option.choices[-1], option.choices[-1]
    if option.kind is os.PathLike:
        return "/srv/project", "/srv/project"
    return SAMPLES[option.kind]


def test_the_table_names_each_option_and_flag_once() -> None:
    names = [option.name for option in SEARCH_OPTIONS]
    flags = [flag for option in CLI_OPTIONS for flag in option.names()]
    assert len(set(names)) == len(names) and len(set(flags)) == len(flags)
    assert all(flag.startswith("-") for flag in flags)
    assert all(option.help for option in SEARCH_OPTIONS)


def test_the_typer_command_has_exactly_the_table_s_options() -> None:
    query, *params = search_command().params
    assert query.name == "query" and query.required
    assert [param.name for param in params] == [option.name for option in CLI_OPTIONS]
    for param, option in zip(params, CLI_OPTIONS, strict=True):
        assert {*param.opts, *param.secondary_opts} == set(option.names())
        assert param.help == option.help
        assert param.default == (None if option.setting or option.repeated else option.default)
        assert param.multiple == option.repeated
        if not option.repeated:  # a repeated option's choices are checked per value (test_filters.py)
            assert tuple(getattr(param.type, "choices", ())) == option.choices
        assert getattr(param.type, "min", None) == option.minimum
        assert getattr(param.type, "max", None) == (option.maximum if option.kind is int else None)
        assert param.is_flag == (option.kind is bool)


def test_the_client_reader_knows_exactly_the_table_s_flags_and_reads_each() -> None:
    assert client.OPTIONS == {flag for option in CLI_OPTIONS for flag in option.names()}
    for option in CLI_OPTIONS:
        if option.kind is bool:
            for flag, value in option.switches().items():
                assert client.parse_search(["q", flag])[option.name] is value  # type: ignore[index]
        else:
            text, value = sample(option)
            for flag in option.flags:
                read = client.parse_search(["q", flag, text])[option.name]  # type: ignore[index]
                assert read == ([value] if option.repeated else value)
            if option.repeated:
                flag = option.flags[0]
                assert client.parse_search(["q", flag, text, flag, text])[option.name] == [value, value]  # type: ignore[index]


def test_the_client_sends_the_options_given_and_the_server_accepts_exactly_those() -> None:
    assert set(protocol.OPTION_TYPES) == {option.name for option in SERVER_OPTIONS}
    given = ["q"]
    for option in SERVER_OPTIONS:
        given += [option.flags[0].partition("/")[0]] if option.kind is bool else [option.flags[0], sample(option)[0]]
    args = client.parse_search(given)
    assert args is not None
    sent = {key: args[key] for key in protocol.OPTION_TYPES if key in args}
    assert set(sent) == set(protocol.OPTION_TYPES)
    _, options, _, _ = search_arguments({"query": "q", "options": sent}, Path("/srv"))
    assert options == sent


@pytest.mark.parametrize("option", SERVER_OPTIONS, ids=lambda option: option.name)
def test_the_server_checks_each_option_s_type(option: SearchOption) -> None:
    wrong = "7" if option.kind is not str or option.repeated else 7
    with pytest.raises(UsageError, match=f"option '{option.name}' has the wrong type"):
        search_arguments({"query": "q", "options": {option.name: wrong}}, Path("/srv"))
    search_arguments({"query": "q", "options": {option.name: None}}, Path("/srv"))  # None: not given


@pytest.mark.parametrize("name", [o.name for o in SEARCH_OPTIONS if o not in SERVER_OPTIONS] + ["shell"])
def test_the_server_refuses_what_is_not_a_search_request_option(name: str) -> None:
    with pytest.raises(UsageError, match=f"unknown option '{name}'"):
        search_arguments({"query": "q", "options": {name: True}}, Path("/srv"))


def test_the_mcp_tool_s_schema_has_exactly_the_mcp_options() -> None:
    from mcp.server.mcpserver.tools.base import Tool

    from aurora.serve.mcp import _with_search_options

    @_with_search_options
    def search(query: str, **options: Any) -> dict[str, Any]:
        """Search."""
        return {}

    schema = Tool.from_function(search).parameters
    assert list(schema["properties"]) == ["query", *(option.name for option in MCP_OPTIONS)]
    assert schema["required"] == ["query"]
    for option in MCP_OPTIONS:
        described = schema["properties"][option.name]
        assert described["default"] == (None if option.repeated else option.default)
        assert described["description"] == option.help
        if option.choices:  # an enum, for the assistant to choose from
            typed = described["anyOf"][0] if "anyOf" in described else described  # the other: null, not given
            item = typed["items"] if option.repeated else typed
            assert tuple(item["enum"]) == option.choices, described
    assert {option.name for option in MCP_OPTIONS} <= {option.name for option in SERVER_OPTIONS}  # it asks the server


def test_search_request_has_a_field_per_request_option_with_its_default() -> None:
    assert SearchRequest._fields == tuple(option.name for option in REQUEST_OPTIONS)
    assert SearchRequest()._asdict() == {option.name: option.default for option in REQUEST_OPTIONS}
    assert {
        "limit",
        "mode",
        "files",
        "snippet_lines",
        "wait",
        "wait_timeout",
        "explain",
        "record",
        "background",
    } <= set(SearchRequest._fields)


def test_search_request_is_built_by_keyword_and_copies() -> None:
    request = SearchRequest(limit=5, mode="lexical")
    assert (request.limit, request.mode, request.files) == (5, "lexical", False)
    with pytest.raises(TypeError):
        SearchRequest(5, "lexical")  # type: ignore[misc] - the field order is the table's, not an interface
    assert copy.copy(request) == request == pickle.loads(pickle.dumps(request))
    assert request._replace(limit=6).limit == 6


def test_every_setting_named_is_a_search_setting_whose_default_is_the_option_s() -> None:
    for option in SEARCH_OPTIONS:
        if option.setting is not None:
            default = HOST_OPTIONS["search", option.setting].default
            assert (None if default == "auto" else default) == option.default, option.name
    assert MODES == next(option for option in SEARCH_OPTIONS if option.name == "mode").choices


def test_a_setting_has_the_limits_of_its_option() -> None:
    """One limit everywhere: `search.limit` in aurora.toml, --limit, the server and MCP all stop at MAX_LIMIT."""
    for option in SEARCH_OPTIONS:
        if option.setting is not None and option.maximum is not None:
            declared = HOST_OPTIONS["search", option.setting]
            assert declared.maximum == option.maximum, option.name
            if option.minimum is not None:
                assert declared.minimum == option.minimum, option.name
    limit = next(option for option in SEARCH_OPTIONS if option.name == "limit")
    assert (limit.minimum, limit.maximum) == (1, MAX_LIMIT) == (1, 10_000)


def test_a_request_takes_what_is_given_then_the_settings_then_the_defaults() -> None:
    settings = {"limit": 20, "snippet_lines": 0, "wait": "auto", "wait_timeout": 5.0}
    request = request_from({"limit": None, "mode": "hybrid", "backend": "fastembed"}, settings.__getitem__)
    assert request == SearchRequest(
        limit=20, mode="hybrid", backend="fastembed", snippet_lines=0, wait=None, wait_timeout=5.0
    )
    assert request_from({"wait": False, "limit": 3}, {**settings, "wait": True}.__getitem__)[:1] == (3,)
    assert request_from({}, {**settings, "wait": True}.__getitem__).wait is True
    assert request_from({"path": "*.py", "lang": ["go", "rust"]}, settings.__getitem__)[:0] == ()
    repeated = request_from({"path": "*.py", "lang": ["go", "rust"]}, settings.__getitem__)
    assert (repeated.path, repeated.lang, repeated.exclude) == (("*.py",), ("go", "rust"), ())
    with pytest.raises(TypeError):
        request_from({"json": True}, settings.__getitem__)  # the CLI's own option, not the search's


@pytest.mark.parametrize(
    ("query", "fields", "message"),
    [
        ("  ", {}, "the query is empty"),
        ("x" * 16_385, {}, "the query is too long (16,385 characters; at most 16,384)"),
        ("q", {"limit": 0}, "--limit must be at least 1 and at most 10000 (got 0)"),
        ("q", {"limit": 2**64}, "--limit must be at least 1 and at most 10000 (got 18446744073709551616)"),
        ("q", {"limit": 2.0}, "--limit must be a whole number (got 2.0)"),
        ("q", {"limit": True}, "--limit must be a whole number (got True)"),
        ("q", {"files": 1}, "--files must be true or false (got 1)"),
        ("q", {"mode": 3}, "--mode must be text (got 3)"),
        ("q", {"wait_timeout": "5"}, "--wait-timeout must be a number (got '5')"),
        ("q", {"snippet_lines": -1}, "snippet_lines must be at least 0 and at most 100 (got -1)"),
        ("q", {"wait_timeout": 0.0}, "--wait-timeout must be more than 0 and at most 3600 seconds (got 0)"),
        ("q", {"wait_timeout": -3}, "--wait-timeout must be more than 0 and at most 3600 seconds (got -3)"),
        ("q", {"wait_timeout": float("nan")}, "--wait-timeout must be more than 0 and at most 3600 seconds (got nan)"),
        ("q", {"wait_timeout": 3600.5}, "--wait-timeout must be more than 0 and at most 3600 seconds (got 3600.5)"),
        ("q", {"context": 101}, "--context must be at least 0 and at most 100 (got 101)"),
        (
            "q",
            {"lang": ("pyton",)},
            "unknown --lang 'pyton'; allowed: c, cpp, csharp, css, elixir, go, haskell, html, ini, java, "
            "javascript, json, kotlin, lua, markdown, php, python, rst, ruby, rust, scala, shell, sql, swift, "
            "text, toml, tsx, typescript, yaml, zig",
        ),
        ("q", {"path": ("",)}, "--path takes non-empty text (got '')"),
        ("q", {"exclude": (7,)}, "--exclude takes non-empty text (got 7)"),
    ],
)
def test_check_request_messages(query: str, fields: dict, message: str) -> None:
    with pytest.raises(UsageError) as refused:
        check_request(query, SearchRequest(**fields))
    assert refused.value.message == message
    check_request("q", SearchRequest(limit=1, wait_timeout=3600))


def test_the_table_imports_nothing_costly() -> None:
    """The client path reads the table before anything else: no typer, no pathlib, no inspect or dataclasses."""
    core = Path(__file__).resolve().parents[1] / "core"
    probe = f"import sys; sys.path.insert(0, {str(core)!r}); import aurora.search.options; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, check=True)
    modules = set(done.stdout.strip().strip("[]").replace("'", "").split(", "))
    assert "aurora.search.options" in modules
    assert not modules & {"typer", "click", "pluggy", "numpy", "pathlib", "inspect", "dataclasses"}


def test_the_python_api_takes_options_by_name_or_a_request(indexed: Path) -> None:
    import aurora

    (indexed / "aurora.toml").write_text("[search]\nlimit = 1\n")
    project = aurora.open(indexed)
    by_name = project.search("refresh auth tokens", record=False)  # the [search] limit applies
    by_request = project.search("refresh auth tokens", SearchRequest(limit=3, record=False))
    assert len(by_name.results) == 1 and len(by_request.results) == 3
    assert by_name.results[0] == by_request.results[0]
    with pytest.raises(TypeError):
        project.search("refresh auth tokens", SearchRequest(), limit=2)
    with pytest.raises(TypeError):
        project.search("refresh auth tokens", limt=2)
