"""Indexing runs: bring the store and the derived indexes up to date with a source.

A run takes an exclusive lock on the index folder, applies every change in one store
transaction, updates the lexical index when anything it depends on changed (a delta over
the live index when the plugin can build one and the change is small, else a full
rebuild: :mod:`aurora.index.lexical`), and commits. Ctrl-C or a kill at any point leaves the previous index as it was.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aurora.cli.progress import Progress
from aurora.common.atomic import write_text_atomically
from aurora.common.layout import DATABASE_NAME, LEXICAL_DIRNAME, LOCK_NAME, index_dir
from aurora.common.locks import LockHeld, ProcessLock
from aurora.common.private import private_folder
from aurora.common.sqlite import COMPANION_SUFFIXES, Problem, classify, disk_full
from aurora.config.layers import Config
from aurora.errors import (
    AuroraError,
    CorruptIndexError,
    IndexInterruptedError,
    IndexLockedError,
    IndexVersionError,
    NewerIndexError,
    NoIndexError,
)
from aurora.host.contract import ChunkSettings, Embedder
from aurora.host.pipeline import Pipeline
from aurora.host.registry import PluginHost
from aurora.index import lexical
from aurora.index.chunking import Chunkers, load_chunkers
from aurora.index.languages import language_of
from aurora.index.reading import Outcome, read_files, worker_count
from aurora.index.sources import SourceFile
from aurora.index.store import FileState, Store, database_error
from aurora.index.walker import FoundFile, Skipped, WalkSettings, walk
from aurora.semantic import vectors

#: Metadata key of the chunk settings the stored chunks were made with.
CHUNKING_KEY = "chunking"
#: Seconds a run waits for the index's write lock before saying who holds it.
LOCK_PATIENCE_S = 2.0
#: Where a database that is replaced is moved (``aurora.db.previous``), replacing an earlier one.
ASIDE_SUFFIX = ".previous"
#: The errno values of a full disk or quota.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
#: How numpy reports a write cut short by a full disk (an OSError without errno).
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")
#: The errno values of a folder or file this process may not write.
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


@dataclass
class IndexReport:
    """What an indexing run did; ``summary()`` is the one line the CLI prints."""

    root: str
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    lexical_rebuilt: bool = False
    lexical_updated: bool = False
    semantic: dict[str, Any] | None = None
    semantic_error: AuroraError | None = None
    recreated: str | None = None
    files: int = 0
    chunks: int = 0
    elapsed_s: float = 0.0

    def summary(self) -> str:
        """Return a one-line summary of the run."""
        line = (
            f"Indexed {_count(self.files, 'file')} ({_count(self.chunks, 'chunk')}) in {self.elapsed_s:.1f}s: "
            f"{self.added:,} new, {self.changed:,} changed, {self.removed:,} removed, {self.unchanged:,} unchanged"
        )
        if self.semantic:
            done = self.semantic
            line += f"; embedded {_count(done['embedded'], 'chunk')}"
            if done["embedded"]:
                line += f" at {done['chunks_per_s']:,.0f}/s"
            if done["reused"]:
                line += f" ({done['reused']:,} reused)"
        if self.skipped:
            line += "; skipped " + ", ".join(f"{n:,} {reason}" for reason, n in sorted(self.skipped.items()))
        if self.warnings:
            line += f"; {_count(len(self.warnings), 'warning')}"
        return line

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {
            "root": self.root,
            "files": self.files,
            "chunks": self.chunks,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": dict(self.skipped),
            "warnings": self.warnings,
            "lexical_rebuilt": self.lexical_rebuilt,
            "lexical_updated": self.lexical_updated,
            "semantic": self.semantic,
            "error": {"message": self.semantic_error.message, "hint": self.semantic_error.hint}
            if self.semantic_error
            else None,
            "recreated": self.recreated,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def walk_settings(config: Config) -> WalkSettings:
    """Return the walker settings from the ``[index]`` configuration."""
    return WalkSettings(
        exclude=tuple(config.get("index", "exclude")),
        hidden=config.get("index", "hidden"),
        follow_symlinks=config.get("index", "follow_symlinks"),
        links_leaving_root=config.get("index", "links_leaving_root"),
        max_file_size=config.get("index", "max_file_size"),
    )


def chunk_settings(config: Config) -> ChunkSettings:
    """Return the chunker settings from the ``[index]`` configuration."""
    return ChunkSettings(
        window_lines=config.get("index", "window_lines"),
        window_overlap=config.get("index", "window_overlap"),
        max_chunk_lines=config.get("index", "max_chunk_lines"),
    )


def index_tree(
    root: Path,
    config: Config,
    pipeline: Pipeline,
    host: PluginHost,
    progress: Progress,
    rebuild: bool = False,
    embedders: dict[str, Embedder] | None = None,
) -> IndexReport:
    """Index (or incrementally re-index) the files under ``root`` into ``root/.aurora``.

    ``embedders`` keeps the embedders loaded by one run for the next (by plugin and
    model), for a caller that indexes again and again (:mod:`aurora.index.watch`).
    """
    report = IndexReport(root=str(root))
    chunking = chunk_settings(config)
    chunking_key = json.dumps(chunking._asdict(), sort_keys=True)
    chunkers = load_chunkers(config, host, chunking)

    def apply(store: Store) -> None:
        settings_changed = store.get_meta(CHUNKING_KEY) not in (None, chunking_key)
        if settings_changed:
            report.warnings.append("the chunk settings changed, so every file was read again")
        known = {} if rebuild or settings_changed else store.file_states()
        if not known:
            store.delete_files(store.file_states())
        store.set_meta(CHUNKING_KEY, chunking_key)
        found = _scan(root, walk_settings(config), known, chunkers, progress, report)
        report.removed = sum(1 for path in known if path not in found.seen)
        store.delete_files(path for path in known if path not in found.seen)
        workers = worker_count(config.get("index", "workers"), found.to_read)
        outcomes = read_files(root, found.to_read, chunkers, workers, report.warnings.append)
        with progress.task("Reading", total=len(found.to_read)) as advance, closing(outcomes):
            for item, outcome in zip(found.to_read, outcomes, strict=True):
                _apply_file(store, item, known.get(item.path), outcome, report)
                advance(1)

    _run(index_dir(root), pipeline, host, progress, report, apply, rebuild, embedders)
    return report


def index_documents(
    folder: Path, documents: Iterable[SourceFile], pipeline: Pipeline, host: PluginHost, progress: Progress
) -> IndexReport:
    """Index ready-made documents (one chunk each, e.g. a BEIR corpus) into ``folder``."""
    report = IndexReport(root=str(folder))

    def apply(store: Store) -> None:
        known = store.file_states()
        seen = set()
        for document in documents:
            seen.add(document.path)
            _store_source(store, document, known.get(document.path), report)
        report.removed = sum(1 for path in known if path not in seen)
        store.delete_files(path for path in known if path not in seen)

    _run(folder, pipeline, host, progress, report, apply, rebuild=False)
    return report


def _run(
    folder: Path,
    pipeline: Pipeline,
    host: PluginHost,
    progress: Progress,
    report: IndexReport,
    apply: Callable[[Store], None],
    rebuild: bool,
    embedders: dict[str, Embedder] | None = None,
) -> None:
    """Lock ``folder``, apply the changes and refresh derived indexes in one transaction."""
    pipeline.require_lexical()
    started = time.perf_counter()
    with _write_errors(folder, any_os_error=True):
        private_folder(folder)  # the owner's only, tightened if an older one was wider
        _keep_out_of_git(folder)
    lexical_folder = folder / LEXICAL_DIRNAME
    with _exclusive_lock(folder / LOCK_NAME), _write_errors(folder):
        store = _open_for_writing(folder, report, rebuild)
        try:
            before = lexical.live(store)
            lexical.prune(lexical_folder, keep={generation for _, generation in before.values()})  # a failed run's
            try:
                with store.transaction():
                    apply(store)
                    _refresh_lexical(store, pipeline, host, progress, report, lexical_folder, before, rebuild)
            except BaseException:  # what this run built is not recorded: give its space back at once
                lexical.prune(lexical_folder, keep={generation for _, generation in before.values()})
                raise
            live = {generation for _, generation in lexical.live(store).values()}
            lexical.prune(lexical_folder, keep=live | {generation for _, generation in before.values()})
            if pipeline.has_embedder:
                try:
                    _refresh_vectors(store, pipeline, host, progress, report, folder, rebuild, embedders)
                except AuroraError as exc:
                    report.semantic_error = exc
                except KeyboardInterrupt:
                    raise IndexInterruptedError(
                        "interrupted while embedding; the lexical index is up to date and the chunks embedded "
                        "so far are kept",
                        hint="run `aurora index` again to embed the rest",
                    ) from None
            counts = store.counts()
        finally:
            store.close()
            with suppress(OSError):  # a full disk: the error that stopped the run says more
                private_folder(folder)  # what the libraries wrote meanwhile follows the umask
    report.files, report.chunks = counts["files"], counts["chunks"]
    report.elapsed_s = time.perf_counter() - started


def _refresh_lexical(
    store: Store,
    pipeline: Pipeline,
    host: PluginHost,
    progress: Progress,
    report: IndexReport,
    folder: Path,
    before: dict[str, tuple[str, str]],
    rebuild: bool,
) -> None:
    """Build the pipeline's lexical index if missing; bring every live one up to date if chunks changed.

    An index is updated by a delta (:func:`lexical.update`) where it can be, else rebuilt;
    ``rebuild`` rebuilds it in full and forgets the indexes of other pipelines and settings.
    """
    current = pipeline.require_lexical()
    roles = {current.key: current}
    chunks_changed = rebuild or report.added or report.changed or report.removed
    for key, (spec, _) in before.items():
        if key == current.key or not chunks_changed:
            continue
        if rebuild:
            lexical.forget(store, key)
            continue
        try:
            roles[key] = lexical.role_from_spec(host, spec)
        except AuroraError as exc:
            report.warnings.append(f"dropped a lexical index ({spec}): {exc.message}")
            lexical.forget(store, key)
    for key, role in roles.items():
        current_spec = key in before and before[key][0] == role.spec
        found = lexical.damage(folder, before[key][1]) if current_spec and not rebuild else None
        if found is not None:
            report.warnings.append(f"the {role.plugin.name} index was damaged ({found}); built it again")
        elif current_spec and not chunks_changed:
            continue
        elif current_spec and not rebuild and lexical.update(store, host, role, folder, before[key][1]):
            report.lexical_updated = True
            continue
        with progress.task(f"Building the {role.plugin.name} index", unit=""):
            lexical.build(store, host, role, folder)
        report.lexical_rebuilt = True


def _refresh_vectors(
    store: Store,
    pipeline: Pipeline,
    host: PluginHost,
    progress: Progress,
    report: IndexReport,
    folder: Path,
    rebuild: bool,
    embedders: dict[str, Embedder] | None,
) -> None:
    """Load the pipeline's embedder (or take it from ``embedders``) and bring its vector table up to date."""
    role = pipeline.semantic(folder)
    loaded = {} if embedders is None else embedders
    key = f"{role.embedder.name}:{role.model_id}"

    def load() -> Embedder:
        if key not in loaded:
            with progress.task(f"Loading {role.model_id}", unit=""):
                loaded[key] = vectors.load_embedder(host, role, vectors.locate(host, role))
        return loaded[key]

    done = vectors.sync(store, host, role, load, progress, rebuild)
    if done.repaired:
        report.warnings.append(done.repaired)
    report.semantic = {
        "model": role.model_id,
        "embedder": role.embedder.name,
        "embedded": done.embedded,
        "reused": done.reused,
        "deleted": done.deleted,
        "vectors": done.vectors,
        "embed_s": round(done.embed_s, 3),
        "chunks_per_s": round(done.embedded / done.embed_s, 1) if done.embed_s else 0.0,
    }


