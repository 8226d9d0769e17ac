"""The warm server's wire format: one JSON object per line each way, one request per connection.

A request is ``{"v": 1, "op": ..., ...}``: ``search`` (``root``, ``cwd``, ``query``,
``options``, ``output``), ``read`` (``root``, ``cwd``, ``target``), ``status`` or ``stop``.
A search's ``output`` says how the client prints the answer (:func:`aurora.serve.client.output_request`):
``format`` json, text or vimgrep, ``color`` and ``links``; for a text format the reply carries the
printed ``text``.
A reply is ``{"ok": true, ...}`` or ``{"ok": false, "error": {"message", "hint",
"exit_code", "in_process"}}``, where ``in_process`` tells the client that the same
request may still succeed in its own process (the server is busy, or is shutting down).
On the socket, the server sends :data:`ACKNOWLEDGEMENT` (one space) as soon as it has
read a whole request, before the reply: a client that gets none within a second answers
in-process. A busy server replies once it has read the request, and closes the
connection. docs/server.md has the fields.

Standard library only: the client path of ``aurora search`` imports it.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from aurora.errors import UsageError
from aurora.search.options import SERVER_OPTIONS

if TYPE_CHECKING:
    import socket

VERSION = 1
#: What a server sends as soon as it has a whole request on its socket, before the reply (JSON allows leading
#: white space, so a reader that knows nothing of it reads the reply all the same).
ACKNOWLEDGEMENT = b" "
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


#: How a search's answer may be printed (``output.format``); the text formats are rendered by the server.
OUTPUT_FORMATS = ("json", "text", "vimgrep")


def search_arguments(
    request: dict[str, Any], root: str | os.PathLike[str]
) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """Check a search request's fields; return (query, options, output, cwd), or raise UsageError (exit code 2).

    Checks the shapes and types the wire carries: ``query`` text, ``options`` an object of
    :data:`OPTION_TYPES` (None: not given), ``output`` an object with a known ``format``
    and true/false ``color`` and ``links``, ``cwd`` an absolute path (default ``root``).
    The search itself checks the values (:func:`aurora.search.options.check_request`).
    """
    query, options = request.get("query"), request.get("options") or {}
    output, cwd = request.get("output") or {}, request.get("cwd") or str(root)
    if not isinstance(query, str):
        raise UsageError("malformed request: query must be a string")
    if not isinstance(options, dict) or not isinstance(output, dict) or not isinstance(cwd, str):
        raise UsageError("malformed request: options and output must be objects, cwd a string")
    if "\0" in cwd or not os.path.isabs(cwd):
        raise UsageError("malformed request: cwd must be an absolute path")
    for key, value in options.items():
        wanted = OPTION_TYPES.get(key)
        if wanted is None:
            raise UsageError(f"malformed request: unknown option {key!r}")
        if value is not None and (not isinstance(value, wanted) or (isinstance(value, bool) and wanted is not bool)):
            raise UsageError(f"malformed request: option {key!r} has the wrong type")
    if output.get("format", "json") not in OUTPUT_FORMATS:
        raise UsageError(f"malformed request: output format must be one of {', '.join(OUTPUT_FORMATS)}")
    if any(not isinstance(output.get(key, False), bool) for key in ("color", "links")):
        raise UsageError("malformed request: output color and links must be true or false")
    return query, options, output, cwd


def error_reply(message: str, hint: str | None = None, exit_code: int = 2, in_process: bool = False) -> dict[str, Any]:
    """Return an error reply."""
    return {"ok": False, "error": {"message": message, "hint": hint, "exit_code": exit_code, "in_process": in_process}}
