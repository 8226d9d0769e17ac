"""The warm server's wire format: one JSON object per line each way, one request per connection.

A request is ``{"v": 1, "op": ..., ...}``: ``search`` (``root``, ``cwd``, ``query``,
``options``, ``output``), ``read`` (``root``, ``cwd``, ``target``), ``status`` or ``stop``.
A search's ``output`` says how the client prints the answer (:func:`aurora.serve.client.output_request`):
``format`` json, text or vimgrep, ``color`` and ``links``; for a text format the reply carries the
printed ``text``.
A reply is ``{"ok": true, ...}`` or ``{"ok": false, "error": {"message", "hint",
"exit_code", "in_process"}}``, where ``in_process`` tells the client that the same
request may still succeed in its own process (the server is busy, or is shutting down).
A busy server replies at once, without reading the request, and closes the connection:
a client whose request could not be sent still reads the reply. docs/server.md has the fields.

Standard library only: the client path of ``aurora search`` imports it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aurora.search.options import SERVER_OPTIONS

if TYPE_CHECKING:
    import socket

VERSION = 1
#: The largest request accepted, in bytes (a query is limited much lower by aurora.search.options).
MAX_REQUEST_BYTES = 4 * 1024 * 1024
#: The largest reply a client reads, in bytes.
MAX_REPLY_BYTES = 256 * 1024 * 1024


class ProtocolError(Exception):
    """A frame was too large, cut short or not a JSON object."""


def send(connection: socket.socket, message: dict[str, Any]) -> None:
    """Write ``message`` as one JSON line (ASCII: any string, a path with undecodable bytes too, travels)."""
    connection.sendall(json.dumps(message).encode("ascii") + b"\n")


def receive(connection: socket.socket, limit: int) -> dict[str, Any]:
    """Read one JSON line of at most ``limit`` bytes; raise ProtocolError for anything else.

    Raise ConnectionError when the peer closed the connection before a whole line.
    """
    chunks, size = [], 0
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a whole message")
        end = chunk.find(b"\n")
        if end >= 0:
            chunks.append(chunk[:end])
            size += end
        else:
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ProtocolError(f"message larger than {limit:,} bytes")
        if end >= 0:
            break
    try:
        message = json.loads(b"".join(chunks))
    except ValueError as exc:  # includes UnicodeDecodeError
        raise ProtocolError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("not JSON this server reads: nested too deeply") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a JSON object")
    return message


#: Options a search request may carry, with the JSON types of their values (None too: not given).
#: JSON has one kind of number: a float option takes 60 as well as 60.0. A repeatable option is
#: an array (of strings: the search checks its items).
OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    option.name: list if option.repeated else (int, float) if option.kind is float else option.kind
    for option in SERVER_OPTIONS
}


def error_reply(message: str, hint: str | None = None, exit_code: int = 2, in_process: bool = False) -> dict[str, Any]:
    """Return an error reply."""
    return {"ok": False, "error": {"message": message, "hint": hint, "exit_code": exit_code, "in_process": in_process}}
