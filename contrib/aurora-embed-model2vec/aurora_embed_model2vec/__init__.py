"""Static embeddings with model2vec: an Aurora embedder plugin that needs no PyTorch.

A static model is a table of token vectors (distilled from a sentence transformer): a
text's vector is the weighted mean of its tokens', so embedding costs a tokenizer pass
and a lookup. Registered as ``model2vec`` in the ``aurora.embedder`` group. The package
also contributes ``aurora models distill`` (:mod:`aurora_embed_model2vec.distill`), which
makes a static model from a local sentence-transformers model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aurora.plugin import ModelLocation, ModelSpec, Option, PluginDescription, hookimpl

#: model2vec's general-purpose English model (downloaded from the Hugging Face hub on first use).
DEFAULT_MODEL = "minishlab/potion-base-8M"


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the plugin and its options."""
    return PluginDescription(
        summary="Static embeddings with model2vec (numpy and tokenizers; no PyTorch)",
        options={
            "model": Option(DEFAULT_MODEL, "hub name, a folder (/..., ./...) or package:NAME of a static model"),
            "batch_size": Option(1024, "most texts per encoding batch", int, minimum=1, maximum=65536),
            "max_length": Option(512, "tokens per text; longer texts are truncated", int, minimum=1, maximum=1_000_000),
        },
        api_version=3,
    )


@hookimpl
def aurora_model_locate(model: ModelSpec, options: Mapping[str, Any]) -> ModelLocation | None:
    """Find the static model on disk (filesystem only)."""
    from aurora_embed_model2vec.locate import locate

    return locate(model)


@hookimpl
def aurora_embedder_load(
    model: ModelSpec, location: ModelLocation | None, model_id: str, options: Mapping[str, Any]
) -> Any:
    """Import model2vec and load the static model."""
    from aurora_embed_model2vec.embedder import load

    return load(model, location, model_id, options)