@dataclass
class _Scan:
    seen: set[str] = field(default_factory=set)
    to_read: list[FoundFile] = field(default_factory=list)


def _scan(
    root: Path,
    settings: WalkSettings,
    known: dict[str, FileState],
    chunkers: Chunkers,
    progress: Progress,
    report: IndexReport,
) -> _Scan:
    """Walk ``root``: remember every file seen, queue those whose size, mtime or chunker changed."""
    found = _Scan()
    with progress.task("Scanning") as advance:
        for item in walk(root, settings):
            if isinstance(item, Skipped):
                if item.reason.startswith("too large"):
                    report.skipped["too large"] += 1
                else:
                    report.warnings.append(f"{item.path}: {item.reason}")
                continue
            found.seen.add(item.path)
            old = known.get(item.path)
            if (
                old is not None
                and old.size == item.size
                and old.mtime_ns == item.mtime_ns
                and chunkers.is_current(language_of(item.path), old.chunker)
            ):
                report.unchanged += 1
            else:
                found.to_read.append(item)
            advance(1)
    return found


def _apply_file(store: Store, item: FoundFile, old: FileState | None, source: Outcome, report: IndexReport) -> None:
    """Store one file's chunks; a file that could not be read is reported, and forgotten if it was deleted."""
    if isinstance(source, FileNotFoundError):  # deleted since the scan
        if old is not None:
            store.delete_files([item.path])
            report.removed += 1
        return
    if isinstance(source, OSError):
        report.warnings.append(f"{item.path}: cannot read: {source.strerror}")
        return
    report.warnings += [f"{item.path}: {warning}" for warning in source.warnings]
    _store_source(store, source, old, report)


