"""``aurora serve --http``: the server's requests as JSON over HTTP (loopback unless told otherwise).

``POST /v1`` takes the same JSON request as the Unix socket and returns the same reply
(:mod:`aurora.protocol`); ``GET /v1/status`` is the ``status`` request. Requests run on
the server's bounded worker pool; when it is full the answer is 503 with a "busy" reply.
A TCP port is open to every local user, unlike the socket: docs/server.md says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from aurora import protocol

Dispatch = Callable[[Callable[[], None], Callable[[], None]], None]


def make_http_server(server: Any, address: tuple[str, int], dispatch: Dispatch) -> HTTPServer:
    """Return an HTTP server bound to ``address`` that answers through ``server.handle``.

    ``dispatch(serve, busy)`` runs ``serve()`` on the worker pool, or ``busy()`` when it is full.
    """

    class Handler(BaseHTTPRequestHandler):
        server_version = "aurora"

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path != "/v1":
                self._send(404, protocol.error_reply(f"no such endpoint {self.path}; POST /v1 or GET /v1/status"))
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
            except ValueError as exc:
                request = None
                problem = str(exc)
            if not isinstance(request, dict):
                self._send(
                    400,
                    protocol.error_reply(f"malformed request: {problem if request is None else 'not a JSON object'}"),
                )
                return
            self._send(200, server.handle(request))

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path != "/v1/status":
                self._send(404, protocol.error_reply(f"no such endpoint {self.path}; POST /v1 or GET /v1/status"))
                return
            self._send(200, server.handle({"v": protocol.VERSION, "op": "status"}))

        def _send(self, status: int, reply: dict[str, Any]) -> None:
            body = json.dumps(reply, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
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
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
            except OSError:
                pass
            finally:
                self.shutdown_request(request)

    return Frontend(address, Handler)
