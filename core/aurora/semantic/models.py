"""Model specs and where models live on disk: helpers for embedder plugins' cache detection.

Everything here looks at the filesystem only (no import of torch, transformers,
fastembed or onnxruntime, no network) and answers in well under a millisecond.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from aurora.host.contract import ModelLocation, ModelSpec

PACKAGE_PREFIX = "package:"


def parse_model(value: str, root: Path | None = None) -> ModelSpec:
    """Turn a pipeline's ``model`` option into a spec.

    ``package:NAME`` names an installed Python package that ships model files; a value
    starting with ``/``, ``.`` or ``~`` is a local folder (relative to ``root``);
    anything else is a hub name such as ``sentence-transformers/all-MiniLM-L6-v2``.
    """
    value = value.strip()
    if value.startswith(PACKAGE_PREFIX):
        return ModelSpec(package=value.removeprefix(PACKAGE_PREFIX).strip())
    if value.startswith(("/", ".", "~")):
        path = Path(value).expanduser()
        return ModelSpec(path=(root / path if root and not path.is_absolute() else path).resolve())
    return ModelSpec(name=value)


def identity(model: ModelSpec) -> str:
    """Return the name vectors are recorded under: the hub name, ``package:NAME`` or the folder."""
    if model.name:
        return model.name
    if model.package:
        return f"{PACKAGE_PREFIX}{model.package}"
    return str(model.path)


def hub_cache() -> Path:
    """Return the Hugging Face hub cache folder (``HF_HUB_CACHE``, ``HF_HOME/hub`` or the default)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def find_in_hub_layout(cache: Path, repo_id: str, required: Iterable[Iterable[str]]) -> Path | None:
    """Return the snapshot folder of ``repo_id`` in a hub-layout ``cache`` that holds the files needed.

    ``required`` lists groups of alternatives: every group needs one existing file (a
    dangling link from an interrupted download does not count). The snapshot ``refs/main``
    points to is preferred.
    """
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshots = repo / "snapshots"
    try:
        candidates = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None
    try:
        main = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
        candidates.sort(key=lambda p: p.name != main)
    except OSError:
        pass
    for snapshot in candidates:
        if has_files(snapshot, required):
            return snapshot
    return None


def has_files(folder: Path, required: Iterable[Iterable[str]]) -> bool:
    """Return whether ``folder`` has, for every group of alternatives, one existing file."""
    return all(any((folder / name).is_file() for name in group) for group in required)


def package_folder(module: str) -> Path | None:
    """Return the folder of an installed top-level package, without importing it."""
    from importlib.util import find_spec

    try:
        spec = find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def locate_folder(model: ModelSpec, required: Iterable[Iterable[str]]) -> ModelLocation | None:
    """Answer for a model given as a local folder: found if it has the required files."""
    if model.path is not None and has_files(model.path, required):
        return ModelLocation(model.path, "folder")
    return None
