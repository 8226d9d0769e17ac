"""The sentence-transformers embedder: PyTorch on CPU or CUDA. Imports torch and sentence-transformers."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from aurora.plugin import BackendNotInstalledError, ModelLocation, ModelSpec, length_batches

#: Allocations from this size on are mapped and unmapped on their own (glibc), see below.
MMAP_THRESHOLD = 128 * 1024
#: Padded characters per batch: on a CPU small batches of long texts run fastest (docs/benchmarks.md).
CPU_BATCH_CHARS = 4096
GPU_BATCH_CHARS = 131072


class SentenceTransformerEmbedder:
    """A ``SentenceTransformer`` behind Aurora's Embedder protocol."""

    def __init__(self, model: Any, model_id: str, batch_size: int, batch_chars: int, normalize: bool) -> None:
        self._model = model
        self.model_id = model_id
        self.batch_size = batch_size
        self.batch_chars = batch_chars
        self.normalize = normalize
        self.device = str(model.device)
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dimension())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in length-aware batches."""
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        longest = 4 * self._model.max_seq_length  # about where the model truncates
        for batch in length_batches(texts, self.batch_chars, self.batch_size, longest):
            vectors[batch] = self._encode([texts[i] for i in batch])
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query."""
        return self._encode([text])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=self.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def load(
    model: ModelSpec, location: ModelLocation | None, model_id: str, options: Mapping[str, Any]
) -> SentenceTransformerEmbedder:
    """Load ``model`` from ``location`` (or download it by name when ``location`` is None)."""
    device = options["device"]
    if location is not None:
        # The files are local: make sure nothing asks the hub (huggingface_hub reads this at import).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("torch", "sentence_transformers", "transformers"):
            raise BackendNotInstalledError(exc.name.split(".")[0], "aurora-search", "st") from None
        raise
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if options["threads"]:
        torch.set_num_threads(options["threads"])  # for the whole process: torch has no per-model setting
    if device == "cpu":
        _return_large_blocks_to_the_system()
    source = str(location.path) if location is not None else model.name
    encoder = SentenceTransformer(source, device=device, local_files_only=location is not None)
    encoder.max_seq_length = options["max_seq_length"]
    batch_chars = options["batch_chars"] or (GPU_BATCH_CHARS if device.startswith("cuda") else CPU_BATCH_CHARS)
    return SentenceTransformerEmbedder(encoder, model_id, options["batch_size"], batch_chars, options["normalize"])


def _return_large_blocks_to_the_system() -> None:
    """Make glibc map every block of :data:`MMAP_THRESHOLD` bytes or more on its own (a no-op elsewhere).

    By default glibc raises that threshold each time a mapped block is freed, so PyTorch's
    activations, a new size for every batch, soon come from the heap, which fragments and
    keeps growing: indexing the stdlib reached 2.6 GB. With a fixed threshold they are
    returned to the system when freed (docs/benchmarks.md). The setting is per process.
    """
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD
