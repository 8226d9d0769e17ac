"""``aurora serve --http``: the server's requests as JSON over HTTP (loopback unless told otherwise).

``POST /v1`` takes the same JSON request as the Unix socket and returns the same reply
(:mod:`aurora.serve.protocol`); ``GET /v1/status`` is the ``status`` request. Only programs
are served: a request a web page could make (an ``Origin`` header, a body that is not
``application/json``, a foreign ``Host`` on loopback) is refused, so that a page open in
a browser can neither search nor stop the server. A TCP port is open to every local user,
unlike the socket, so every request must also carry the server's secret,
``Authorization: Bearer TOKEN``, where TOKEN is the content of the endpoint's token file
(mode 0600 in the user's private runtime folder, made anew by each server): without it the
answer is 401. ``stop`` is not taken over HTTP at all (``aurora serve --stop`` uses the
socket). Each request is read whole by the server's intake (:mod:`aurora.serve.intake`: one
deadline per request, a cap per peer address) before it takes a worker of the server's bounded
pool; when that is full the answer is 503 with a "busy" reply.
"""

from __future__ import annotations

import hmac
import io
import json
import re
import socket
import traceback
from collections.abc import Callable, Hashable
from http.server import BaseHTTPRequestHandler
from typing import Any

from aurora.serve import protocol
from aurora.serve.intake import Front

Dispatch = Callable[[Callable[[], None], Callable[[], None]], None]
#: Host names a loopback-bound server answers to (anything else is a DNS-rebinding page).
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
#: The largest request line and headers read; a larger head gets 431 from http.server.
MAX_HEAD_BYTES = 64 * 1024
#: The largest body read.
_MAX_BODY = protocol.MAX_REQUEST_BYTES
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,12})[ \t]*\r\n", re.IGNORECASE)
_AUTHORIZATION = re.compile(rb"\r\nauthorization:[ \t]*([^\r\n]*?)[ \t]*\r\n", re.IGNORECASE)


class HttpFrontend:
    """The HTTP front end: a listening socket whose whole requests are answered through ``server.handle``.

    ``dispatch(serve, busy)`` runs ``serve()`` on the worker pool, or ``busy()`` when it is full.
    Requests with an ``Origin`` header (browsers add it to cross-site requests), a body
    that is not JSON, or, on loopback, a ``Host`` that is not a loopback name are refused,
    and so is every request without the secret written to ``server.endpoint.token``.
    """

    def __init__(self, server: Any, address: tuple[str, int], dispatch: Dispatch, write_timeout: float) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.listener = socket.create_server(address, family=family)
        self.server_address = self.listener.getsockname()
        self._dispatch, self._write_timeout = dispatch, write_timeout
        self._expected = f"Bearer {server.endpoint.write_token()}".encode()
        self._handler = _handler_class(server, self._expected, loopback=address[0] in LOOPBACK_NAMES)
        #: The intake's view of this front end: its requests are read whole, capped per peer address.
        self.front = Front(self.listener, self._complete, _peer_address, self._deliver, MAX_HEAD_BYTES + _MAX_BODY)

    def close(self) -> None:
        """Stop listening."""
        self.listener.close()

    def _complete(self, data: bytes) -> bool:
        """Whether ``data`` holds a whole request: its head, and the body it announces (none when refused unread)."""
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = b"\r\n" + data[: end + 2]
        length, authorization = _CONTENT_LENGTH.search(head), _AUTHORIZATION.search(head)
        if length is None or int(length.group(1)) > _MAX_BODY:
            return True  # answered from the head alone (411, 413): no body is read
        if authorization is None or not hmac.compare_digest(authorization.group(1), self._expected):
            return True  # 401: the body of a client without the secret is never held in memory
        return len(data) >= end + 4 + int(length.group(1))

    def _deliver(self, connection: socket.socket, data: bytes, peer: Hashable) -> None:
        self._dispatch(lambda: self._serve(connection, data, peer), lambda: _reply_busy(connection))

    def _serve(self, connection: socket.socket, data: bytes, peer: Hashable) -> None:
        """Answer one request (on a worker) and close; a broken one is logged, never the server's end."""
        try:
            connection.settimeout(self._write_timeout)
            self._handler(connection, peer, data)
        except OSError:  # the client went away: nothing to answer
            pass
        except Exception:  # noqa: BLE001 - a bug: log it, keep serving
            traceback.print_exc()
        finally:
            connection.close()


