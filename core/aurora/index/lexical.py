"""Host side of lexical indexes: immutable generation folders, swapped in atomically.

Each (plugin, options) pair a pipeline uses gets its own index, so switching between
pipelines or ``--backend`` needs no rebuild. A build writes the plugin's files into a
staging folder (``.aurora/lexical/.<key>.<n>.*.tmp``), adds the document position ->
chunk id map, syncs it to disk and renames it to ``<key>.<n>``
(:func:`aurora.common.atomic.staged_folder`). The store's metadata names the live
generation of every key and is committed in the same transaction as the chunks it
indexes, so readers always see a matching pair; a killed build leaves only a staging
folder, removed by the next run.

A small change need not rebuild a whole index. When the plugin implements
``aurora_lexical_build_delta``, :func:`update` records a *delta generation* instead: a
folder that names its base (a full generation, ``base.json``), lists the base's chunks it
masks out (``masked_ids.npy``: changed or removed since), and holds a delta segment over
the chunks added since (changed ones included), scored with the base's statistics.
Each update rebuilds the delta from the base and the store, so deltas never stack; once
it passes :data:`DELTA_SHARE` of the base, the next change is a full build again, which
folds it in.

Every generation carries a manifest (``manifest.json``: each file's size and CRC-32),
written once the plugin's files are complete. :func:`damage` checks a generation against
it, so that ``aurora index`` finds a damaged index (truncated, overwritten, a file gone)
and builds it again; a search only meets the damage it reads, and names the command that
repairs it. Generations written before manifests existed are not checked.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from aurora.common.atomic import staged_folder
from aurora.errors import REPAIR_HINT, CorruptIndexError, StaleIndexError
from aurora.host.contract import Hit, LexicalIndex
from aurora.host.registry import LoadedPlugin, PluginHost
from aurora.index.store import Store

CHUNK_IDS_FILE = "chunk_ids.npy"
BASE_FILE = "base.json"
MASKED_IDS_FILE = "masked_ids.npy"
MANIFEST_FILE = "manifest.json"
#: A delta is folded into a full build when its added and masked chunks would pass this share of its base's.
DELTA_SHARE = 0.05
_META_PREFIX = "lexical:"


class LexicalRole(NamedTuple):
    """A lexical plugin with resolved options; ``spec`` identifies the index they build."""

    plugin: LoadedPlugin
    options: Mapping[str, Any]

    @property
    def spec(self) -> str:
        """Return the JSON text that identifies an index built with this plugin and options."""
        return json.dumps({"plugin": self.plugin.name, "options": dict(self.options)}, sort_keys=True)

    @property
    def key(self) -> str:
        """Return a short, file-name-safe key for :attr:`spec`."""
        return f"{zlib.crc32(self.spec.encode()):08x}"


def live(store: Store) -> dict[str, tuple[str, str]]:
    """Return every built index as key -> (spec, generation folder name)."""
    found = {}
    for key, value in store.meta_items(_META_PREFIX):
        spec, generation = json.loads(value)
        found[key.removeprefix(_META_PREFIX)] = (spec, generation)
    return found


def role_from_spec(host: PluginHost, spec: str) -> LexicalRole:
    """Rebuild the role that produced an index from its recorded spec."""
    recorded = json.loads(spec)
    return LexicalRole(host.load("lexical", recorded["plugin"]), recorded["options"])


def build(store: Store, host: PluginHost, role: LexicalRole, folder: Path) -> None:
    """Build a new generation of ``role``'s index from every chunk in ``store`` and record it.

    The record is written in the caller's open transaction; until that commits,
    readers keep the previous generation.
    """
    import numpy as np

    ids, texts = store.indexed_texts()
    final = _next_generation(folder, role)
    with staged_folder(final, durable=True) as staging:
        if texts:
            host.require(role.plugin, "aurora_lexical_build", texts=texts, directory=staging, options=role.options)
        np.save(staging / CHUNK_IDS_FILE, np.asarray(ids, dtype=np.int64))
        _write_manifest(staging)
    _record(store, role, final.name)


def update(store: Store, host: PluginHost, role: LexicalRole, folder: Path, generation: str) -> bool:
    """Bring ``role``'s live ``generation`` up to date with ``store`` through a delta generation, and record it.

    Return False, recording nothing, when a full :func:`build` is due instead: the delta
    would pass :data:`DELTA_SHARE` of its base, or the plugin builds no delta segments.
    """
    import numpy as np

    base = base_of(folder / generation) or generation
    base_ids = np.load(folder / base / CHUNK_IDS_FILE)
    current = np.asarray(store.chunk_ids(), dtype=np.int64)
    added = np.setdiff1d(current, base_ids, assume_unique=True)
    masked = np.setdiff1d(base_ids, current, assume_unique=True)
    if not len(added) and not len(masked):
        _record(store, role, base)
        return True
    if len(added) + len(masked) > DELTA_SHARE * len(base_ids):
        return False
    texts = store.texts(added.tolist())
    final = _next_generation(folder, role)
    try:
        with staged_folder(final, durable=True) as staging:
            if len(added):
                built = host.call(
                    role.plugin,
                    "aurora_lexical_build_delta",
                    texts=[texts[chunk_id] for chunk_id in added.tolist()],
                    base=folder / base,
                    directory=staging,
                    options=role.options,
                )
                if built is None:
                    raise _NoDelta
            np.save(staging / CHUNK_IDS_FILE, added)
            np.save(staging / MASKED_IDS_FILE, masked)
            (staging / BASE_FILE).write_text(json.dumps({"base": base}), encoding="utf-8")
            _write_manifest(staging)
    except _NoDelta:
        return False
    _record(store, role, final.name)
    return True


class _NoDelta(Exception):
    """The plugin builds no delta segment (for this base)."""


def base_of(directory: Path) -> str | None:
    """Return the name of the base generation of the delta generation in ``directory`` (None for a full one).

    Raise ValueError (or OSError) when the record is unreadable or its base is not a plain folder name.
    """
    try:
        recorded = json.loads((directory / BASE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    base = recorded.get("base") if isinstance(recorded, dict) else None
    if not isinstance(base, str) or Path(base).name != base or base in ("", ".", ".."):
        raise ValueError(f"{BASE_FILE} names no generation")
    return base


def _write_manifest(directory: Path) -> None:
    """Record the size and checksum of every file in ``directory`` (complete: the plugin is done)."""
    files = {name: _fingerprint(directory / name) for name in sorted(_files(directory))}
    (directory / MANIFEST_FILE).write_text(json.dumps({"files": files}), encoding="utf-8")


def _files(directory: Path) -> list[str]:
    """Return the path of every file under ``directory``, relative to it (the manifest left out)."""
    found = []
    for top, _, names in os.walk(directory):
        found += [os.path.relpath(os.path.join(top, name), directory) for name in names]
    return [name for name in found if name != MANIFEST_FILE]


def _fingerprint(path: Path) -> list[int]:
    """Return [size, CRC-32] of the file at ``path``."""
    checksum = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            checksum = zlib.crc32(block, checksum)
    return [path.stat().st_size, checksum]


def damage(folder: Path, generation: str) -> str | None:
    """Say what is damaged in ``generation`` (and in its base, for a delta), or None when it is intact.

    Reads every file once (about a millisecond per megabyte); a generation without a
    manifest (written by an earlier Aurora) is only checked for being there.
    """
    names = [generation]
    try:
        base = base_of(folder / generation)
    except (OSError, ValueError) as exc:
        return f"{generation}/{BASE_FILE} is unreadable ({type(exc).__name__})"
    if base is not None:
        names.append(base)
    for name in names:
        found = _generation_damage(folder / name)
        if found is not None:
            return f"{name}: {found}"
    return None


def _generation_damage(directory: Path) -> str | None:
    if not directory.is_dir():
        return "the folder is missing"
    try:
        recorded = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))["files"]
    except FileNotFoundError:
        return None  # written before manifests: nothing to check against
    except (OSError, ValueError, KeyError, TypeError):
        return f"{MANIFEST_FILE} is unreadable"
    for name, expected in sorted(recorded.items()):
        try:
            found = _fingerprint(directory / name)
        except FileNotFoundError:
            return f"{name} is missing"
        except OSError as exc:
            return f"{name} is unreadable ({exc.strerror})"
        if found != expected:
            change = "was truncated or extended" if found[0] != expected[0] else "was overwritten"
            return f"{name} {change}"
    return None


def _record(store: Store, role: LexicalRole, generation: str) -> None:
    store.set_meta(_META_PREFIX + role.key, json.dumps([role.spec, generation]))


def _next_generation(folder: Path, role: LexicalRole) -> Path:
    number = 1 + max((_generation_number(p.name) for p in folder.glob(f"{role.key}.*")), default=0)
    return folder / f"{role.key}.{number}"


def forget(store: Store, key: str) -> None:
    """Drop the record of an index (its folder is removed by the next :func:`prune`)."""
    store.delete_meta(_META_PREFIX + key)


def prune(folder: Path, keep: set[str]) -> None:
    """Delete generations not in ``keep`` (nor bases of those) and staging folders left by interrupted builds."""
    if not folder.is_dir():
        return
    try:
        keep = keep | {base for name in keep if (base := _readable_base(folder / name)) is not None}
    except OSError:  # a record that cannot be read now (not damaged): delete nothing this time
        return
    for path in folder.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _readable_base(directory: Path) -> str | None:
    """Return :func:`base_of` ``directory``, None when its record is damaged (:func:`damage` reports that)."""
    try:
        return base_of(directory)
    except ValueError:
        return None


#: What a damaged index raises when opened or queried (also what plugins are asked to raise);
#: IndexError and KeyError: arrays or maps that disagree with each other.
DAMAGE = (OSError, ValueError, EOFError, IndexError, KeyError, sqlite3.DatabaseError)


class Segment(NamedTuple):
    """One opened index of a generation: positions map to ``chunk_ids``; hits on ``masked`` chunk ids are dropped."""

    index: LexicalIndex | None
    chunk_ids: Any
    masked: frozenset[int] = frozenset()


class OpenLexicalIndex:
    """One generation opened for querying (a full index, or a base and its delta); hits are keyed by chunk id."""

    def __init__(self, generation: str, segments: list[Segment]) -> None:
        self.generation = generation
        self._segments = [segment for segment in segments if segment.index is not None]

    @property
    def empty(self) -> bool:
        """True when the index holds no chunk."""
        return not self._segments

    def search(self, query: str, limit: int) -> list[Hit]:
        """Return up to ``limit`` (chunk id, score) pairs, best first."""
        hits: list[Hit] = []
        try:
            for segment in self._segments:
                found = segment.index.search(query, limit + len(segment.masked))
                ids = segment.chunk_ids
                hits += [
                    (chunk_id, score)
                    for position, score in found
                    if (chunk_id := int(ids[position])) not in segment.masked
                ]
        except DAMAGE as exc:
            raise _damaged(self.generation, exc) from None
        if len(self._segments) > 1:  # a base and its delta: merge, ties in chunk id order as a full build ranks them
            hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:limit]

    def analyze(self, text: str) -> list[str]:
        """Return the index terms of ``text`` (an analyzer may read the index's files, so damage is reported)."""
        if not self._segments:
            return text.lower().split()
        try:
            return self._segments[0].index.analyze(text)
        except DAMAGE as exc:
            raise _damaged(self.generation, exc) from None


def live_generation(store: Store, role: LexicalRole) -> str:
    """Return the folder name of the live generation of ``role``'s index, or say how to build it."""
    recorded = live(store).get(role.key)
    if recorded is None or recorded[0] != role.spec:
        settings = ", ".join(f"{name}={value}" for name, value in sorted(role.options.items()))
        raise StaleIndexError(
            f"there is no lexical index for plugin {role.plugin.name} with {settings or 'its defaults'}",
            hint="run `aurora index` (with the same --pipeline/--backend) to build it",
        )
    return recorded[1]


def open_generation(host: PluginHost, role: LexicalRole, folder: Path, generation: str) -> OpenLexicalIndex:
    """Open generation ``generation`` of ``role``'s index (memory-mapped), with its base if it is a delta."""
    import numpy as np

    directory = folder / generation
    try:
        base = base_of(directory)
        segments = [_open_segment(host, role, directory)]
        if base is not None:
            masked = frozenset(np.load(directory / MASKED_IDS_FILE).tolist())
            segments.insert(0, _open_segment(host, role, folder / base, masked))
    except DAMAGE as exc:
        raise _damaged(generation, exc) from None
    return OpenLexicalIndex(generation, segments)


def _open_segment(
    host: PluginHost, role: LexicalRole, directory: Path, masked: frozenset[int] = frozenset()
) -> Segment:
    import numpy as np

    chunk_ids = np.load(directory / CHUNK_IDS_FILE, mmap_mode="r")
    index = None
    if len(chunk_ids):
        index = host.require(role.plugin, "aurora_lexical_open", directory=directory, options=role.options)
    return Segment(index, chunk_ids, masked)


def _damaged(generation: str, exc: BaseException) -> CorruptIndexError:
    return CorruptIndexError(
        f"the lexical index {generation} is damaged: {exc or type(exc).__name__}", hint=REPAIR_HINT
    )


def _generation_number(name: str) -> int:
    try:
        return int(name.rpartition(".")[2])
    except ValueError:
        return 0
