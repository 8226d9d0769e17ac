"""The ``aurora`` command's entry point: a search through a running server first, else the full CLI.

``aurora search`` with a warm server for its index is answered here, with the standard
library and :mod:`aurora.serve.client` only (no typer, pluggy or numpy), so that it costs
little more than starting Python. Everything else, and any search the client path
cannot answer, goes to the typer app (:mod:`aurora.cli.app`).
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the ``aurora`` command."""
    argv = sys.argv[1:]
    if argv[:1] == ["search"]:
        from aurora.errors import EXIT_INTERRUPTED
        from aurora.serve.client import search_through_server

        try:
            code = search_through_server(argv[1:])
        except KeyboardInterrupt:
            print("aurora: error: interrupted", file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:  # a bug on the client path must not cost the user the answer
            print(
                f"aurora: warning: the server client failed ({type(exc).__name__}: {exc}); answered in-process",
                file=sys.stderr,
            )
            code = None
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    from aurora.cli.app import main as cli_main

    cli_main()
