"""Property-based tests (hypothesis): whatever the arguments, configuration files or server requests, Aurora
answers or refuses with a documented error (exit code 2), never an unexpected exception (a traceback, exit 70).

In-process, derandomized (the same examples on every run, no example database) and without deadlines, so
that a busy machine slows the module down but never fails it; each property tries a few hundred cases at most.
"""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aurora.cli.app import app
from aurora.config import layers
from aurora.config.validation import check_value
from aurora.errors import EXIT_NO_RESULTS, EXIT_USER_ERROR, ConfigError, UsageError
from aurora.search.options import (
    CLI_OPTIONS,
    MAX_CONTEXT_LINES,
    MAX_LIMIT,
    MAX_SNIPPET_LINES,
    MAX_WAIT_S,
    MODES,
    REQUEST_OPTIONS,
    SERVER_OPTIONS,
    SearchOption,
    SearchRequest,
    check_request,
    is_kind,
    request_from,
)
from aurora.serve import client, protocol

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: The settings a request takes when an option is not given (the defaults of aurora.toml's [search]).
SETTINGS = {key[1]: option.default for key, option in layers.HOST_OPTIONS.items() if key[0] == "search"}

# --- what users type -------------------------------------------------------------------

#: Text a terminal, a script or another system may hand over: control characters, undecodable bytes
#: (surrogate escapes, as Python gives them in argv), right-to-left overrides, emoji.
awkward_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("\x00\x1b\t\n\r\u202e\x7f\x9b"),
        st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),
    ),
    max_size=12,
)
edge_values = st.sampled_from(
    ["0", "1", "-1", "3", "100", "101", str(MAX_LIMIT), str(MAX_LIMIT + 1), str(2**64), "-0", "0.5", "1e400"]
    + ["nan", "inf", "-inf", "auto", "lexical", "semantic", "python", "pyton", "*.py", "", "-", "--", "always"]
)
value = st.one_of(edge_values, awkward_text)
flag = st.sampled_from(sorted(client.OPTIONS))
LONG_FLAGS = [name for name in client.OPTIONS if name.startswith("--")]
argument = st.one_of(
    flag,
    value,
    st.builds(
        lambda name, text: f"{name}={text}", st.sampled_from(sorted(f for f in client.OPTIONS if "--" in f)), value
    ),
    st.sampled_from(["-h", "--help", "-n5", "-lq", "--unknown"]),
)
#: The flags that take no value (``--json``, ``--wait``, ``--no-wait``).
SWITCHES = {name for option in CLI_OPTIONS if option.kind is bool for name in option.names()}


@st.composite
def search_arguments(draw: st.DrawFn) -> list[str]:
    """Return a query among flags with values, as people write them (with edge values), or any mix of tokens."""
    if draw(st.booleans()):
        return draw(st.lists(argument, max_size=8))
    groups = [
        [name] if name in SWITCHES else [name, draw(value)] for name in draw(st.lists(flag, min_size=1, max_size=4))
    ]
    query = draw(st.one_of(st.sampled_from(["tokens", "refresh auth", "x"]), awkward_text))
    groups.insert(draw(st.integers(min_value=0, max_value=len(groups))), [query])
    return [token for group in groups for token in group]


argvs = search_arguments()


SEARCH = typer.main.get_command(app).commands["search"]  # type: ignore[attr-defined]
#: click's UsageError (BadParameter, NoSuchOption, MissingParameter, ...), from the click typer vendors.
CommandLineError = typer.BadParameter.__base__


def typer_reading(argv: list[str]) -> dict[str, Any] | None:
    """Return the options typer reads from ``aurora search ARGV``, or None when it refuses them with exit code 2."""
    try:
        context = SEARCH.make_context("search", list(argv))
    except typer.Exit as stop:  # --help: help printed, exit 0
        assert stop.exit_code == 0
        return None
    except CommandLineError as refused:
        assert refused.exit_code == EXIT_USER_ERROR
        return None
    return context.params


def within(option: SearchOption, value: Any) -> bool:
    """Return whether ``value`` is a value the option takes (its kind, limits and choices)."""
    if option.kind is not float and option.kind in (int, str, bool) and not is_kind(option, value):
        return False
    return option.allows(value) and (not option.choices or value in option.choices)


def assert_valid(request: SearchRequest) -> None:
    """Check, independently of the table's own checks, that a request the search accepted is one it can run."""
    assert type(request.limit) is int and 1 <= request.limit <= MAX_LIMIT
    assert type(request.context) is int and 0 <= request.context <= MAX_CONTEXT_LINES
    assert type(request.snippet_lines) is int and 0 <= request.snippet_lines <= MAX_SNIPPET_LINES
    assert isinstance(request.wait_timeout, (int, float)) and not isinstance(request.wait_timeout, bool)
    assert math.isfinite(request.wait_timeout) and 0 < request.wait_timeout <= MAX_WAIT_S
    for name in ("files", "explain", "record", "background"):
        assert type(getattr(request, name)) is bool, name
    assert request.wait in (None, True, False) and request.mode in (None, *MODES)
    assert all(isinstance(item, str) and item for item in (*request.path, *request.exclude, *request.lang))


