"""The rows of ``aurora models``: every configured or installable embedding model and where it is.

Only the plugins' cache-detection hook runs: no model library is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from aurora.common.layout import index_dir
from aurora.errors import AuroraError
from aurora.host.registry import discover
from aurora.semantic import vectors

if TYPE_CHECKING:
    from aurora.api import Project


class ModelRow(NamedTuple):
    """One model: which pipeline (or ``--backend``) uses it, through which plugin, and where it is."""

    pipeline: str
    plugin: str
    model: str
    available: bool
    source: str
    path: str | None


def model_rows(project: Project) -> list[ModelRow]:
    """Return a row per pipeline with an embedder, then per installed embedder used through ``--backend``."""
    rows: list[ModelRow] = []
    for name in project.config.pipeline_names():
        if project.config.pipeline(name).roles.get("embedder"):
            rows.append(_row(project, name, name, None))
    default = project.config.pipeline().name
    for entry in discover("embedder"):
        row = _row(project, f"{default} --backend {entry.name}", None, entry.name)
        if (row.plugin, row.model) not in {(r.plugin, r.model) for r in rows}:
            rows.append(row)
    return rows


def _row(project: Project, label: str, pipeline: str | None, backend: str | None) -> ModelRow:
    try:
        role = project.pipeline(pipeline, backend).semantic(index_dir(project.root))
        location = vectors.locate(project.host, role)
    except AuroraError as exc:
        return ModelRow(label, backend or "?", "?", False, exc.message, None)
    if location is None:
        return ModelRow(label, role.embedder.name, role.model_id, False, "not found on this machine", None)
    return ModelRow(label, role.embedder.name, role.model_id, True, location.source, str(location.path))
