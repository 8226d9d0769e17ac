"""The model2vec embedder: a static model (a token embedding table) behind Aurora's Embedder protocol.

Imports model2vec, which needs numpy, tokenizers and safetensors only: no PyTorch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from aurora.plugin import AuroraError, ModelLocation, ModelSpec, ModelUnavailableError
from aurora_embed_model2vec.locate import is_transformer

DISTRIBUTION = "aurora-embed-model2vec"


class StaticEmbedder:
    """A model2vec ``StaticModel``: a text's vector is the weighted mean of its tokens' vectors."""

    def __init__(self, model: Any, model_id: str, batch_size: int, max_length: int) -> None:
        self._model = model
        self.model_id = model_id
        self.batch_size = batch_size
        self.max_length = max_length
        self.dimension = int(model.dim)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; rows are float32 and L2-normalised (a text with no known token stays zero)."""
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, max_length=self.max_length, use_multiprocessing=False
        )
        return _normalised(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension))

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query."""
        return self.embed_documents([text])[0]


def load(model: ModelSpec, location: ModelLocation | None, model_id: str, options: Mapping[str, Any]) -> StaticEmbedder:
    """Load ``model`` from ``location``, or download it by hub name when ``location`` is None."""
    if location is None and model.name is None:
        where = model.path or f"package {model.package}"
        raise ModelUnavailableError(
            f"no static model in {where}",
            hint="a model2vec folder holds model.safetensors, tokenizer.json and config.json "
            "(`aurora models distill` makes one)",
        )
    if location is not None:
        if is_transformer(location.path):
            raise ModelUnavailableError(
                f"{location.path} holds a transformer model, not a static one",
                hint=f"distill a static model from it: aurora models distill {location.path} DEST",
            )
        # The files are local: make sure nothing asks the hub (huggingface_hub reads this at import).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from model2vec import StaticModel
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "model2vec":
            raise
        raise AuroraError("model2vec is not installed", hint=f"pip install --force-reinstall {DISTRIBUTION}") from None
    source = str(location.path) if location is not None else model.name
    static = StaticModel.from_pretrained(source, force_download=False)
    return StaticEmbedder(static, model_id, options["batch_size"], options["max_length"])


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
