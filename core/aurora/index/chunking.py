"""The chunkers of an index run: which plugin splits each file, and the fallback when one cannot.

``[index] chunkers`` lists chunker plugins by preference: the first whose description
declares a file's language splits it. ``[index] fallback_chunker`` splits every other
file, and every file a chunker could not split (it returned ``None``, raised, or answered
something other than a list of chunks), with a warning: a chunker's bug never fails a run.

Each file's chunks are recorded with the identity of the chunkers that made them, the
plugin's name and version (``python@1``; ``python@1>windows@1`` when the fallback took
over; ``treesitter@1;merge_lines=6`` with options set in ``[chunkers.NAME]``), so that an
incremental run chunks again exactly the files whose chunker changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from aurora.config.layers import Config
from aurora.config.validation import resolve as resolve_options
from aurora.errors import AuroraError, ConfigError, PluginLoadError, PluginNotFoundError
from aurora.host.contract import Chunk, ChunkSettings, PluginDescription
from aurora.host.pipeline import plugin_description
from aurora.host.registry import LoadedPlugin, PluginHost

#: Joins the identity of a chunker that could not split a file to that of the fallback that did.
FALLBACK_MARK = ">"
#: Joins what a chunker could not do to what its fallback then could not do either, in a warning.
FALLBACK_FAILED = ", and fallback "


class Chunker(NamedTuple):
    """A loaded chunker plugin: its identity (``name@version``), the languages it splits and its options."""

    plugin: LoadedPlugin
    identity: str
    languages: tuple[str, ...]
    options: Mapping[str, Any]


class Chunked(NamedTuple):
    """One file's chunks, the identity of the chunkers that made them, and why the fallback was needed."""

    chunks: list[Chunk]
    identity: str
    warning: str | None = None


class ChunkerRecipe(NamedTuple):
    """What a worker process needs to load the same chunkers again: names, identities, languages, options."""

    preferred: tuple[tuple[str, str, tuple[str, ...], Mapping[str, Any]], ...]
    fallback: tuple[str, str, tuple[str, ...], Mapping[str, Any]]
    settings: ChunkSettings

    def load(self, host: PluginHost) -> Chunkers:
        """Load the chunkers this recipe names into ``host`` (a worker's own)."""

        def loaded(name: str, identity: str, languages: tuple[str, ...], options: Mapping[str, Any]) -> Chunker:
            return Chunker(host.load("chunker", name), identity, languages, options)

        return Chunkers(host, [loaded(*entry) for entry in self.preferred], loaded(*self.fallback), self.settings)


