"""Layered TOML configuration that remembers where every value came from.

Sources, lowest precedence first (later ones override single keys of earlier ones):

1. built-in defaults;
2. the user file ``$XDG_CONFIG_HOME/aurora/config.toml`` (``~/.config/aurora/config.toml``; on
   macOS and Windows the platform's own folder: :mod:`aurora.common.dirs`);
3. ``[tool.aurora]`` in ``<root>/pyproject.toml``;
4. ``<root>/aurora.toml``;
5. command-line flags (``--pipeline``, ``--backend``, ``--mode``, ``--limit``), which the
   commands apply on top of this configuration.

Tables merge key by key; any other value (lists included) replaces the earlier one.
Keys of a pipeline's role tables other than ``plugin`` are plugin options, checked
against the plugin's own declaration when the pipeline loads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from aurora.common.dirs import user_config_dir
from aurora.common.untrusted import UntrustedFileError, read_regular
from aurora.config.validation import check_value
from aurora.errors import ConfigError
from aurora.host.contract import Option
from aurora.search.options import MAX_LIMIT, MAX_SNIPPET_LINES, MAX_WAIT_S, MODES

Key = tuple[str, ...]

BUILTIN = "built-in default"
COMMAND_LINE = "command line"

#: The roles a pipeline fills (chunkers are chosen per index, in ``[index]``).
ROLES = ("lexical", "embedder", "store", "fusion", "reranker")

#: The host's own settings (plugin options are declared by the plugins).
HOST_OPTIONS: dict[Key, Option] = {
    ("default_pipeline",): Option("default", "pipeline used when --pipeline is not given"),
    ("index", "exclude"): Option([], "extra gitignore-style patterns to skip", list),
    ("index", "hidden"): Option(False, "index hidden files and folders", bool),
    ("index", "follow_symlinks"): Option(False, "follow symbolic links (those leaving the root: see below)", bool),
    ("index", "links_leaving_root"): Option(
        False, "follow links whose target is outside the root too (your own config.toml only)", bool
    ),
    ("index", "max_file_size"): Option(1_048_576, "skip files larger than this (bytes)", int, minimum=1),
    ("index", "window_lines"): Option(50, "lines per chunk of plain text", int, minimum=5, maximum=5000),
    ("index", "window_overlap"): Option(5, "lines shared by neighbouring text chunks", int, minimum=0),
    ("index", "max_chunk_lines"): Option(150, "longer functions and sections are split", int, minimum=10),
    ("index", "chunkers"): Option(
        ["treesitter", "markdown"],
        "chunker plugins by preference: the first that handles a file's language splits it",
        list,
    ),
    ("index", "fallback_chunker"): Option("windows", "chunker plugin for files no listed chunker handles"),
    ("index", "workers"): Option(
        0, "processes that read and chunk files (0: one per CPU core; never more than the cores)", int, minimum=0
    ),
    ("search", "limit"): Option(10, "results to show", int, minimum=1, maximum=MAX_LIMIT),
    ("search", "snippet_lines"): Option(3, "snippet lines per result", int, minimum=0, maximum=MAX_SNIPPET_LINES),
    ("search", "wait"): Option(
        "auto",
        "wait for a model that is still loading: true, false, or auto (when it loaded quickly before)",
        object,
        choices=("auto", True, False),
    ),
    ("search", "wait_timeout"): Option(
        60.0, "seconds to wait for a loading model", float, minimum=0.1, maximum=MAX_WAIT_S
    ),
    ("activation", "enabled"): Option(True, "rank recently and often used chunks higher", bool),
    # A shown result is not a use: record_top 0. In bench/activation.py's sessions (a query a minute; for every other
    # query the relevant results shown are read) reads alone beat activation off over all queries by 0.9, 1.6 and 2.6
    # points of nDCG@10 on SciFact, CoSQA and six code-search repositories; recording each search's top 3 as well
    # took back 0.4, 2.0 and 2.4 of them (CoSQA then fell below off), and record_top 0 was best at every weight.
    # A read is one access (read_weight 1): weight 2 gained 0.4-0.7 points more when only relevant results were read,
    # and lost up to 0.6 more when every query also read one result it did not use. Tables: docs/activation.md.
    ("activation", "record_top"): Option(
        0, "top results of a search recorded as used (0: none)", int, minimum=0, maximum=100
    ),
    ("activation", "read_weight"): Option(
        1.0, "weight of a chunk read with `aurora read` (the read tool)", float, minimum=0.1, maximum=1000
    ),
    ("activation", "feedback_weight"): Option(
        5.0, "weight of `aurora feedback` vs a read or a shown result (1)", float, minimum=0.1, maximum=1000
    ),
    ("activation", "decay"): Option(0.5, "ACT-R decay d in ln(sum t^-d)", float, minimum=0.05, maximum=0.95),
    ("activation", "threshold"): Option(
        -4.0, "activation with retrieval probability 1/2", float, minimum=-30, maximum=30
    ),
    ("activation", "noise"): Option(1.0, "spread s of the retrieval probability", float, minimum=0.05, maximum=10),
    ("activation", "max_history"): Option(
        100, "accesses kept per chunk; older ones are merged", int, minimum=1, maximum=100_000
    ),
    ("server", "watch"): Option(True, "re-index what changes under the root while serving", bool),
    ("server", "autostart"): Option(
        False,
        "start `aurora serve` in the background at a search when none runs: true, false, or auto "
        "(on an interactive terminal, outside CI)",
        object,
        choices=("auto", True, False),
    ),
    ("server", "idle_timeout"): Option(
        1800.0, "seconds without a request before the server stops (0: never)", float, minimum=0, maximum=604_800
    ),
    ("server", "workers"): Option(8, "requests the server handles at once", int, minimum=1, maximum=256),
}

#: Signals a pipeline can weight in ``[pipelines.NAME.weights]``.
SIGNALS = ("lexical", "semantic", "activation")
WEIGHT = Option(1.0, "weight of the signal in fusion", float, minimum=0.0, maximum=100.0)
#: Activation 0.2: in bench/activation.py's sessions it lifted queries with feedback by about 3 points of
#: nDCG@10 and cost the others under 1 (0.5 cost them 1.2 and 5.7 points on SciFact and CoSQA).
DEFAULT_WEIGHTS = {"lexical": 1.0, "semantic": 1.0, "activation": 0.2}

PIPELINE_OPTIONS: dict[str, Option] = {
    "description": Option("", "what the pipeline is for"),
    "mode": Option("auto", "search mode when --mode is not given (auto: hybrid with an embedder)", choices=MODES),
}

BUILTIN_PIPELINES: dict[str, Any] = {
    "default": {
        "description": "BM25 over code-aware tokens; hybrid with --backend fastembed or sentence-transformers",
        "mode": "auto",
        "lexical": {"plugin": "bm25s"},
        "reranker": {"plugin": "code"},
    },
}

#: The largest configuration file read.
MAX_CONFIG_BYTES = 1_048_576
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


class RoleConfig(NamedTuple):
    """The plugin chosen for one role of a pipeline and the options given for it."""

    role: str
    plugin: str
    plugin_source: str
    options: Mapping[str, tuple[Any, str]]


class PipelineConfig(NamedTuple):
    """A named pipeline: its mode and the plugin (with options) filling each role."""

    name: str
    mode: str
    description: str
    roles: Mapping[str, RoleConfig]
    removed: frozenset[str] = frozenset()
    weights: Mapping[str, float] = DEFAULT_WEIGHTS


class Config:
    """The merged configuration: leaf keys mapped to (value, source)."""

    def __init__(
        self, values: dict[Key, tuple[Any, str]], sources: list[str], notices: list[str] | None = None
    ) -> None:
        self._values = values
        self.sources = sources
        #: What was left out while reading (a file that is not a regular one, a setting a project may not make).
        self.notices = notices or []

    def get(self, *key: str) -> Any:
        """Return the value at ``key`` (a host setting, so a default always exists)."""
        return self._values[key][0]

    def source(self, *key: str) -> str:
        """Return where the value at ``key`` came from."""
        return self._values[key][1]

    def items(self) -> Iterator[tuple[Key, Any, str]]:
        """Yield (key, value, source) for every leaf, sorted by key."""
        for key in sorted(self._values):
            value, source = self._values[key]
            yield key, value, source

    def fingerprint(self) -> str:
        """Return a string that changes whenever any effective value changes."""
        return json.dumps(sorted((list(key), value) for key, (value, _) in self._values.items()), default=str)

    def chunker_options(self, name: str) -> dict[str, tuple[Any, str]]:
        """Return the options given for chunker ``name`` in ``[chunkers.NAME]`` (option -> (value, source))."""
        return {k[2]: v for k, v in self._values.items() if k[:2] == ("chunkers", name) and len(k) == 3}

    def pipeline_names(self) -> list[str]:
        """Return the names of all configured pipelines."""
        return sorted({key[1] for key in self._values if key[0] == "pipelines"})

    def pipeline(self, name: str | None = None) -> PipelineConfig:
        """Return the pipeline ``name`` (the default pipeline when ``None``)."""
        name = name or self.get("default_pipeline")
        if name not in self.pipeline_names():
            where = self.source("default_pipeline") if name == self.get("default_pipeline") else COMMAND_LINE
            raise ConfigError(
                f"{where}: unknown pipeline '{name}'; available: {', '.join(self.pipeline_names())}",
                hint="define it under [pipelines.NAME] in aurora.toml, or pick one of the available ones",
            )
        prefix = ("pipelines", name)
        settings = {k[2]: v for k, v in self._values.items() if k[:2] == prefix and len(k) == 3}
        roles = {}
        removed = set()
        for role in ROLES:
            table = {k[3]: v for k, v in self._values.items() if k[:3] == (*prefix, role) and len(k) == 4}
            plugin = table.pop("plugin", None)
            if plugin is None or plugin[0] == "none":
                if table:
                    some_source = next(iter(table.values()))[1]
                    raise ConfigError(
                        f"{some_source}: pipelines.{name}.{role} has options but no plugin",
                        hint=f'add plugin = "NAME" to [pipelines.{name}.{role}]',
                    )
                if plugin is not None:
                    removed.add(role)
                continue
            roles[role] = RoleConfig(role=role, plugin=plugin[0], plugin_source=plugin[1], options=table)
        return PipelineConfig(
            name=name,
            mode=settings.get("mode", (PIPELINE_OPTIONS["mode"].default, BUILTIN))[0],
            description=settings.get("description", ("", BUILTIN))[0],
            roles=roles,
            removed=frozenset(removed),
            weights={
                signal: float(self._values.get((*prefix, "weights", signal), (default, BUILTIN))[0])
                for signal, default in DEFAULT_WEIGHTS.items()
            },
        )


def user_config_path() -> Path:
    """Return the user configuration file path (it need not exist)."""
    return user_config_dir() / "config.toml"


def load(root: Path | None) -> Config:
    """Read and merge every configuration source for the project at ``root``."""
    values: dict[Key, tuple[Any, str]] = {}
    sources, notices = [BUILTIN], []
    _merge(values, _builtin_table(), BUILTIN)
    user_file = user_config_path()
    layers: list[tuple[Path, Key]] = [(user_file, ())]
    if root is not None:
        layers += [(root / "pyproject.toml", ("tool", "aurora")), (root / "aurora.toml", ())]
    for path, subtable in layers:
        table = _read_toml(path, None if path == user_file else root, notices)
        for depth, part in enumerate(subtable, start=1):
            table = table.get(part, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: [{'.'.join(subtable[:depth])}] must be a table")
        if table:
            label = f"{path}" if not subtable else f"{path} [{'.'.join(subtable)}]"
            _merge(values, _normalise(table, label), label)
            sources.append(label)
    _validate(values)
    key = ("index", "links_leaving_root")
    if values[key][1] not in (BUILTIN, str(user_file)):  # a repository may not open the way out of itself
        notices.append(f"{values[key][1]}: index.links_leaving_root is ignored: only {user_file} may set it")
        values[key] = (HOST_OPTIONS[key].default, BUILTIN)
    return Config(values, sources, notices)


def _builtin_table() -> dict[str, Any]:
    table: dict[str, Any] = {"pipelines": BUILTIN_PIPELINES}
    for key, option in HOST_OPTIONS.items():
        node = table
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = option.default
    return table


def _read_toml(path: Path, inside: Path | None, notices: list[str]) -> dict[str, Any]:
    """Return the TOML table of ``path`` ({} when missing or not read: then a notice says why).

    A project's file (``inside`` its root) is read only if it is a regular file there; any
    file only up to :data:`MAX_CONFIG_BYTES`.
    """
    import tomllib

    try:
        return tomllib.loads(read_regular(path, MAX_CONFIG_BYTES, inside).decode("utf-8"))
    except FileNotFoundError:
        return {}
    except UntrustedFileError as exc:
        notices.append(f"{path}: {exc.reason}; its settings do not apply")
        return {}
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: tables or arrays nested too deeply") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: the file is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        where = f"{path}:{position[1]}:{position[2]}" if position else str(path)
        raise ConfigError(
            f"{where}: invalid TOML: {_TOML_POSITION.sub('', message)}",
            hint="fix the syntax at that line (https://toml.io)",
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _normalise(table: dict[str, Any], label: str) -> dict[str, Any]:
    """Expand ``lexical = "bm25s"`` shorthands into ``lexical = {plugin = "bm25s"}``."""
    pipelines = table.get("pipelines")
    if pipelines is None:
        return table
    if not isinstance(pipelines, dict):
        raise ConfigError(f"{label}: pipelines must be a table of named pipelines, like [pipelines.default]")
    for name, pipeline in pipelines.items():
        if not isinstance(pipeline, dict):
            raise ConfigError(f"{label}: pipelines.{name} must be a table, like [pipelines.{name}]")
        for role in ROLES:
            if isinstance(pipeline.get(role), str):
                pipeline[role] = {"plugin": pipeline[role]}
    return table


def _merge(values: dict[Key, tuple[Any, str]], table: Mapping[str, Any], label: str, prefix: Key = ()) -> None:
    for name, value in table.items():
        key = (*prefix, name)
        if isinstance(value, dict):
            _merge(values, value, label, key)
        else:
            values[key] = (value, label)


def _validate(values: dict[Key, tuple[Any, str]]) -> None:
    for key, (value, source) in list(values.items()):
        dotted = ".".join(key)
        if key in HOST_OPTIONS:
            values[key] = (check_value(dotted, value, HOST_OPTIONS[key], source), source)
        elif key[0] == "pipelines":
            _validate_pipeline_key(key, value, source)
        elif key[0] == "chunkers" and len(key) == 3:
            pass  # a chunker's option: checked against the chunker's declaration when an index run loads it
        elif key[0] in ("index", "search", "activation", "server") and len(key) == 1:
            raise ConfigError(f"{source}: {dotted} must be a table, like [{dotted}]")
        else:
            section = [".".join(k) for k in HOST_OPTIONS if k[: len(key) - 1] == key[:-1]]
            allowed = ", ".join(section) if section and len(key) > 1 else _top_level_keys()
            raise ConfigError(f"{source}: unknown key {dotted}; allowed: {allowed}")
    overlap, lines = values[("index", "window_overlap")], values[("index", "window_lines")]
    if overlap[0] >= lines[0]:
        raise ConfigError(f"{overlap[1]}: index.window_overlap must be smaller than index.window_lines ({lines[0]})")


def _validate_pipeline_key(key: Key, value: Any, source: str) -> None:
    dotted = ".".join(key)
    if len(key) < 3:
        raise ConfigError(f"{source}: {dotted} must be a table, like [pipelines.NAME]")
    field = key[2]
    if len(key) == 3 and field in PIPELINE_OPTIONS:
        check_value(dotted, value, PIPELINE_OPTIONS[field], source)
    elif len(key) == 3 and field in ROLES:
        raise ConfigError(f'{source}: {dotted} must be a plugin name or a table, like {field} = "bm25s"')
    elif len(key) == 4 and field == "weights" and key[3] in SIGNALS:
        check_value(dotted, value, WEIGHT, source)
    elif len(key) == 3 and field == "weights":
        raise ConfigError(f"{source}: {dotted} must be a table, like [pipelines.{key[1]}.weights]")
    elif len(key) == 4 and field in ROLES:
        if key[3] == "plugin" and not (isinstance(value, str) and value.strip()):
            raise ConfigError(f"{source}: {dotted} must be a plugin name (a string); see `aurora plugins list`")
    else:
        if field == "weights":
            raise ConfigError(f"{source}: unknown key {dotted}; allowed in weights: {', '.join(SIGNALS)}")
        allowed = ", ".join([*PIPELINE_OPTIONS, *ROLES, "weights"])
        raise ConfigError(f"{source}: unknown key {dotted}; allowed in a pipeline: {allowed}")


def _top_level_keys() -> str:
    return "default_pipeline, [index], [search], [activation], [server], [pipelines.NAME], [chunkers.NAME]"
