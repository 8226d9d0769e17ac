"""Turn a configured pipeline (plus ``--backend``/``--mode`` flags) into loaded plugins and options.

Only the plugins the pipeline needs are imported, when they are needed: the lexical
plugin at once, the embedder, vector store and fusion plugins on first use (a lexical
search never imports them). Each plugin's options are validated against its own
declaration (``aurora_describe``) and completed with its defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aurora.config.layers import COMMAND_LINE, DEFAULT_WEIGHTS, Config, RoleConfig
from aurora.config.validation import resolve as resolve_options
from aurora.errors import AuroraError, ConfigError, PluginNotFoundError
from aurora.host.registry import LoadedPlugin, PluginHost, canonical_name, discover, roles_of
from aurora.index import lexical

if TYPE_CHECKING:
    from aurora.host.contract import PluginDescription
    from aurora.semantic.vectors import SemanticRole

#: What a pipeline uses for a role it does not name (an embedder it must name to have one).
#: The plugin of each role a pipeline does not name. Fusion: weighted min-max scored 0.736 / 0.563
#: nDCG@10 on SciFact / CoSQA against 0.719 / 0.520 for RRF (docs/benchmarks.md, "Fusion").
DEFAULTS = {"lexical": "bm25s", "store": "lancedb", "fusion": "weighted"}
#: Where a role the index decided comes from (its recorded embedder), in messages and ``aurora config show``.
INDEX_SOURCE = "the index's recorded embedder"


class Pipeline:
    """A resolved pipeline: its name, default mode and the plugins filling its roles."""

    def __init__(
        self,
        name: str,
        mode: str,
        description: str,
        roles: Mapping[str, RoleConfig],
        host: PluginHost,
        root: Path,
        removed: frozenset[str] = frozenset(),
        weights: Mapping[str, float] | None = None,
    ) -> None:
        self.name = name
        self.mode = mode
        self.description = description
        self.root = root
        self._roles = dict(roles)
        self._removed = removed
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self._host = host
        self._resolved: dict[str, tuple[LoadedPlugin, dict[str, Any]]] = {}
        self.lexical = None if self._disabled("lexical") else lexical.LexicalRole(*self._resolve("lexical"))

    @property
    def has_embedder(self) -> bool:
        """True when the pipeline names an embedder (known without importing anything)."""
        return "embedder" in self._roles

    def require_lexical(self) -> lexical.LexicalRole:
        """Return the lexical role, or explain that the pipeline needs one."""
        if self.lexical is None:
            raise ConfigError(
                f"pipeline '{self.name}' has no lexical plugin; Aurora needs one",
                hint=f'add lexical = "bm25s" to [pipelines.{self.name}] in aurora.toml',
            )
        return self.lexical

    def semantic(self, index_folder: Path) -> SemanticRole:
        """Return the embedder and vector store of the index in ``index_folder``, resolving them on first use.

        Vectors go to the store's ``uri`` (relative to the project root), by default to
        ``vectors/`` in the index folder.
        """
        if not self.has_embedder:
            raise ConfigError(
                f"pipeline '{self.name}' has no embedder",
                hint=f'add embedder = "fastembed" to [pipelines.{self.name}], or pass --backend fastembed',
            )
        from aurora.semantic.models import identity, parse_model
        from aurora.semantic.vectors import SemanticRole

        embedder, embedder_options = self._resolve("embedder")
        store, store_options = self.store()
        model = parse_model(embedder_options["model"], self.root)
        uri = store_options.get("uri") or str(index_folder / "vectors")
        if "://" not in uri and not Path(uri).is_absolute():
            uri = str(self.root / uri)
        return SemanticRole(embedder, embedder_options, model, identity(model), store, store_options, uri)

    def store(self) -> tuple[LoadedPlugin, dict[str, Any]]:
        """Return the vector store plugin and its options, resolving them on first use."""
        return self._resolve("store")

    def fusion(self) -> tuple[LoadedPlugin, dict[str, Any]]:
        """Return the fusion plugin and its options, resolving them on first use."""
        return self._resolve("fusion")

    def reranker(self) -> tuple[LoadedPlugin, dict[str, Any]] | None:
        """Return the reranker plugin and its options (resolved on first use), or None when the pipeline has none."""
        if "reranker" not in self._roles:
            return None
        return self._resolve("reranker")

    def roles(self) -> dict[str, tuple[LoadedPlugin, Mapping[str, Any]]]:
        """Return the plugin and resolved options of every role (loading every plugin)."""
        names = list(self._roles)
        if self.has_embedder:
            names += [role for role in ("store", "fusion") if role not in names]
        return {role: self._resolve(role) for role in names}

    def _disabled(self, role: str) -> bool:
        """Return whether the configuration removed the role with ``plugin = "none"``."""
        return role in self._removed

    def _resolve(self, role: str) -> tuple[LoadedPlugin, dict[str, Any]]:
        if role not in self._resolved:
            config = self._roles.get(role) or RoleConfig(role, DEFAULTS[role], "built-in default", {})
            self._resolved[role] = _load(self._host, self.name, config)
        return self._resolved[role]


def resolve(
    config: Config,
    host: PluginHost,
    root: Path,
    name: str | None = None,
    backend: str | None = None,
    indexed: Mapping[str, Any] | None = None,
) -> Pipeline:
    """Resolve pipeline ``name`` (default pipeline if None), replacing roles ``backend`` can fill.

    A role the pipeline already fills with ``backend`` keeps its configured options.
    ``indexed`` is the index's record of its vectors (:func:`aurora.semantic.vectors.recorded`):
    a pipeline that names no embedder, and does not remove it (``plugin = "none"``), takes
    the recorded embedder plugin and model (with the options recorded, if any).
    """
    spec = config.pipeline(name)
    roles = dict(spec.roles)
    if backend:
        for role in _backend_roles(backend):
            configured = roles.get(role)
            if configured is None or canonical_name(configured.plugin) != canonical_name(backend):
                roles[role] = RoleConfig(role=role, plugin=backend, plugin_source=COMMAND_LINE, options={})
    if indexed is not None and "embedder" not in roles and "embedder" not in spec.removed:
        options = {**indexed.get("options", {}), "model": indexed["model"]}
        given = {key: (value, INDEX_SOURCE) for key, value in options.items()}
        roles["embedder"] = RoleConfig("embedder", indexed["embedder"], INDEX_SOURCE, given)
    return Pipeline(spec.name, spec.mode, spec.description, roles, host, root, spec.removed, spec.weights)


def names_embedder(config: Config, name: str | None, backend: str | None) -> bool:
    """Return whether pipeline ``name`` with ``backend`` decides its embedder itself (names or removes one).

    Metadata only: nothing is imported. When it does not, the index's recorded embedder is used.
    """
    spec = config.pipeline(name)
    return "embedder" in spec.roles or "embedder" in spec.removed or bool(backend and "embedder" in roles_of(backend))


def embedder_installed(indexed: Mapping[str, Any]) -> bool:
    """Return whether the embedder plugin the index recorded is installed (entry-point metadata only)."""
    return "embedder" in roles_of(indexed["embedder"])


def plugin_description(host: PluginHost, plugin: LoadedPlugin) -> PluginDescription | None:
    """Return what ``plugin`` says about itself (None if it has no ``aurora_describe``)."""
    return host.call(plugin, "aurora_describe")


def plugin_options(host: PluginHost, plugin: LoadedPlugin) -> Mapping[str, Any]:
    """Return the options ``plugin`` declares (empty if it declares none)."""
    description = plugin_description(host, plugin)
    return description.options if description is not None else {}


def _load(host: PluginHost, pipeline: str, role: RoleConfig) -> tuple[LoadedPlugin, dict[str, Any]]:
    try:
        plugin = host.load(role.role, role.plugin)
    except AuroraError as exc:
        raise type(exc)(f"{role.plugin_source}: {exc.message}", exc.hint) from exc.__cause__
    declared = plugin_options(host, plugin)
    return plugin, resolve_options(f"pipelines.{pipeline}.{role.role}", declared, role.options)


def _backend_roles(backend: str) -> list[str]:
    roles = roles_of(backend)
    if not roles:
        installed = ", ".join(f"{e.name} ({e.role})" for e in discover()) or "none"
        raise PluginNotFoundError(
            f"unknown backend '{backend}'; installed plugins: {installed}",
            hint="install the package that provides it; `aurora plugins list` shows what is installed",
        )
    return roles