class Chunkers:
    """The chunkers an index run uses, chosen per file by language."""

    def __init__(
        self, host: PluginHost, preferred: Sequence[Chunker], fallback: Chunker, settings: ChunkSettings
    ) -> None:
        self._host = host
        self._preferred = tuple(preferred)
        self._fallback = fallback
        self.settings = settings
        self._by_language: dict[str, Chunker] = {}
        self._unavailable: set[str] = set()  # languages whose chunker said it cannot split them at all
        for chunker in preferred:
            for language in chunker.languages:
                self._by_language.setdefault(language, chunker)

    def recipe(self) -> ChunkerRecipe | None:
        """Return what another process needs to load these chunkers with the same options.

        None when one of them was registered in this process (``PluginHost.register``):
        another process would find an installed plugin of that name, or none.
        """
        if any(chunker.plugin.distribution is None for chunker in (*self._preferred, self._fallback)):
            return None

        def entry(chunker: Chunker) -> tuple[str, str, tuple[str, ...], Mapping[str, Any]]:
            return (chunker.plugin.name, chunker.identity, chunker.languages, dict(chunker.options))

        return ChunkerRecipe(tuple(entry(chunker) for chunker in self._preferred), entry(self._fallback), self.settings)

    def for_language(self, language: str) -> Chunker:
        """Return the chunker of ``language``: the first listed that declares it, else the fallback."""
        return self._by_language.get(language, self._fallback)

    def is_current(self, language: str, recorded: str | None) -> bool:
        """Say whether a file of ``language`` whose chunks were made by ``recorded`` would be chunked the same way now.

        ``None`` means no chunker ran (a skipped binary file), which no chunker change affects.
        """
        if recorded is None:
            return True
        chosen = self.for_language(language)
        return recorded in (chosen.identity, f"{chosen.identity}{FALLBACK_MARK}{self._fallback.identity}")

    def split(self, text: str, path: str, language: str) -> Chunked:
        """Split one file's ``text`` (newlines normalised) with its language's chunker, or with the fallback."""
        chosen = self.for_language(language)
        if language in self._unavailable:  # said once, for the first file; the others go to the fallback quietly
            chunks, problem, _ = self._call(self._fallback, text, path, language)
            identity = f"{chosen.identity}{FALLBACK_MARK}{self._fallback.identity}"
            return Chunked(chunks, identity, problem and f"fallback '{self._fallback.plugin.name}' {problem}")
        chunks, problem, unavailable = self._call(chosen, text, path, language)
        if unavailable:
            self._unavailable.add(language)
        if problem is None:
            return Chunked(chunks, chosen.identity)
        failed = f"chunker '{chosen.plugin.name}' {problem}"
        if chosen is self._fallback:
            return Chunked([], chosen.identity, f"{failed}; the file has no chunks")
        identity = f"{chosen.identity}{FALLBACK_MARK}{self._fallback.identity}"
        chunks, fallback_problem, _ = self._call(self._fallback, text, path, language)
        if fallback_problem is not None:
            return Chunked([], identity, f"{failed}{FALLBACK_FAILED}'{self._fallback.plugin.name}' {fallback_problem}")
        return Chunked(chunks, identity, f"{failed}; split by '{self._fallback.plugin.name}' instead")

    def _call(self, chunker: Chunker, text: str, path: str, language: str) -> tuple[list[Chunk], str | None, bool]:
        """Return the chunks ``chunker`` makes of ``text`` (or none), what went wrong, and whether it never can here.

        A chunker raises AuroraError when it cannot split the language at all on this
        machine (a grammar not installed): every later file of that language goes to the fallback.
        """
        try:
            chunks = self._host.call(
                chunker.plugin,
                "aurora_chunk",
                text=text,
                path=path,
                language=language,
                settings=self.settings,
                options=chunker.options,
            )
        except AuroraError as exc:  # the chunker cannot split this language here (a grammar not installed)
            hint = f" ({exc.hint})" if exc.hint else ""
            return [], f"{cannot_split(language)}: {exc.message}{hint}", True
        except Exception as exc:  # a plugin's bug must not fail the run
            return [], f"failed ({type(exc).__name__}: {exc})", False
        if chunks is None:
            return [], "could not split it", False
        if not isinstance(chunks, list) or not all(isinstance(chunk, Chunk) for chunk in chunks):
            return [], "returned something other than a list of Chunk records", False
        return chunks, None, False


def cannot_split(language: str) -> str:
    """Return the words that start the warning for a language its chunker cannot split here at all."""
    return f"cannot split {language} files"


def load_chunkers(config: Config, host: PluginHost, settings: ChunkSettings) -> Chunkers:
    """Load the chunkers ``[index] chunkers`` and ``[index] fallback_chunker`` name, once per index run."""
    preferred = [
        _load(host, config, name, config.source("index", "chunkers")) for name in config.get("index", "chunkers")
    ]
    fallback_name = config.get("index", "fallback_chunker")
    fallback = _load(host, config, fallback_name, config.source("index", "fallback_chunker"))
    return Chunkers(host, preferred, fallback, settings)


def _load(host: PluginHost, config: Config, name: str, source: str) -> Chunker:
    """Load the chunker ``name`` with its ``[chunkers.NAME]`` options; an unknown one is an error naming ``source``."""
    try:
        plugin = host.load("chunker", name)
    except PluginNotFoundError as exc:
        raise ConfigError(f"{source}: {exc.message}", exc.hint) from None
    except PluginLoadError as exc:
        raise PluginLoadError(f"{source}: {exc.message}", exc.hint) from exc.__cause__
    description = plugin_description(host, plugin) or PluginDescription(summary="")
    given = config.chunker_options(name)
    options = resolve_options(f"chunkers.{name}", description.options, given)
    # options set by the user are part of what made the chunks
    identity = f"{plugin.name}@{description.version}" + "".join(f";{key}={options[key]}" for key in sorted(given))
    return Chunker(plugin, identity, tuple(description.languages), options)
