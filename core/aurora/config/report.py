"""The rows of ``aurora config show``: every effective value and where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aurora.config.layers import BUILTIN, COMMAND_LINE

if TYPE_CHECKING:
    from aurora.api import Project


def effective_settings(project: Project, pipeline: str | None, backend: str | None) -> list[tuple[str, Any, str]]:
    """Return (dotted key, value, source) for every setting, plugin defaults of the selected pipeline included."""
    rows = {".".join(key): (value, source) for key, value, source in project.config.items()}
    resolved = project.pipeline(pipeline, backend)
    configured = project.config.pipeline(pipeline).roles
    for role, (plugin, options) in resolved.roles().items():
        prefix = f"pipelines.{resolved.name}.{role}"
        if role not in configured or configured[role].plugin != plugin.name:
            rows = {key: row for key, row in rows.items() if not key.startswith(prefix + ".")}
            rows[f"{prefix}.plugin"] = (plugin.name, COMMAND_LINE)
        for name, value in options.items():
            rows.setdefault(f"{prefix}.{name}", (value, f"default of plugin {plugin.name}"))
    for signal, weight in resolved.weights.items():
        rows.setdefault(f"pipelines.{resolved.name}.weights.{signal}", (weight, BUILTIN))
    return [(key, value, source) for key, (value, source) in sorted(rows.items())]
