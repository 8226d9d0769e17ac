"""What the CLI writes: error, warning and note lines on stderr, JSON on stdout, and the colour policy.

Shared by the typer commands and by the client path of ``aurora search`` (which imports
neither typer nor anything else beyond the standard library), so that an answer reads
the same whichever path produced it.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


def error(message: str, hint: str | None = None) -> None:
    """Print ``aurora: error: MESSAGE`` (and the hint on the next line) to stderr."""
    print(f"aurora: error: {message}", file=sys.stderr)
    if hint:
        print(f"  hint: {hint}", file=sys.stderr)


def warn(message: str) -> None:
    """Print ``aurora: warning: MESSAGE`` to stderr."""
    print(f"aurora: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    """Print ``aurora: note: MESSAGE`` to stderr (something done that the user should know of)."""
    print(f"aurora: note: {message}", file=sys.stderr)


def print_json(document: Any) -> None:
    """Write ``document`` as one line of JSON to stdout (never through a terminal renderer)."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")


def use_color(when: str, stream: TextIO) -> bool:
    """Decide whether to colour ``stream`` for ``--color auto|always|never`` (NO_COLOR respected)."""
    if when == "always":
        return True
    if when == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()