@PROPERTY
@given(argvs)
def test_the_client_reader_returns_valid_options_or_leaves_the_command_to_typer(argv: list[str]) -> None:
    """The client path never raises; what it reads is within the table's limits, and typer reads the same."""
    args = client.parse_search(argv)
    if args is None:
        return
    assert isinstance(args["query"], str)
    for option in CLI_OPTIONS:
        if option.name in args and option.request and args[option.name] is not None:
            values = args[option.name] if option.repeated else [args[option.name]]
            assert all(within(option, item) for item in values), (option.name, args[option.name])
    read = typer_reading(argv)
    assert read is not None, "the client accepted arguments that typer refuses"
    assert read["query"] == args["query"]
    for option in CLI_OPTIONS:
        if option.name in args and option.request:
            expected = args[option.name]
            assert (list(read[option.name]) if option.repeated else read[option.name]) == expected, option.name


@PROPERTY
@given(argvs)
def test_typer_reads_a_valid_search_or_refuses_with_exit_code_2(argv: list[str]) -> None:
    """Whatever typer accepts becomes a search request that is valid, or is refused as a usage error."""
    params = typer_reading(argv)
    if params is None:
        return
    given_options = {option.name: params[option.name] for option in CLI_OPTIONS if option.request}
    request = request_from(given_options, SETTINGS.__getitem__)
    try:
        check_request(params["query"], request)
    except UsageError as refused:
        assert refused.exit_code == EXIT_USER_ERROR
        return
    assert_valid(request)


# --- configuration files ----------------------------------------------------------------


