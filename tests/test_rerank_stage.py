"""The reranker role: a pipeline's reranker reorders fused candidates, reports its changes, and never costs the answer.

Rerankers are registered in-process with ``PluginHost.register`` (no distribution needed);
the search path is the same one every front end uses (``aurora.open(...).search``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write

import aurora
from aurora.errors import PluginLoadError
from aurora.plugin import API_VERSION, Candidate, PluginDescription, Reranked, hookimpl

QUERY = "token"


class Reverse:
    """Reverses the candidates' order, remembering what it was shown."""

    def __init__(self) -> None:
        self.seen: list[Candidate] = []

    @hookimpl
    def aurora_describe(self) -> PluginDescription:
        return PluginDescription(summary="reverses the order", api_version=API_VERSION)

    @hookimpl
    def aurora_rerank(self, query: str, candidates: list[Candidate], options: Any) -> list[Reranked]:
        self.seen = list(candidates)
        reranked = [
            Reranked(c.chunk_id, float(rank), {"reversed": rank - c.score}) for rank, c in enumerate(candidates)
        ]
        return reranked[::-1]


class Broken:
    """Fails on every query, as a buggy plugin would."""

    @hookimpl
    def aurora_rerank(self, query: str, candidates: list[Candidate], options: Any) -> list[Reranked]:
        raise ZeroDivisionError("division by zero")


class WrongRecords:
    """Answers with tuples from an older contract instead of Reranked records."""

    @hookimpl
    def aurora_rerank(self, query: str, candidates: list[Candidate], options: Any) -> list[Any]:
        return [(c.chunk_id, c.score) for c in candidates]


def _open(root: Path, reranker: str | None, plugin: object | None = None) -> Any:
    if reranker:
        write(root, {"aurora.toml": f'[activation]\nenabled = false\n[pipelines.default]\nreranker = "{reranker}"\n'})
    else:
        write(root, {"aurora.toml": "[activation]\nenabled = false\n"})
    project = aurora.open(root)
    if plugin is not None:
        project.host.register(plugin, reranker, "reranker")
    return project


def _ids(response: Any) -> list[tuple[str, int]]:
    return [(result.chunk.path, result.chunk.line_start) for result in response.results]


def test_a_reranker_reorders_the_fused_candidates_and_explains_its_changes(indexed: Path) -> None:
    plain = _open(indexed, None).search(QUERY, limit=50)
    assert len(plain.results) >= 3
    reverse = Reverse()
    reranked = _open(indexed, "reverse", reverse).search(QUERY, limit=50, explain=True)
    assert _ids(reranked) == _ids(plain)[::-1]
    assert [c.path for c in reverse.seen] == [result.chunk.path for result in plain.results]
    first = reverse.seen[0]
    assert first.text and first.language == "python" and "lexical" in first.signals
    document = reranked.to_dict()["results"][0]
    assert set(document["rerank"]) == {"reversed"}
    assert "rerank" not in plain.to_dict()["results"][0]


def test_without_explain_the_json_has_no_rerank_field(indexed: Path) -> None:
    response = _open(indexed, "reverse", Reverse()).search(QUERY)
    assert all("rerank" not in result for result in response.to_dict()["results"])


@pytest.mark.parametrize("plugin", [Broken(), WrongRecords()], ids=["raises", "wrong-records"])
def test_a_failing_reranker_keeps_the_fused_order_with_a_warning(indexed: Path, plugin: object) -> None:
    plain = _open(indexed, None).search(QUERY, limit=20)
    response = _open(indexed, "flaky", plugin).search(QUERY, limit=20)
    assert _ids(response) == _ids(plain)
    assert any("reranker 'flaky' failed" in warning for warning in response.warnings)


def test_an_unknown_reranker_is_a_configuration_error(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": '[pipelines.default]\nreranker = "nosuch"\n'})
    done = cli("search", QUERY, cwd=indexed)
    assert done.returncode == 2
    assert "unknown reranker plugin 'nosuch'" in done.stderr
    assert "Traceback" not in done.stderr


class Declares:
    """A plugin that declares the hook contract version it was written for."""

    def __init__(self, version: int) -> None:
        self.version = version

    @hookimpl
    def aurora_describe(self) -> PluginDescription:
        return PluginDescription(summary="declares a version", api_version=self.version)


@pytest.mark.parametrize(("version", "message"), [(API_VERSION + 1, "newer than"), (2, "was written for")])
def test_a_plugin_declaring_another_contract_is_refused(tmp_path: Path, version: int, message: str) -> None:
    host = aurora.open(tmp_path).host
    with pytest.raises(PluginLoadError, match=message):
        host.register(Declares(version), "declares", "reranker")


def test_registering_under_an_unknown_role_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PluginLoadError, match="unknown plugin role 'ranker'"):
        aurora.open(tmp_path).host.register(Reverse(), "reverse", "ranker")
