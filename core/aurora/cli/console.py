r"""What the CLI writes: error, warning and note lines on stderr, JSON on stdout, and the colour policy.

Shared by the typer commands and by the client path of ``aurora search`` (which imports
neither typer nor anything else beyond the standard library), so that an answer reads
the same whichever path produced it.

Text from a repository or an argument (file names, file contents, a query, a setting) is
shown, never obeyed: human output passes through :func:`visible`, which shows escape
sequences and other control characters as ``\x1b``; JSON is valid UTF-8 whatever it holds.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, TextIO

#: Characters a terminal acts on instead of showing (C0 controls but tab and newline, DEL, C1 controls,
#: bidirectional overrides), and lone surrogates: the bytes of a name or argument that were not UTF-8.
_UNSHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def visible(text: str) -> str:
    r"""Return ``text`` with each character of :data:`_UNSHOWN` written as an escape (``\x1b``, ``\u202e``).

    A lone surrogate from an undecodable byte shows as that byte (``\xff``); tabs and newlines stay.
    """
    return _UNSHOWN.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape's form of a byte that was not UTF-8
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def line(text: str = "") -> None:
    """Print ``text`` to stdout as human output: with :func:`visible` characters only."""
    print(visible(text))


def error(message: str, hint: str | None = None) -> None:
    """Print ``aurora: error: MESSAGE`` (and the hint on the next line) to stderr."""
    print(f"aurora: error: {visible(message)}", file=sys.stderr)
    if hint:
        print(f"  hint: {visible(hint)}", file=sys.stderr)


def warn(message: str) -> None:
    """Print ``aurora: warning: MESSAGE`` to stderr."""
    print(f"aurora: warning: {visible(message)}", file=sys.stderr)


def note(message: str) -> None:
    """Print ``aurora: note: MESSAGE`` to stderr (something done that the user should know of)."""
    print(f"aurora: note: {visible(message)}", file=sys.stderr)


def json_text(document: Any) -> str:
    r"""Return ``document`` as one line of JSON, valid UTF-8: a lone surrogate is written as its ``\udcff`` escape."""
    text = json.dumps(document, ensure_ascii=False)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def print_json(document: Any) -> None:
    """Write ``document`` as one line of JSON to stdout (never through a terminal renderer)."""
    sys.stdout.write(json_text(document) + "\n")


def use_color(when: str, stream: TextIO) -> bool:
    """Decide whether to colour ``stream`` for ``--color auto|always|never`` (NO_COLOR respected)."""
    if when == "always":
        return True
    if when == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()