def _store_source(store: Store, source: SourceFile, old: FileState | None, report: IndexReport) -> None:
    state = source.state
    if old is not None and (old.content_hash, old.chunker) == (state.content_hash, state.chunker):
        store.touch_file(source.path, state)
        report.unchanged += 1
        return
    store.put_file(source.path, state, source.language, source.chunks, source.skipped)
    if old is not None:
        report.changed += 1
    elif source.skipped:
        report.skipped[source.skipped] += 1
    else:
        report.added += 1


def _open_for_writing(folder: Path, report: IndexReport, rebuild: bool) -> Store:
    """Open the store, or create it.

    A store that is damaged, holds no index or has an older schema is moved aside and
    created again (the next steps fill it from the files); one of a newer schema is
    replaced only when ``rebuild`` asks for it.
    """
    path = folder / DATABASE_NAME
    try:
        return Store.open(path)
    except NoIndexError:
        return Store.create(path)
    except NewerIndexError as exc:
        if not rebuild:
            raise
        report.recreated = exc.message
    except (IndexVersionError, CorruptIndexError) as exc:
        report.recreated = exc.message
    _move_aside(path)
    shutil.rmtree(folder / LEXICAL_DIRNAME, ignore_errors=True)
    return Store.create(path)


def _move_aside(path: Path) -> None:
    """Move the database at ``path`` and its companion files to ``<name>.previous``, replacing an earlier one.

    Kept for a look at what went wrong, in the same private folder; a companion left
    by SQLite (``-wal``, ``-shm``) goes with its file, never with the new one.
    """
    aside = Path(f"{path}{ASIDE_SUFFIX}")
    for suffix in ("", *COMPANION_SUFFIXES):
        source, target = Path(f"{path}{suffix}"), Path(f"{aside}{suffix}")
        if source.exists():
            os.replace(source, target)
        else:
            target.unlink(missing_ok=True)


