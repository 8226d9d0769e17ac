"""Where a static model is on disk: filesystem only, no import of model2vec, tokenizers or numpy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from aurora.plugin import ModelLocation, ModelSpec, find_in_hub_layout, has_files, hub_cache, package_folder

#: Files a static model folder holds, in model2vec's layout or sentence-transformers' ``0_StaticEmbedding`` one.
STATIC_FILES = (
    ("model.safetensors", "0_StaticEmbedding/model.safetensors"),
    ("tokenizer.json", "0_StaticEmbedding/tokenizer.json"),
    ("config.json", "config_sentence_transformers.json"),
)


def locate(model: ModelSpec) -> ModelLocation | None:
    """Find ``model``: a folder, a package, or the Hugging Face cache where model2vec downloads to."""
    if model.path is not None:
        return ModelLocation(model.path, "folder") if has_files(model.path, STATIC_FILES) else None
    if model.package is not None:
        folder = package_model_folder(model.package, STATIC_FILES)
        return ModelLocation(folder, f"package {model.package}") if folder is not None else None
    snapshot = find_in_hub_layout(hub_cache(), model.name or "", STATIC_FILES)
    return ModelLocation(snapshot, "huggingface cache") if snapshot is not None else None


def package_model_folder(distribution: str, required: Sequence[Sequence[str]]) -> Path | None:
    """Return the model folder an installed package ships (its ``model/`` subfolder or itself), if it has the files."""
    folder = package_folder(distribution.replace("-", "_"))
    if folder is None:
        return None
    return next((each for each in (folder / "model", folder) if has_files(each, required)), None)


def is_transformer(folder: Path) -> bool:
    """Return whether ``folder`` holds a transformer (its ``config.json`` names another type than model2vec)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("model_type", "model2vec") != "model2vec"
