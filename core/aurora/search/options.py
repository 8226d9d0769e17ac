"""The options of a search: what a search may be asked for, its limits, and the check of a request."""

from __future__ import annotations

from typing import NamedTuple

from aurora.errors import UsageError

#: The longest a search waits for a model (the ``search.wait_timeout`` limit too).
MAX_WAIT_S = 3600.0
#: The longest query accepted, in characters (a long code example fits; a pasted file does not).
MAX_QUERY_CHARS = 16_384


class SearchRequest(NamedTuple):
    """How to search, beyond the query: the CLI's flags and the ``[search]`` settings."""

    limit: int = 10
    mode: str | None = None
    files: bool = False
    snippet_lines: int = 3
    wait: bool | None = None  # None: wait = "auto" (see aurora.semantic.source.SemanticSource.should_wait)
    wait_timeout: float = 60.0
    explain: bool = False
    record: bool = True
    # Whether a search that does not wait still starts the model's load, for later searches
    # in this process; a one-shot process (the CLI) that will not live to use it does not.
    background: bool = True


def check_request(query: str, request: SearchRequest) -> None:
    """Refuse an empty or overlong query, a limit below 1 or a wait timeout of zero or less."""
    if not query.strip():
        raise UsageError("the query is empty", hint='give words to search for, e.g. aurora search "parse config"')
    if len(query) > MAX_QUERY_CHARS:
        raise UsageError(
            f"the query is too long ({len(query):,} characters; at most {MAX_QUERY_CHARS:,})",
            hint="search for the few words or the identifier that matter",
        )
    if request.limit < 1:
        raise UsageError(f"--limit must be at least 1 (got {request.limit})")
    if not 0 < request.wait_timeout <= MAX_WAIT_S:  # also refuses nan and inf
        raise UsageError(
            f"--wait-timeout must be more than 0 and at most {MAX_WAIT_S:g} seconds (got {request.wait_timeout:g})"
        )