@contextmanager
def _write_errors(folder: Path, any_os_error: bool = False) -> Iterator[None]:
    """Turn what the system says while the index is written into one clear error: a full disk, a folder not writable.

    SQLite errors are turned too (a damaged page found while writing, a lock). Other
    :class:`OSError` pass unchanged, unless ``any_os_error`` (the folder cannot be made).
    """
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if classify(exc) is Problem.FULL:
            raise _disk_full(folder) from None
        raise database_error(folder / DATABASE_NAME, exc) from None
    except OSError as exc:
        if exc.errno in _DISK_FULL or (exc.errno is None and _SHORT_WRITE.search(str(exc))):
            raise _disk_full(folder) from None
        if any_os_error or exc.errno in _NOT_WRITABLE:
            raise _unwritable(folder, exc) from None
        raise


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold the index's write lock for the block; refuse, naming the holder, when another run keeps it.

    A run waits :data:`LOCK_PATIENCE_S` for the lock: long enough for a watcher's update
    (:mod:`aurora.index.watch`) to finish, short enough to say at once that a full run holds it.
    """
    lock = ProcessLock(path, holder=f"pid {os.getpid()}")
    try:
        lock.acquire(LOCK_PATIENCE_S)
    except LockHeld as held:
        raise IndexLockedError(
            f"the index at {path.parent} is being written by {held.holder or 'another process'}",
            hint="wait for that `aurora index` to finish",
        ) from None
    except OSError as exc:
        raise (_disk_full(path.parent) if exc.errno in _DISK_FULL else _unwritable(path.parent, exc)) from None
    try:
        yield
    finally:
        lock.release()


def _disk_full(folder: Path) -> AuroraError:
    return disk_full(folder, hint="free some space, then run `aurora index` again")


def _unwritable(folder: Path, exc: OSError) -> AuroraError:
    return AuroraError(f"cannot write the index in {folder}: {exc.strerror}", hint="index a folder you can write to")


_GITIGNORE = "# Aurora's index; rebuild it with `aurora index`.\n*\n"


def _keep_out_of_git(folder: Path) -> None:
    """Write (or repair) the ``.gitignore`` that keeps the index out of the project's repository."""
    ignore = folder / ".gitignore"
    try:
        if ignore.read_text(encoding="utf-8", errors="replace") == _GITIGNORE:
            return
    except FileNotFoundError:
        pass
    write_text_atomically(ignore, _GITIGNORE)
