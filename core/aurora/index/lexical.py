"""Host side of lexical indexes: immutable generation folders, swapped in atomically.

Each (plugin, options) pair a pipeline uses gets its own index, so switching between
pipelines or ``--backend`` needs no rebuild. A build writes the plugin's files into a
staging folder (``.aurora/lexical/.<key>.<n>.*.tmp``), adds the document position ->
chunk id map, syncs it to disk and renames it to ``<key>.<n>``
(:func:`aurora.common.atomic.staged_folder`). The store's metadata names the live
generation of every key and is committed in the same transaction as the chunks it
indexes, so readers always see a matching pair; a killed build leaves only a staging
folder, removed by the next run.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from aurora.common.atomic import staged_folder
from aurora.errors import CorruptIndexError, StaleIndexError
from aurora.host.contract import Hit, LexicalIndex
from aurora.host.registry import LoadedPlugin, PluginHost
from aurora.index.store import Store

CHUNK_IDS_FILE = "chunk_ids.npy"
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
    number = 1 + max((_generation_number(p.name) for p in folder.glob(f"{role.key}.*")), default=0)
    final = folder / f"{role.key}.{number}"
    with staged_folder(final, durable=True) as staging:
        if texts:
            host.require(role.plugin, "aurora_lexical_build", texts=texts, directory=staging, options=role.options)
        np.save(staging / CHUNK_IDS_FILE, np.asarray(ids, dtype=np.int64))
    store.set_meta(_META_PREFIX + role.key, json.dumps([role.spec, final.name]))


def forget(store: Store, key: str) -> None:
    """Drop the record of an index (its folder is removed by the next :func:`prune`)."""
    store.delete_meta(_META_PREFIX + key)


def prune(folder: Path, keep: set[str]) -> None:
    """Delete generations not in ``keep`` and staging folders left by interrupted builds."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


#: What a damaged index raises when opened or queried (also what plugins are asked to raise).
DAMAGE = (OSError, ValueError, EOFError, sqlite3.DatabaseError)


class OpenLexicalIndex:
    """One generation opened for querying; hits are keyed by chunk id."""

    def __init__(self, generation: str, index: LexicalIndex | None, chunk_ids: Any) -> None:
        self.generation = generation
        self._index = index
        self._chunk_ids = chunk_ids

    @property
    def empty(self) -> bool:
        """True when the index holds no chunk."""
        return self._index is None

    def search(self, query: str, limit: int) -> list[Hit]:
        """Return up to ``limit`` (chunk id, score) pairs, best first."""
        if self._index is None:
            return []
        try:
            hits = self._index.search(query, limit)
        except DAMAGE as exc:
            raise _damaged(self.generation, exc) from None
        return [(int(self._chunk_ids[position]), score) for position, score in hits]

    def analyze(self, text: str) -> list[str]:
        """Return the index terms of ``text`` (an analyzer may read the index's files, so damage is reported)."""
        if self._index is None:
            return text.lower().split()
        try:
            return self._index.analyze(text)
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
    """Open generation ``generation`` of ``role``'s index (memory-mapped)."""
    import numpy as np

    directory = folder / generation
    try:
        chunk_ids = np.load(directory / CHUNK_IDS_FILE, mmap_mode="r")
        index = None
        if len(chunk_ids):
            index = host.require(role.plugin, "aurora_lexical_open", directory=directory, options=role.options)
    except DAMAGE as exc:
        raise _damaged(generation, exc) from None
    return OpenLexicalIndex(generation, index, chunk_ids)


def _damaged(generation: str, exc: BaseException) -> CorruptIndexError:
    return CorruptIndexError(
        f"the lexical index {generation} is damaged: {exc or type(exc).__name__}", hint="run `aurora index --rebuild`"
    )


def _generation_number(name: str) -> int:
    try:
        return int(name.rpartition(".")[2])
    except ValueError:
        return 0
