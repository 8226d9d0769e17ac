"""The optimised copy of a packaged ONNX model: made once, checked against the original, cached.

The copy has fused attention (:mod:`aurora_fastembed.fusion`) and computes in the chosen
precision: ``fp32``, or ``int8`` (its matrix products dynamically quantised per channel
by ONNX Runtime's quantizer, about 1.5x faster on a CPU; docs/benchmarks.md measures
both). It lives in Aurora's fastembed cache under a key made of the source file's
SHA-256, the precision and the ONNX Runtime version, so a new model file or a new runtime
makes a new copy. Before it is published its vectors are compared with the original's on
a few texts of mixed lengths (padding included); a copy that strays (cosine below
:data:`MIN_COSINE` for its precision) or that cannot
be made (``onnx`` not installed, an unfamiliar graph) is recorded as rejected and the
original is used, after one notice on stderr. The copy is made in a child process
(``python -m aurora_fastembed.optimised SOURCE TOKENIZER FOLDER PRECISION``), so that the memory
the optimizer takes (about 0.9 GB at its peak) is not kept by the process that embeds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from aurora.plugin import staged_folder

#: The least cosine similarity between the copy's vectors and the original's, per precision.
MIN_COSINE = {"fp32": 0.9999, "int8": 0.98}
#: Texts the copy is checked on: code and prose, short and long, so that batches are padded.
CHECK_TEXTS = (
    "def read_config(path):\n    with open(path) as handle:\n        return json.load(handle)",
    "How do I split a command line into words?",
    "class LRUCache:\n    def __init__(self, size):\n        self.size = size\n"
    "        self.items = OrderedDict()\n    def get(self, key):\n        value = self.items.pop(key)\n"
    "        self.items[key] = value\n        return value",
    "timeout",
)


def optimised_folder(source: Path, tokenizer: Path, cache: Path, precision: str) -> Path | None:
    """Return a folder fastembed can load with the optimised copy of ``source``, or None to use the original.

    ``tokenizer`` is the folder of tokenizer and config files that goes with the model;
    ``precision`` is ``fp32`` or ``int8``.
    """
    import onnxruntime

    suffix = "" if precision == "fp32" else f"-{precision}"
    key = f"{_digest(source)[:16]}{suffix}-ort{onnxruntime.__version__}"
    folder = cache / "optimised" / key
    rejected = cache / "optimised" / f"{key}.rejected"
    if (folder / "model.onnx").is_file():
        return folder
    if rejected.is_file():
        return None
    try:
        with staged_folder(folder) as staging:
            _make_in_child(source, tokenizer, staging, precision)
    except RuntimeError as exc:  # onnx missing, an unfamiliar graph, a copy that strays: the original still works
        reason = str(exc)
        print(f"aurora: note: using the packaged ONNX model as it is (no optimised copy: {reason})", file=sys.stderr)
        rejected.parent.mkdir(parents=True, exist_ok=True)
        rejected.write_text(json.dumps({"source": str(source), "reason": reason}) + "\n", encoding="utf-8")
        return None
    return folder


def discard(folder: Path, cache: Path) -> bool:
    """Delete ``folder`` if it is an optimised copy in ``cache`` (one that no longer loads); say whether it was.

    The folder is first renamed aside, so that no other process sees it half deleted.
    """
    if folder.parent != cache / "optimised":
        return False
    aside = folder.with_name(f"{folder.name}.discarded-{os.getpid()}")
    try:
        os.replace(folder, aside)
    except OSError:  # gone already (another process discarded it), or not ours to move: make it again anyway
        pass
    shutil.rmtree(aside, ignore_errors=True)
    return True


def _make_in_child(source: Path, tokenizer: Path, staging: Path, precision: str) -> None:
    """Run :func:`_make` in a child process; raise RuntimeError with its one-line reason if it fails."""
    command = [sys.executable, "-m", "aurora_fastembed.optimised", str(source), str(tokenizer), str(staging), precision]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"the optimizer exited with status {done.returncode}")


def _make(source: Path, tokenizer: Path, staging: Path, precision: str) -> None:
    """Write the optimised model and its tokenizer files into ``staging``; raise if its vectors stray."""
    from aurora_fastembed.fusion import optimise

    config = json.loads((tokenizer / "config.json").read_text(encoding="utf-8"))
    fused = staging / ("model.onnx" if precision == "fp32" else "fused.onnx")
    optimise(source, fused, int(config["num_attention_heads"]))
    if precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(fused, staging / "model.onnx", weight_type=QuantType.QInt8, per_channel=True)
        fused.unlink()
    cosine = min_cosine(source, staging / "model.onnx", tokenizer / "tokenizer.json")
    if cosine < MIN_COSINE[precision]:
        raise ValueError(f"its vectors differ from the original's (cosine {cosine:.5f} < {MIN_COSINE[precision]})")
    shutil.copytree(tokenizer, staging, dirs_exist_ok=True)


def min_cosine(original: Path, optimised: Path, tokenizer_file: Path) -> float:
    """Return the least cosine similarity between the two models' mean-pooled vectors of :data:`CHECK_TEXTS`."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.enable_padding()
    tokenizer.enable_truncation(256)
    encoded = tokenizer.encode_batch(list(CHECK_TEXTS))
    mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
    inputs = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64), "attention_mask": mask}
    a, b = (_mean_pooled(path, inputs) for path in (original, optimised))
    return float(np.min(np.sum(a * b, axis=1)))


def _mean_pooled(model: Path, inputs: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    feed = {name: value for name, value in inputs.items() if name in names}
    if "token_type_ids" in names:
        feed["token_type_ids"] = np.zeros_like(inputs["input_ids"])
    hidden = session.run(None, feed)[0]
    mask = inputs["attention_mask"][:, :, None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


if __name__ == "__main__":
    try:
        _make(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    except Exception as exc:
        sys.exit(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
