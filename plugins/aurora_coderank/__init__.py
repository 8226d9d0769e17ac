"""Aurora's first-party code reranker: definitions, paths, file coherence and priors (the ``code`` entry point).

Registered in the ``aurora.reranker`` group; the built-in pipeline uses it. Each signal's
weight is an option (``[pipelines.NAME.reranker]``); docs/ranking.md says what each one
measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from aurora.plugin import Candidate, Option, PluginDescription, Reranked, hookimpl


def _weight(default: float, help: str) -> Option:
    return Option(default, help, float, minimum=0.0, maximum=10.0)


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the reranker and its signal weights."""
    return PluginDescription(
        summary="code-aware reranking: definitions of queried names, path matches, file coherence",
        options={
            "definition": _weight(1.0, "boost for a chunk that defines a queried name"),
            "path": _weight(1.5, "boost for a file whose name or folders carry the query's words"),
            "coherence": _weight(0.3, "boost for a chunk whose file has other strong candidates"),
            "brevity": _weight(0.3, "penalty for chunks shorter than 4 lines"),
            "prose": _weight(0.6, "penalty for documentation files (halved for natural-language queries)"),
            "tests": _weight(0.3, "penalty for test files, unless the query mentions tests"),
            "repeat": Option(
                0.3, "share of its score a file's second and later chunks give up", float, minimum=0.0, maximum=1.0
            ),
        },
    )


@hookimpl
def aurora_rerank(query: str, candidates: Sequence[Candidate], options: Mapping[str, Any]) -> list[Reranked]:
    """Rescore the fused candidates with the code signals, best first."""
    from aurora_coderank.rerank import rerank

    return rerank(query, candidates, options, _stemmer())


@cache
def _stemmer() -> Any:
    """Return the English Snowball stemmer's ``stemWords``, created once."""
    import Stemmer

    return Stemmer.Stemmer("english").stemWords
