"""Named exceptions for problems a user can fix, each with a one-line message and a hint.

The CLI prints ``aurora: error: <message>`` and, on the next line, ``hint: <hint>``
to stderr, then exits with :attr:`AuroraError.exit_code`. Anything that is not an
:class:`AuroraError` is a bug and is reported with its traceback.
"""

from __future__ import annotations

from aurora.common.hints import pip_install_extra

#: Exit codes, documented in docs/cli.md (0 is success).
EXIT_NO_RESULTS = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 70
EXIT_INTERRUPTED = 130
#: The hint for damage that `aurora index` repairs (a database, a lexical index or a vector table it can rebuild).
REPAIR_HINT = "run `aurora index` to repair it (`aurora index --rebuild` rebuilds everything)"


class AuroraError(Exception):
    """A problem the user can fix: a one-line message plus an optional hint."""

    exit_code = EXIT_USER_ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(AuroraError):
    """A configuration file or value is malformed or not allowed."""


class UsageError(AuroraError):
    """A command-line argument is not usable (empty query, missing path, ...)."""


class NoIndexError(AuroraError):
    """There is no index where one was expected."""


class IndexVersionError(AuroraError):
    """The index was written by another schema version of Aurora."""


class NewerIndexError(AuroraError):
    """The index was written by a newer Aurora: it is kept, not replaced, unless the user asks (``--rebuild``)."""


class StaleIndexError(AuroraError):
    """The index was built with other settings than the pipeline now asks for."""


class CorruptIndexError(AuroraError):
    """The index files exist but are damaged; rebuilding them is the fix."""


class IndexUnavailableError(AuroraError):
    """The index cannot be opened right now (locked, read-only, I/O error); it is not damaged."""


class DiskFullError(IndexUnavailableError):
    """The disk (or the user's quota) filled up while the index was written; the previous index is kept."""


class IndexLockedError(AuroraError):
    """Another process is writing the same index."""


class PluginNotFoundError(AuroraError):
    """No installed plugin has the requested name for the requested role."""


class PluginLoadError(AuroraError):
    """A plugin was found but its module could not be imported or registered."""


class BackendNotInstalledError(AuroraError):
    """A plugin's library is not installed; ``extra`` names the extra that brings it."""

    def __init__(self, library: str, distribution: str, extra: str) -> None:
        super().__init__(f"{library} is not installed", hint=pip_install_extra(distribution, extra))
        self.library = library


class ModelUnavailableError(AuroraError):
    """An embedding model is not available locally and could not be fetched, or will not load."""


class IndexInterruptedError(AuroraError):
    """Ctrl-C after the lexical index was committed: say what was kept."""

    exit_code = EXIT_INTERRUPTED


class VectorIndexError(AuroraError):
    """The vector index is missing, from another model, or cannot be opened."""
