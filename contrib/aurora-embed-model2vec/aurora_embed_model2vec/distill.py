"""``aurora models distill SOURCE DEST``: make a static model from a local sentence-transformers model.

Contributed to Aurora's command line through the ``aurora.command`` entry point
``models.distill``; Aurora imports this module only when the command runs. Distilling
needs the ``distill`` extra (PyTorch and transformers); embedding with the result does not.
Everything is read from local files: the hub's offline mode is set before any library
that could reach it is imported.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from aurora.plugin import (
    AuroraError,
    BackendNotInstalledError,
    ModelUnavailableError,
    find_in_hub_layout,
    has_files,
    hub_cache,
)
from aurora_embed_model2vec.embedder import DISTRIBUTION
from aurora_embed_model2vec.locate import is_transformer, package_model_folder

#: Files of a transformer model folder distillation reads: its config, weights and tokenizer.
TRANSFORMER_FILES = (
    ("config.json",),
    ("model.safetensors", "pytorch_model.bin"),
    ("tokenizer.json", "tokenizer_config.json", "vocab.txt"),
)
#: Libraries of the ``distill`` extra (what ``model2vec.distill`` imports beyond model2vec).
EXTRA_LIBRARIES = ("torch", "transformers", "skeletoken", "model2vec")
_SOURCE_HINT = (
    "give the folder of a sentence-transformers model (config.json, model.safetensors, tokenizer.json), "
    "package:NAME of a package that ships one, or a hub name already in the Hugging Face cache"
)


def distill(
    source: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE",
            help="A sentence-transformers model: its folder, package:NAME, or a hub name in the local cache.",
            show_default=False,
        ),
    ],
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="Folder to write the static model to.")],
    dims: Annotated[
        int, typer.Option("--dims", min=0, help="Dimensions of the static vectors (PCA); 0 keeps the model's.")
    ] = 256,
    force: Annotated[bool, typer.Option("--force", help="Replace DEST if it exists.")] = False,
) -> None:
    """Distill a static model2vec model from a local sentence-transformers model, offline.

    Runs the model once over every token of its vocabulary (a minute or more on a CPU).
    Then embed with the static model, no PyTorch needed:
    [pipelines.default.embedder] plugin = "model2vec", model = "DEST".
    """
    folder = source_folder(source)
    dest = dest.expanduser().absolute()
    _check_dest(dest, force)
    started = time.perf_counter()
    distill_static = _import_distill()
    print(f"distilling {folder} ...", file=sys.stderr)
    static = distill_static(str(folder), pca_dims=dims or None)
    write_atomically(static, dest)
    size = sum(path.stat().st_size for path in dest.rglob("*") if path.is_file())
    print(
        f"distilled {source} into {dest}: {len(static.tokens):,} tokens x {static.dim} dimensions, "
        f"{size / 1e6:.1f} MB, in {time.perf_counter() - started:.1f} s"
    )


def source_folder(source: str) -> Path:
    """Return the folder of the transformer model ``source`` names, or explain in one line why there is none."""
    if source.startswith("package:"):
        name = source.removeprefix("package:").strip()
        folder = package_model_folder(name, TRANSFORMER_FILES)
        if folder is None:
            raise ModelUnavailableError(f"package {name} is not installed or ships no model", hint=_SOURCE_HINT)
    else:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            snapshot = find_in_hub_layout(hub_cache(), source, TRANSFORMER_FILES) if "/" in source else None
            if snapshot is None:
                raise ModelUnavailableError(f"{source}: no such model folder", hint=_SOURCE_HINT)
            folder = snapshot
        elif not has_files(folder, TRANSFORMER_FILES):
            raise ModelUnavailableError(
                f"{source} is not a model folder: it lacks config.json, the weights or the tokenizer", hint=_SOURCE_HINT
            )
    if not is_transformer(folder):
        raise ModelUnavailableError(f"{source} holds a static model already", hint=f'embed with it: model = "{folder}"')
    return folder


def _check_dest(dest: Path, force: bool) -> None:
    """Refuse a DEST that would lose files, before the long part starts."""
    if dest.exists() and not dest.is_dir():
        raise AuroraError(f"{dest} exists and is not a folder", hint="choose another DEST")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise AuroraError(f"{dest} exists and is not empty", hint="choose another DEST, or pass --force to replace it")


def _import_distill() -> Callable[..., Any]:
    """Import model2vec's ``distill`` and the extra's libraries, offline and quiet, or say how to install them."""
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ[variable] = "1"  # read at import: the source is local, nothing may reach a hub
    if not sys.stderr.isatty():
        os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars only on a terminal
    try:
        import skeletoken  # noqa: F401  (imported for the check: model2vec.distill needs it)
        import torch  # noqa: F401
        from model2vec.distill import distill as distill_static
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        library = (exc.name or "").split(".")[0]
        if library not in EXTRA_LIBRARIES:
            raise
        raise BackendNotInstalledError(library, DISTRIBUTION, "distill") from None
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    return distill_static


def write_atomically(static: Any, dest: Path) -> None:
    """Save ``static`` into ``dest`` by a rename: ``dest`` never holds half a model; a failure leaves it as it was.

    The model is written into a hidden sibling folder first; a folder already at ``dest``
    is moved aside and deleted once the new one is in place.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    retired = dest.with_name(f".{dest.name}.{os.getpid()}.old")
    try:
        static.save_pretrained(staging)
        if dest.exists():
            os.replace(dest, retired)
        try:
            os.replace(staging, dest)
        except OSError:
            if retired.exists():
                os.replace(retired, dest)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