def _peer_address(connection: socket.socket, address: Any) -> Hashable:
    """Who a connection comes from: its address (every local user shares 127.0.0.1)."""
    return address[0]


def _reply_busy(connection: socket.socket) -> None:
    """Answer 503 with a "busy" reply (the client answers in its own process), and close."""
    body = json.dumps(protocol.error_reply("the server is busy", in_process=True)).encode()
    try:
        connection.settimeout(1.0)
        connection.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
    except OSError:
        pass
    finally:
        connection.close()


def _handler_class(server: Any, expected: bytes, loopback: bool) -> type[BaseHTTPRequestHandler]:
    """Return the request handler of an HTTP front end: it answers one request, read whole beforehand.

    ``expected`` is the ``Authorization`` header every request must carry.
    """
    token_file = server.endpoint.token

    class Handler(BaseHTTPRequestHandler):
        server_version = "aurora"

        def __init__(self, connection: socket.socket, peer: Hashable, data: bytes) -> None:
            self._data = data
            super().__init__(connection, peer, None)  # type: ignore[arg-type]

        def setup(self) -> None:
            """Read the request from the bytes the intake received, write the reply to the connection."""
            self.connection = self.request
            self.rfile = io.BytesIO(self._data)
            self.wfile = self.connection.makefile("wb")

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path != "/v1":
                self._send(404, protocol.error_reply(f"no such endpoint {self.path}; POST /v1 or GET /v1/status"))
                return
            if not self._from_a_program():
                return
            if self.headers.get_content_type() != "application/json":
                self._send(415, protocol.error_reply("malformed request: the body must be application/json"))
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._send(411, protocol.error_reply("malformed request: Content-Length is required"))
                return
            if not 0 <= length <= protocol.MAX_REQUEST_BYTES:
                self._send(
                    413, protocol.error_reply(f"malformed request: larger than {protocol.MAX_REQUEST_BYTES:,} bytes")
                )
                self.close_connection = True
                return
            try:
                request = json.loads(self.rfile.read(length))
            except (ValueError, RecursionError):
                request = None
            if not isinstance(request, dict):
                self._send(400, protocol.error_reply("malformed request: the body is not a JSON object"))
                return
            if request.get("op") == "stop":
                self._send(403, protocol.error_reply("stop is not taken over HTTP: run `aurora serve --stop`"))
                return
            self._send(200, server.handle(request))

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path != "/v1/status":
                self._send(404, protocol.error_reply(f"no such endpoint {self.path}; POST /v1 or GET /v1/status"))
                return
            if self._from_a_program():
                self._send(200, server.handle({"v": protocol.VERSION, "op": "status"}))

        def _from_a_program(self) -> bool:
            """Refuse what a web page could send (403) and what lacks the server's secret (401): then False."""
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
            if self.headers.get("Origin") is not None or (loopback and host not in LOOPBACK_NAMES):
                self._send(403, protocol.error_reply("refused: requests from web pages are not served"))
                return False
            given = (self.headers.get("Authorization") or "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, expected):
                self._send(
                    401,
                    protocol.error_reply(f"refused: send `Authorization: Bearer TOKEN`, TOKEN from {token_file}"),
                    {"WWW-Authenticate": "Bearer"},
                )
                return False
            return True

        def _send(self, status: int, reply: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            body = json.dumps(reply, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            """Log nothing per request (the server's status counts them)."""

    return Handler
