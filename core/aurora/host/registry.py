"""Plugin discovery from entry-point metadata, and on-demand loading into pluggy.

Discovery reads installed distributions' entry points and imports nothing. A plugin
module is imported, validated and registered only when a pipeline selects it
(:meth:`PluginHost.load`). The core never imports a plugin by name: first-party
plugins are found through the same entry points as third-party ones.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any, NamedTuple

from aurora.common.atomic import write_text_atomically
from aurora.common.dirs import user_cache_dir
from aurora.common.hints import install_hint
from aurora.errors import PluginLoadError, PluginNotFoundError

#: Entry-point group of each role. The entry-point name is the plugin's name.
ROLE_GROUPS: dict[str, str] = {
    "lexical": "aurora.lexical",
    "embedder": "aurora.embedder",
    "store": "aurora.store",
    "fusion": "aurora.fusion",
    "chunker": "aurora.chunker",
    "reranker": "aurora.reranker",
    "command": "aurora.command",
}


def canonical_name(name: str) -> str:
    """Return the form under which plugin names are compared (case and -/_ folded)."""
    return name.strip().lower().replace("_", "-")


class PluginEntry(NamedTuple):
    """One installed plugin as its entry point describes it (no import involved)."""

    name: str
    role: str
    value: str
    distribution: str | None
    version: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as a JSON-ready dict."""
        return {
            "name": self.name,
            "role": self.role,
            "module": self.value,
            "distribution": self.distribution,
            "version": self.version,
        }


def discover(role: str | None = None) -> list[PluginEntry]:
    """List installed plugins, for one role or all, from entry-point metadata only."""
    roles = [role] if role else list(ROLE_GROUPS)
    found = [entry for each in roles for entry in _installed()[each]]
    return sorted(found, key=lambda e: (e.role, canonical_name(e.name)))


def roles_of(name: str) -> list[str]:
    """Return the roles a plugin called ``name`` is installed for (metadata only)."""
    wanted = canonical_name(name)
    return sorted({e.role for e in discover() if canonical_name(e.name) == wanted})


@functools.cache
def _installed() -> dict[str, tuple[PluginEntry, ...]]:
    """Return the plugin entries of every role, from the cache when the environment is unchanged.

    Scanning every distribution's metadata costs ~15 ms (importing importlib.metadata
    included), too much for a search that must answer in a tenth of a second. Like
    stevedore, the scan is cached per environment, keyed by ``sys.path`` and the
    modification times of its folders, which change whenever pip adds or removes a
    distribution.
    """
    search_path = _search_path()
    key = _environment_key(search_path)
    path = user_cache_dir() / f"entry-points-{zlib.crc32(key.encode()):08x}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached["key"] == key:
            return {role: tuple(PluginEntry(**e) for e in cached["entries"][role]) for role in ROLE_GROUPS}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    entries = _scan(search_path)
    _write_cache(path, key, entries)
    return entries


def _search_path() -> list[str]:
    """Return ``sys.path`` without the current folder, where no plugin distribution is installed.

    Leaving it out keeps ``python -m aurora`` from caching (and rescanning) once per folder.
    """
    here = os.getcwd()
    return [entry for entry in sys.path if entry not in ("", ".", here)]


def _scan(search_path: list[str]) -> dict[str, tuple[PluginEntry, ...]]:
    from importlib.metadata import distributions

    found: dict[str, list[PluginEntry]] = {role: [] for role in ROLE_GROUPS}
    roles = {group: role for role, group in ROLE_GROUPS.items()}
    seen = set()
    for dist in distributions(path=search_path):
        ours = [ep for ep in dist.entry_points if ep.group in roles]
        if not ours:
            continue  # reading a distribution's metadata is the slow part: only ours
        name, version = dist.metadata["Name"], dist.version
        for ep in ours:
            if (ep.group, ep.name, ep.value) in seen:  # a copy shadowed by an earlier path entry
                continue
            seen.add((ep.group, ep.name, ep.value))
            found[roles[ep.group]].append(PluginEntry(ep.name, roles[ep.group], ep.value, name, version))
    return {role: tuple(entries) for role, entries in found.items()}


def _environment_key(search_path: list[str]) -> str:
    parts = [sys.executable, sys.version]
    for entry in search_path:
        try:
            parts.append(f"{entry}={os.stat(entry).st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}=-")
    return "\n".join(parts)


#: Cache files kept (one per environment recently used); older ones are deleted.
_CACHE_FILES_KEPT = 8


