"""Turn a configured pipeline (plus ``--backend``/``--mode`` flags) into loaded plugins and options.

Only the plugins the pipeline names are imported. Each one's options are validated
against its own declaration (``aurora_describe``) and completed with its defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from aurora import lexical
from aurora.config import COMMAND_LINE, Config, RoleConfig
from aurora.errors import AuroraError, ConfigError, PluginNotFoundError
from aurora.options import resolve as resolve_options
from aurora.plugins import LoadedPlugin, PluginHost, discover, roles_of


class Pipeline(NamedTuple):
    """A resolved pipeline: its name, default mode and the plugins filling its roles."""

    name: str
    mode: str
    description: str
    lexical: lexical.LexicalRole | None

    def require_lexical(self) -> lexical.LexicalRole:
        """Return the lexical role, or explain that the pipeline needs one."""
        if self.lexical is None:
            raise ConfigError(
                f"pipeline '{self.name}' has no lexical plugin; Aurora needs one",
                hint=f'add lexical = "bm25s" to [pipelines.{self.name}] in aurora.toml',
            )
        return self.lexical

    def roles(self) -> dict[str, tuple[LoadedPlugin, Mapping[str, Any]]]:
        """Return the plugin and resolved options of every role the pipeline fills."""
        found = {}
        if self.lexical is not None:
            found["lexical"] = (self.lexical.plugin, self.lexical.options)
        return found


def resolve(config: Config, host: PluginHost, name: str | None = None, backend: str | None = None) -> Pipeline:
    """Resolve pipeline ``name`` (default pipeline if None), replacing roles ``backend`` can fill."""
    spec = config.pipeline(name)
    roles = dict(spec.roles)
    if backend:
        for role in _backend_roles(backend):
            roles[role] = RoleConfig(role=role, plugin=backend, plugin_source=COMMAND_LINE, options={})
    lexical_role = None
    if "lexical" in roles:
        plugin, options = _load(host, spec.name, roles["lexical"])
        lexical_role = lexical.LexicalRole(plugin, options)
    return Pipeline(name=spec.name, mode=spec.mode, description=spec.description, lexical=lexical_role)


def plugin_options(host: PluginHost, plugin: LoadedPlugin) -> Mapping[str, Any]:
    """Return the options ``plugin`` declares (empty if it declares none)."""
    description = host.call(plugin, "aurora_describe")
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
