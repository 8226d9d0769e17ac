"""Aurora's first-party lexical plugin: BM25 with bm25s over code-aware tokens.

Indexing imports bm25s, and so does a delta segment (:mod:`aurora_bm25s.delta`);
querying memory-maps the saved arrays with numpy only (see :mod:`aurora_bm25s.reader`).
Registered as the ``bm25s`` entry point in the ``aurora.lexical`` group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aurora.plugin import Option, PluginDescription, hookimpl
from aurora_bm25s.analyzer import TOKENIZERS

METHODS = ("lucene", "robertson", "atire")
STOPWORDS = ("en", "en_plus", "da", "de", "es", "fr", "it", "ko", "nl", "no", "pt", "ru", "sv", "tr", "zh", "none")


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the plugin and its options."""
    from aurora_bm25s.analyzer import stemmer_names

    return PluginDescription(
        summary="BM25 (bm25s, numpy backend) over code-aware tokens",
        options={
            "tokenizer": Option("code", "split identifiers (code) or plain words (words)", choices=TOKENIZERS),
            "stemmer": Option("english", "Snowball stemmer language, or none", choices=stemmer_names()),
            "stopwords": Option("en", "stopword list (bm25s's), or none", choices=STOPWORDS),
            "k1": Option(1.2, "term-frequency saturation", float, minimum=0.0, maximum=10.0),
            "b": Option(0.75, "document-length normalisation", float, minimum=0.0, maximum=1.0),
            "method": Option("lucene", "BM25 variant", choices=METHODS),
            "split_compounds": Option(
                True, "also index a lower-case compound (readlinebuffer) under the corpus's words it joins", bool
            ),
            "one_letter": Option(True, "index one-letter identifiers, found by a query that is that identifier", bool),
        },
    )


@hookimpl
def aurora_lexical_build(texts: Sequence[str], directory: Path, options: Mapping[str, Any]) -> bool:
    """Build and save a bm25s index over ``texts``."""
    from aurora_bm25s.builder import build

    build(texts, directory, options)
    return True


@hookimpl
def aurora_lexical_build_delta(
    texts: Sequence[str], base: Path, directory: Path, options: Mapping[str, Any]
) -> bool | None:
    """Build a delta segment over ``texts`` scored with the statistics of the index in ``base``."""
    from aurora_bm25s.delta import build_delta

    return True if build_delta(texts, base, directory) else None


@hookimpl
def aurora_lexical_open(directory: Path, options: Mapping[str, Any]) -> Any:
    """Open a saved index for querying, memory-mapped."""
    from aurora_bm25s.reader import Bm25Reader

    return Bm25Reader(directory)
