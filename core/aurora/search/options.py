"""The options of a search, declared once in :data:`SEARCH_OPTIONS`; every front end derives its own form.

One row per option: its name (the Python API's keyword, the :class:`SearchRequest` field,
the key on the wire and in MCP), its ``aurora search`` flags, type, default, limits or
choices, help text, and where it applies. Derived from the table:

- the typer ``aurora search`` command's options (:mod:`aurora.cli.app`);
- the client path's own argument reader, which runs before typer is imported (:mod:`aurora.serve.client`);
- the options a search request to the warm server may carry, with their types (:mod:`aurora.serve.protocol`);
- the MCP ``search`` tool's parameters, hence its JSON schema (:mod:`aurora.serve.mcp`);
- :class:`SearchRequest`, the record the engine receives, built by :func:`request_from`
  for the Python API (``project.search("q", limit=5)``), and :func:`check_request`.

Adding an option is one row here plus its behaviour; ``tests/test_search_options.py``
checks that every derived form agrees with the table. Standard library only, and cheap
to import: the client path of ``aurora search`` reads this table.
"""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation
# string at import, which tripled this module's import time on the client path.
import os
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from aurora.errors import UsageError
from aurora.index.languages import LANGUAGES

#: The most results a search returns (the ``search.limit`` limit too): one limit for the CLI, server, MCP and API.
MAX_LIMIT = 10_000
#: The longest a search waits for a model (the ``search.wait_timeout`` limit too).
MAX_WAIT_S = 3600.0
#: The longest query accepted, in characters (a long code example fits; a pasted file does not).
MAX_QUERY_CHARS = 16_384
#: The most context lines around a snippet line (``--context``).
MAX_CONTEXT_LINES = 100
#: The most lines of a result's snippet (the ``search.snippet_lines`` limit too).
MAX_SNIPPET_LINES = 100
#: Search modes (``auto``: hybrid when the pipeline has an embedder, else lexical).
MODES = ("auto", "lexical", "semantic", "hybrid")


class SearchOption(NamedTuple):
    """One option of a search: a row of :data:`SEARCH_OPTIONS`."""

    name: str
    #: int, float, str, bool, or os.PathLike: a folder, kept as text until the CLI reads it (no pathlib here).
    kind: type
    #: The value when neither the caller nor the ``setting`` gives one.
    default: Any
    help: str
    #: ``aurora search`` flags as typer declares them ("--limit", "-n"; "--wait/--no-wait"); none: API only.
    flags: tuple[str, ...] = ()
    #: A field of SearchRequest, which the engine receives; False: the CLI's own business (output, root).
    request: bool = True
    #: The MCP ``search`` tool takes it.
    mcp: bool = False
    #: The ``[search]`` setting that replaces ``default`` when the option is not given.
    setting: str | None = None
    choices: tuple[str, ...] = ()
    #: The least value allowed (typer checks it on the command line and shows it in --help).
    minimum: int | None = None
    #: Values must be more than this.
    above: float | None = None
    #: The most allowed.
    maximum: float | None = None
    #: The unit the limits are in, for messages ("seconds").
    unit: str = ""
    #: The value's placeholder in --help, where typer's own would not say enough.
    metavar: str | None = None
    #: The flag may be given more than once: the value is a tuple of ``kind`` (a JSON array on the wire).
    repeated: bool = False

    @property
    def flag(self) -> str:
        """The option's long flag, as messages name it (``--wait-timeout``)."""
        return self.flags[0].partition("/")[0] if self.flags else self.name

    def names(self) -> list[str]:
        """Return every flag of the option, the ``--no-x`` of a ``--x/--no-x`` pair too."""
        return [name for declaration in self.flags for name in declaration.split("/")]

    def switches(self) -> dict[str, bool]:
        """Map each flag of a yes/no option to the value it sets (``--wait``: True, ``--no-wait``: False)."""
        values: dict[str, bool] = {}
        for declaration in self.flags:
            on, _, off = declaration.partition("/")
            values[on] = True
            if off:
                values[off] = False
        return values

    def allows(self, value: Any) -> bool:
        """Return whether ``value`` is within the option's limits (nan never is)."""
        return (
            (self.minimum is None or value >= self.minimum)
            and (self.above is None or value > self.above)
            and (self.maximum is None or value <= self.maximum)
        )

    def limits(self) -> str:
        """Describe the limits for a message: ``at least 1``, ``more than 0 and at most 3600 seconds``."""
        parts = [
            f"{word} {bound:g}"
            for word, bound in (("at least", self.minimum), ("more than", self.above), ("at most", self.maximum))
            if bound is not None
        ]
        return " and ".join(parts) + (f" {self.unit}" if self.unit else "")


