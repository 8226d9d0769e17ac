"""The fastembed embedder: ONNX Runtime, CPU or CUDA (with onnxruntime-gpu). Imports fastembed.

fastembed tokenises and pools; the ONNX Runtime session is opened here, so that Aurora
sets its threads and whether they spin while waiting for work (spinning burns the CPU a
loaded machine needs: measured in docs/benchmarks.md). The packaged model runs as its
optimised copy (:mod:`aurora_fastembed.optimised`) unless the ``optimise`` option is off.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aurora.plugin import BackendNotInstalledError, ModelLocation, ModelSpec, length_batches, staged_folder
from aurora_fastembed.locate import PACKAGED, cache_dir
from aurora_fastembed.optimised import discard, optimised_folder

#: Characters after which the model's 256-token window is full (code is ~3-4 characters a token).
LONGEST = 1200
#: Padded characters per batch: on a CPU small batches of long texts run fastest (docs/benchmarks.md).
CPU_BATCH_CHARS = 1024
GPU_BATCH_CHARS = 65536
#: Providers used when none is configured, as fastembed does: CUDA when onnxruntime-gpu has it.
DEFAULT_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


class FastembedEmbedder:
    """A fastembed ``TextEmbedding`` behind Aurora's Embedder protocol."""

    def __init__(self, model: Any, model_id: str, batch_size: int, batch_chars: int) -> None:
        self._model = model
        self.model_id = model_id
        self.batch_size = batch_size
        self.batch_chars = batch_chars
        self.dimension = int(model.embedding_size)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in length-aware batches; rows are L2-normalised."""
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for batch in length_batches(texts, self.batch_chars, self.batch_size, LONGEST):
            vectors[batch] = list(self._model.embed([texts[i] for i in batch], batch_size=len(batch)))
        return _normalised(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query."""
        return _normalised(np.asarray(next(iter(self._model.query_embed(text))), dtype=np.float32)[None, :])[0]


def load(
    model: ModelSpec, location: ModelLocation | None, model_id: str, options: Mapping[str, Any]
) -> FastembedEmbedder:
    """Load ``model`` from ``location`` (or download it by name when ``location`` is None)."""
    try:
        from fastembed import TextEmbedding
        from loguru import logger
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("fastembed", "onnxruntime", "loguru"):
            raise BackendNotInstalledError(exc.name.split(".")[0], "aurora-search", "fastembed") from None
        raise
    logger.disable("fastembed")  # its failures reach the user as Aurora's one-line error instead
    cache = cache_dir(options)
    cache.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"cache_dir": str(cache), "threads": options["threads"] or None, "lazy_load": True}
    if options["providers"]:
        kwargs["providers"] = list(options["providers"])
    name = model.name or options["fastembed_model"]
    folder = None
    if location is not None:
        folder = location.path if location.path.is_dir() else _packaged_folder(location.path, model, cache, options)
        kwargs["specific_model_path"] = str(folder)
    embedding = TextEmbedding(name, **kwargs)
    try:
        _open_session(embedding.model, options)
    except _damaged_model_errors():  # an optimised copy damaged since it was made is made again, once
        if location is None or folder is None or not discard(folder, cache):
            raise
        kwargs["specific_model_path"] = str(_packaged_folder(location.path, model, cache, options))
        embedding = TextEmbedding(name, **kwargs)
        _open_session(embedding.model, options)
    on_gpu = any("CUDA" in provider or "Tensorrt" in provider for provider in options["providers"])
    batch_chars = options["batch_chars"] or (GPU_BATCH_CHARS if on_gpu else CPU_BATCH_CHARS)
    return FastembedEmbedder(embedding, model_id, options["batch_size"], batch_chars)


def _damaged_model_errors() -> tuple[type[Exception], ...]:
    """Return what ONNX Runtime raises for a model file it cannot read (not for a provider or memory failure)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    return state.InvalidProtobuf, state.InvalidGraph, state.NoSuchFile


def _session_options(threads: int, spinning: bool) -> Any:
    """Return ONNX Runtime session options: ``threads`` intra-op threads (0: its default), spinning on or off."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return options


def _open_session(model: Any, options: Mapping[str, Any]) -> None:
    """Open the session of a lazily loaded fastembed model with Aurora's options, and its tokenizer.

    A fastembed without the attributes this relies on opens the session itself (its defaults).
    """
    import onnxruntime

    description = getattr(model, "model_description", None)
    if not hasattr(model, "_ensure_tokenizer") or getattr(description, "additional_files", None):
        model.load_onnx_model()
        return
    available = onnxruntime.get_available_providers()
    providers = list(options["providers"]) or [p for p in DEFAULT_PROVIDERS if p in available]
    model.model = onnxruntime.InferenceSession(
        str(Path(model._model_dir) / description.model_file),
        sess_options=_session_options(options["threads"], options["spinning"]),
        providers=providers,
    )
    model._ensure_tokenizer()


def _packaged_folder(onnx: Path, model: ModelSpec, cache: Path, options: Mapping[str, Any]) -> Path:
    """Return a folder fastembed can load: the package's ONNX file (optimised unless turned off) and its tokenizer."""
    packaged = PACKAGED[model.name or ""]
    if options["optimise"]:
        optimised = optimised_folder(onnx, packaged.tokenizer, cache, options["precision"])
        if optimised is not None:
            return optimised
    folder = cache / "packaged" / f"{packaged.distribution}-{onnx.stat().st_size}"
    if (folder / "model.onnx").is_file():
        return folder
    with staged_folder(folder) as staging:  # another process may publish it first: then theirs is used
        shutil.copytree(packaged.tokenizer, staging, dirs_exist_ok=True)
        try:
            (staging / "model.onnx").symlink_to(onnx)
        except OSError:
            shutil.copy2(onnx, staging / "model.onnx")
    return folder


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