def _write_cache(path: Path, key: str, entries: dict[str, tuple[PluginEntry, ...]]) -> None:
    document = {"key": key, "entries": {role: [e._asdict() for e in found] for role, found in entries.items()}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps(document))
        cached = sorted(path.parent.glob("entry-points-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in cached[_CACHE_FILES_KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # an unwritable cache folder only costs the next process a rescan


class LoadedPlugin(NamedTuple):
    """A plugin imported and registered with the host's plugin manager."""

    name: str
    role: str
    obj: Any
    distribution: str | None = None


class PluginHost:
    """A pluggy plugin manager that imports and registers plugins only when asked."""

    def __init__(self) -> None:
        import pluggy

        from aurora.host import hookspecs

        self._pm = pluggy.PluginManager("aurora")
        self._pm.add_hookspecs(hookspecs)
        self._loaded: dict[tuple[str, str], LoadedPlugin] = {}

    def load(self, role: str, name: str) -> LoadedPlugin:
        """Import the plugin ``name`` for ``role`` and register it (once per host).

        Plugins added with :meth:`register` are found before installed ones.
        """
        key = (role, canonical_name(name))
        if key not in self._loaded:
            entry = _find(role, name)
            obj = _import(entry)
            if not self._pm.is_registered(obj):
                self._register(obj, entry)
            self._loaded[key] = LoadedPlugin(entry.name, role, obj, entry.distribution)
        return self._loaded[key]

    def register(self, obj: Any, name: str, role: str) -> LoadedPlugin:
        """Register the in-process plugin ``obj`` (a module or object with hook implementations) for ``role``.

        Pipelines then select it by name like an installed one; no distribution or entry
        point is needed (tests, notebooks, applications embedding Aurora). A plugin of the
        same role and name registered before is replaced.
        """
        if role not in ROLE_GROUPS:
            raise PluginLoadError(f"unknown plugin role '{role}'; roles: {', '.join(ROLE_GROUPS)}")
        key = (role, canonical_name(name))
        previous = self._loaded.pop(key, None)
        if previous is not None and self._pm.is_registered(previous.obj):
            self._pm.unregister(previous.obj)
        entry = PluginEntry(name, role, f"<in-process {type(obj).__name__}>", None, None)
        if not self._pm.is_registered(obj):
            self._register(obj, entry)
        self._loaded[key] = LoadedPlugin(name, role, obj)
        return self._loaded[key]

    def call(self, plugin: LoadedPlugin, hook: str, **kwargs: Any) -> Any:
        """Call ``hook`` on ``plugin`` alone and return its answer (``None`` if it has none)."""
        others = [p for p in self._pm.get_plugins() if p is not plugin.obj]
        return self._pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)

    def require(self, plugin: LoadedPlugin, hook: str, **kwargs: Any) -> Any:
        """Like :meth:`call`, but a missing answer is an error naming the plugin and hook."""
        result = self.call(plugin, hook, **kwargs)
        if result is None:
            raise PluginLoadError(
                f"{plugin.role} plugin '{plugin.name}' does not implement {hook}()",
                hint="it cannot fill this role; pick another plugin (see `aurora plugins list`)",
            )
        return result

    def _register(self, obj: Any, entry: PluginEntry) -> None:
        """Register ``obj`` with pluggy, then refuse it if it declares a contract this host does not implement."""
        import pluggy

        try:
            self._pm.register(obj, name=f"{entry.role}:{entry.name}")
            self._pm.check_pending()
        except (pluggy.PluginValidationError, ValueError) as exc:
            if self._pm.is_registered(obj):
                self._pm.unregister(obj)
            raise PluginLoadError(
                f"plugin '{entry.name}' ({entry.value}) breaks the hook contract: {exc}",
                hint="the plugin is incompatible with this version of Aurora; upgrade or report it",
            ) from exc
        problem = _api_mismatch(self._pm, obj)
        if problem is not None:
            self._pm.unregister(obj)
            raise PluginLoadError(f"plugin '{entry.name}' ({entry.value}) {problem}", hint=_API_HINT)


_API_HINT = "upgrade the plugin, or Aurora, so that both implement the same hook contract (docs/plugins.md)"


def _api_mismatch(pm: Any, obj: Any) -> str | None:
    """Return why ``obj`` cannot serve this host, from the ``api_version`` its description declares; None if it can.

    A plugin that declares no version is taken on trust (the hook signatures were checked already).
    """
    from aurora.host.hookspecs import API_VERSION, OLDEST_SUPPORTED_API

    others = [p for p in pm.get_plugins() if p is not obj]
    description = pm.subset_hook_caller("aurora_describe", remove_plugins=others)()
    declared = getattr(description, "api_version", None)
    if declared is None:
        return None
    if declared > API_VERSION:
        return f"needs hook contract {declared}, newer than this Aurora's ({API_VERSION})"
    if declared < OLDEST_SUPPORTED_API:
        return (
            f"was written for hook contract {declared}; this Aurora implements {API_VERSION} "
            f"(and loads plugins written for {OLDEST_SUPPORTED_API} or later)"
        )
    return None


def _find(role: str, name: str) -> PluginEntry:
    wanted = canonical_name(name)
    entries = _installed()[role]
    matches = [entry for entry in entries if canonical_name(entry.name) == wanted]
    if not matches:
        available = sorted({entry.name for entry in entries})
        elsewhere = roles_of(name)
        hint = (
            f"'{name}' is a {', '.join(elsewhere)} plugin, not a {role} plugin"
            if elsewhere
            else "install a package that provides it, or see `aurora plugins list`"
        )
        raise PluginNotFoundError(
            f"unknown {role} plugin '{name}'; available: {', '.join(available) or 'none'}", hint=hint
        )
    if len(matches) > 1:
        dists = ", ".join(sorted(entry.distribution or "?" for entry in matches))
        raise PluginLoadError(
            f"{role} plugin '{name}' is provided by several distributions: {dists}",
            hint="uninstall all but one of them",
        )
    return matches[0]


def _import(entry: PluginEntry) -> Any:
    """Import the object an entry point names (``module`` or ``module:attribute``)."""
    import importlib

    module_name, _, attribute = entry.value.split("[")[0].partition(":")  # extras are ignored
    try:
        obj = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            obj = getattr(obj, part)
    except ImportError as exc:
        raise PluginLoadError(
            f"{entry.role} plugin '{entry.name}' failed to import: {exc}",
            hint=install_hint(entry.distribution, exc.name),
        ) from exc
    except AttributeError as exc:
        raise PluginLoadError(
            f"{entry.role} plugin '{entry.name}': entry point {entry.value!r} names nothing: {exc}",
            hint="the plugin's package is broken; reinstall or report it",
        ) from exc
    return obj