SEARCH_OPTIONS: tuple[SearchOption, ...] = (
    # `aurora search` options, in the order of its --help.
    SearchOption(
        "limit",
        int,
        10,
        "Number of results [default: 10].",
        ("--limit", "-n"),
        mcp=True,
        setting="limit",
        minimum=1,
        maximum=MAX_LIMIT,
    ),
    SearchOption("json", bool, False, "Print one JSON document on stdout.", ("--json",), request=False),
    SearchOption("files", bool, False, "Rank files (best chunk per file).", ("--files", "-l"), mcp=True),
    SearchOption(
        "mode",
        str,
        None,
        "auto, lexical, semantic or hybrid [default: the pipeline's, auto].",
        ("--mode", "-m"),
        mcp=True,
        choices=MODES,
    ),
    SearchOption("pipeline", str, None, "Named pipeline from the configuration.", ("--pipeline", "-p"), mcp=True),
    SearchOption("backend", str, None, "Use this plugin for every role it can fill.", ("--backend", "-b")),
    SearchOption(
        "path",
        str,
        (),
        "Only files matching this glob (repeatable): *.py or tests matches at any depth, src/*.py from the root.",
        ("--path", "-g"),
        mcp=True,
        metavar="GLOB",
        repeated=True,
    ),
    SearchOption(
        "exclude",
        str,
        (),
        "Leave out files matching this glob (repeatable; the same globs as --path).",
        ("--exclude",),
        mcp=True,
        metavar="GLOB",
        repeated=True,
    ),
    SearchOption(
        "lang",
        str,
        (),
        "Only files in this language (repeatable): python, markdown, rust, ...",
        ("--lang",),
        mcp=True,
        choices=LANGUAGES,
        metavar="LANG",
        repeated=True,
    ),
    SearchOption(
        "context",
        int,
        0,
        "Lines of context around each snippet line, as grep -C.",
        ("--context", "-C"),
        mcp=True,
        minimum=0,
        maximum=MAX_CONTEXT_LINES,
        metavar="N",
    ),
    SearchOption(
        "vimgrep",
        bool,
        False,
        "Print path:line:column:text, one line per result (for editors' quickfix lists).",
        ("--vimgrep",),
        request=False,
    ),
    SearchOption(
        "root",
        os.PathLike,
        None,
        "Indexed folder [default: found from the current folder upwards].",
        ("--root",),
        request=False,
    ),
    SearchOption(
        "color", str, "auto", "Colour the output.", ("--color",), request=False, choices=("auto", "always", "never")
    ),
    SearchOption(
        "wait",
        bool,
        None,  # auto: wait for a model that loaded quickly last time (aurora.semantic.source)
        "Wait for a model that is still loading, or answer lexically at once "
        "[default: [search] wait, auto: wait for a model that loaded within 3 s last time].",
        ("--wait/--no-wait",),
        setting="wait",
    ),
    SearchOption(
        "wait_timeout",
        float,
        60.0,
        "Seconds to wait for the model [default: 60].",
        ("--wait-timeout",),
        setting="wait_timeout",
        above=0,
        maximum=MAX_WAIT_S,
        unit="seconds",
        metavar="SECONDS",
    ),
    SearchOption(
        "explain", bool, False, "Show each signal's score, rank and share of the fused score.", ("--explain",)
    ),
    SearchOption(
        "no_server",
        bool,
        False,
        "Search in this process even when `aurora serve` runs for the index.",
        ("--no-server",),
        request=False,
    ),
    # The Python API's own.
    SearchOption(
        "snippet_lines",
        int,
        3,
        "Lines of each result's snippet.",
        setting="snippet_lines",
        minimum=0,
        maximum=MAX_SNIPPET_LINES,
    ),
    SearchOption("record", bool, True, "Add the top results to the access history ([activation] record_top)."),
    SearchOption(
        "background",
        bool,
        True,
        "Start loading the model for later searches when this one does not wait for it; "
        "a process that exits after the search (the CLI) says False.",
    ),
)

#: The options of ``aurora search`` (typer's and the client reader's), in --help order.
CLI_OPTIONS = tuple(option for option in SEARCH_OPTIONS if option.flags)
#: The fields of SearchRequest.
REQUEST_OPTIONS = tuple(option for option in SEARCH_OPTIONS if option.request)
#: What a search request to the warm server may carry: the request options ``aurora search`` has,
#: which its client path sends on (the server applies its own ``[search]`` settings to the rest).
SERVER_OPTIONS = tuple(option for option in REQUEST_OPTIONS if option.flags)
#: The request options given as several values (``--path a --path b``).
REPEATED_OPTIONS = tuple(option for option in REQUEST_OPTIONS if option.repeated)
#: The MCP ``search`` tool's parameters after ``query``.
MCP_OPTIONS = tuple(option for option in SEARCH_OPTIONS if option.mcp)


