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
socket). Requests run on the server's bounded worker pool; when it is full the answer is
503 with a "busy" reply.
"""

from __future__ import annotations

import hmac
import json
import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from aurora.serve import protocol

Dispatch = Callable[[Callable[[], None], Callable[[], None]], None]
#: Host names a loopback-bound server answers to (anything else is a DNS-rebinding page).
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def make_http_server(server: Any, address: tuple[str, int], dispatch: Dispatch, read_timeout: float) -> HTTPServer:
    """Return an HTTP server bound to ``address`` that answers through ``server.handle``.

    ``dispatch(serve, busy)`` runs ``serve()`` on the worker pool, or ``busy()`` when it is full.
    Requests with an ``Origin`` header (browsers add it to cross-site requests), a body
    that is not JSON, or, on loopback, a ``Host`` that is not a loopback name are refused,
    and so is every request without the secret written to ``server.endpoint.token``.
    """
    loopback = address[0] in LOOPBACK_NAMES
    expected = f"Bearer {server.endpoint.write_token()}".encode()
    token_file = server.endpoint.token

    class Handler(BaseHTTPRequestHandler):
        server_version = "aurora"
        timeout = read_timeout  # per socket operation: a client that sends nothing frees its worker

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

    class Frontend(HTTPServer):
        def process_request(self, request: Any, client_address: Any) -> None:
            dispatch(lambda: self._serve(request, client_address), lambda: self._busy(request))

        def _serve(self, request: Any, client_address: Any) -> None:
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 - one broken connection must not stop the server
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

        def _busy(self, request: Any) -> None:
            body = json.dumps(protocol.error_reply("the server is busy", in_process=True)).encode()
            try:
                request.settimeout(1.0)
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                request.shutdown(socket.SHUT_WR)
                request.recv(65536)  # let the request in, so that closing does not reset the reply away
            except OSError:
                pass
            finally:
                self.shutdown_request(request)

    return Frontend(address, Handler)