def toml_value(value: Any) -> str:
    """Write ``value`` as TOML (inline tables and arrays; strings as JSON, which TOML reads too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, (int, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items()) + "}"


#: Keys a configuration has, and some it does not.
KEYS = sorted({part for key in layers.HOST_OPTIONS for part in key} | {"pipelines", "default", "weights", "plugin"})
keys = st.one_of(st.sampled_from([*KEYS, *layers.ROLES, *layers.SIGNALS]), st.text(max_size=6))
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from(["auto", "bm25s", "default", "code", "none", "", "*.py"]),
    st.text(max_size=8),
)
tables = st.recursive(
    st.dictionaries(keys, scalars, max_size=4),
    lambda children: st.dictionaries(keys, st.one_of(scalars, children, st.lists(scalars, max_size=3)), max_size=4),
    max_leaves=12,
)


def write_config(root: Path, name: str, text: str | bytes) -> None:
    path = root / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))


def load_or_refuse(root: Path) -> layers.Config | None:
    """Load the configuration at ``root``: a Config whose every setting is valid, or None for a ConfigError."""
    try:
        config = layers.load(root)
        config.pipeline()
    except ConfigError as refused:
        assert refused.exit_code == EXIT_USER_ERROR and refused.message
        return None
    for key, value, source in config.items():
        if key in layers.HOST_OPTIONS:
            check_value(".".join(key), value, layers.HOST_OPTIONS[key], source)
    return config


@pytest.fixture(scope="module")
def config_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("config")


@PROPERTY
@given(
    table=st.dictionaries(keys, st.one_of(tables, scalars), max_size=5), where=st.sampled_from(["toml", "pyproject"])
)
def test_any_configuration_table_loads_or_is_one_config_error(config_root: Path, table: dict, where: str) -> None:
    text = "\n".join(f"{json.dumps(key)} = {toml_value(value)}" for key, value in table.items())
    if where == "pyproject":
        (config_root / "aurora.toml").unlink(missing_ok=True)
        write_config(config_root, "pyproject.toml", f"[tool.aurora]\n{text}\n")
    else:
        (config_root / "pyproject.toml").unlink(missing_ok=True)
        write_config(config_root, "aurora.toml", text)
    load_or_refuse(config_root)


@PROPERTY
@given(
    st.one_of(
        st.binary(max_size=64),
        st.text(alphabet=st.sampled_from("[]{}=\"'.,#\\\n abc123-+_:eE\x00\udcff"), max_size=60),
        st.integers(min_value=1, max_value=3000).map(lambda depth: "a = " + "[" * depth + "]" * depth),
        st.integers(min_value=1, max_value=3000).map(lambda depth: "a = " + "{b = " * depth + "1" + "}" * depth),
    )
)
def test_any_bytes_in_aurora_toml_load_or_are_one_config_error(config_root: Path, data: str | bytes) -> None:
    (config_root / "pyproject.toml").unlink(missing_ok=True)
    write_config(config_root, "aurora.toml", data)
    load_or_refuse(config_root)


# --- the server protocol ----------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        awkward_text,
    ),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(awkward_text, children, max_size=3)),
    max_leaves=8,
)
option_values = st.one_of(
    json_values,
    st.sampled_from([0, 1, -1, MAX_LIMIT, MAX_LIMIT + 1, 2**64, 0.0, 1e400, True, "auto", "lexical", ["python"], []]),
)
search_options = st.dictionaries(
    st.one_of(st.sampled_from([option.name for option in SERVER_OPTIONS] + ["json", "root", "record"]), awkward_text),
    option_values,
    max_size=5,
)
outputs = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "format": st.one_of(st.sampled_from(protocol.OUTPUT_FORMATS), json_values),
            "color": st.one_of(st.booleans(), json_values),
            "links": st.one_of(st.booleans(), json_values),
        },
    ),
)
search_requests = st.fixed_dictionaries(
    {"v": st.just(protocol.VERSION), "op": st.just("search")},
    optional={
        "query": st.one_of(st.sampled_from(["refresh auth tokens", "HttpClient", " "]), awkward_text, json_values),
        "options": st.one_of(search_options, json_values),
        "output": outputs,
        "cwd": st.one_of(st.sampled_from(["/", "relative", "/tmp\x00x"]), json_values),
    },
)


#: Requests that once failed somewhere, tried on every run before the generated ones.
FOUND = [
    {"query": "tokens", "cwd": "/tmp\x00x", "output": {"format": "text"}},
    {"query": "tokens", "cwd": "relative", "output": {"format": "vimgrep"}},
    {"query": "tokens", "options": {"limit": 2**64, "files": True}},
    {"query": "tokens", "options": {"limit": 0}},
    {"query": "tokens", "options": {"wait_timeout": True, "context": 2**64}},
    {"query": "tokens\udcff\x1b[2J", "output": {"format": "text", "color": True, "links": True}},
]


def examples(requests: list[dict[str, Any]]) -> Any:
    """Return a decorator that makes hypothesis try each of ``requests`` (a search, version 1) first."""

    def decorate(test: Any) -> Any:
        for request in reversed(requests):
            test = example(request={"v": protocol.VERSION, "op": "search", **request})(test)
        return test

    return decorate


@PROPERTY
@given(search_requests)
@examples(FOUND)
def test_a_search_request_is_read_into_a_valid_request_or_refused(request: dict[str, Any]) -> None:
    """The wire's checks, then the search's: every request ends valid, or as a UsageError (exit code 2)."""
    try:
        query, options, output, cwd = protocol.search_arguments(request, "/srv/project")
        request = request_from(options, SETTINGS.__getitem__)
        check_request(query, request)
    except UsageError as refused:
        assert refused.exit_code == EXIT_USER_ERROR
        return
    assert_valid(request)
    assert output.get("format", "json") in protocol.OUTPUT_FORMATS and cwd.startswith("/")
    assert set(options) <= {option.name for option in REQUEST_OPTIONS}


@PROPERTY
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda value: json.dumps(value).encode())))
def test_any_frame_is_a_json_object_or_a_protocol_error(frame: bytes) -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(frame.replace(b"\n", b" ") + b"\n")
        try:
            message = protocol.receive(ours, 1024)
        except protocol.ProtocolError:
            return
        assert isinstance(message, dict)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A warm server's request handler for an indexed project (not listening: requests are handed to it)."""
    import aurora
    from aurora.serve.server import WarmServer

    root = tmp_path_factory.mktemp("served")
    (root / "tokens.py").write_text("def refresh_auth_tokens(user):\n    return user\n")
    (root / "client.py").write_text("class HttpClient:\n    def get(self, url):\n        return url\n")
    aurora.open(root).index()
    return WarmServer(root, idle_timeout=0, workers=1, watch=False)


@settings(PROPERTY, max_examples=60)
@given(search_requests)
@examples(FOUND)
def test_the_server_answers_every_search_request_or_says_what_is_wrong(server: Any, request: dict[str, Any]) -> None:
    """No request makes the server fail (``in_process``: a bug); an error reply has a documented exit code."""
    reply = server.handle({**request, "root": str(server.root)})
    if reply["ok"]:
        assert isinstance(reply["response"]["results"], list)
        json.dumps(reply).encode("ascii")  # what protocol.send writes
    else:
        assert not reply["error"]["in_process"], reply["error"]["message"]
        assert reply["error"]["exit_code"] in (EXIT_NO_RESULTS, EXIT_USER_ERROR), reply