class SearchRequest(
    namedtuple(
        "SearchRequest",
        [option.name for option in REQUEST_OPTIONS],
        defaults=[option.default for option in REQUEST_OPTIONS],
    )
):
    """How to search, beyond the query: one field per request option of :data:`SEARCH_OPTIONS`, with its default.

    Built by keyword only (``SearchRequest(limit=5, mode="lexical")``): the fields follow the
    table's order, which is not an interface. ``wait`` None means auto (see
    :meth:`aurora.semantic.source.SemanticSource.should_wait`); ``pipeline`` and ``backend``
    choose the searcher that receives the request.
    """

    __slots__ = ()

    def __new__(cls, **fields: Any) -> "SearchRequest":
        """Build a request from ``fields`` by name; a field not given takes the table's default."""
        return super().__new__(cls, **fields)

    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, Any]]:
        """Copy and pickle by keyword too."""
        return (), self._asdict()


def with_option_parameters(
    func: Callable[..., Any],
    options: "tuple[SearchOption, ...]",
    annotation: "Callable[[SearchOption], Any]",
    default: "Callable[[SearchOption], Any]",
) -> Callable[..., Any]:
    """Give ``func(fixed, ..., **options)`` a keyword-only parameter per option, for a framework that reads signatures.

    typer builds the ``aurora search`` command and the MCP SDK the ``search`` tool's
    JSON schema from the signature; ``annotation`` and ``default`` say how each option
    appears there. ``inspect`` is imported here, not on the client path.
    """
    import inspect

    signature = inspect.signature(func, eval_str=True)
    fixed = [parameter for parameter in signature.parameters.values() if parameter.kind is not parameter.VAR_KEYWORD]
    added = [
        inspect.Parameter(
            option.name, inspect.Parameter.KEYWORD_ONLY, default=default(option), annotation=annotation(option)
        )
        for option in options
    ]
    func.__signature__ = signature.replace(parameters=[*fixed, *added])  # type: ignore[attr-defined]
    return func


def request_from(options: Mapping[str, Any], setting: Callable[[str], Any]) -> SearchRequest:
    """Return the request for ``options`` (request options by name; None: not given).

    An option not given takes its ``[search]`` setting (``setting(key)``; ``auto`` reads
    as None: decided per search), else its default. TypeError for a name that is not a
    request option, as for an unknown keyword argument.
    """
    fields = {name: value for name, value in options.items() if value is not None}
    for option in REPEATED_OPTIONS:
        if option.name in fields:  # one value or several (a list from JSON or typer): a tuple
            value = fields[option.name]
            fields[option.name] = (value,) if isinstance(value, str) else tuple(value)
    for option in REQUEST_OPTIONS:
        if option.name not in fields and option.setting is not None:
            configured = setting(option.setting)
            fields[option.name] = None if configured == "auto" else configured
    return SearchRequest(**fields)


def check_request(query: str, request: SearchRequest) -> None:
    """Refuse an empty or overlong query, and an option of the wrong type or outside its limits (a limit of 0)."""
    if not isinstance(query, str):
        raise UsageError(f"the query must be text (got {type(query).__name__})")
    if not query.strip():
        raise UsageError("the query is empty", hint='give words to search for, e.g. aurora search "parse config"')
    if len(query) > MAX_QUERY_CHARS:
        raise UsageError(
            f"the query is too long ({len(query):,} characters; at most {MAX_QUERY_CHARS:,})",
            hint="search for the few words or the identifier that matter",
        )
    for option in REPEATED_OPTIONS:
        for value in getattr(request, option.name):
            _check_item(option, value)
    for option in REQUEST_OPTIONS:
        value = getattr(request, option.name)
        if option.repeated or (value is None and option.default is None):
            continue
        if not is_kind(option, value):
            raise UsageError(f"{option.flag} must be {_KIND_WORDS[option.kind]} (got {value!r})")
        if not option.allows(value):
            shown = f"{value:g}" if option.kind is float else value
            raise UsageError(f"{option.flag} must be {option.limits()} (got {shown})")


#: How messages name the kinds of option values.
_KIND_WORDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}


def is_kind(option: SearchOption, value: Any) -> bool:
    """Return whether ``value`` is of the option's kind: a bool is no number; an int is a float too, as in JSON."""
    if option.kind is bool or isinstance(value, bool):
        return isinstance(value, bool) and option.kind is bool
    return isinstance(value, (int, float) if option.kind is float else option.kind)


def _check_item(option: SearchOption, value: Any) -> None:
    """Refuse one value of a repeated option that is not a non-empty string, or not one of its choices."""
    if not isinstance(value, str) or not value:
        raise UsageError(f"{option.flag} takes non-empty text (got {value!r})")
    if option.choices and value not in option.choices:
        raise UsageError(f"unknown {option.flag} '{value}'; allowed: {', '.join(option.choices)}")
