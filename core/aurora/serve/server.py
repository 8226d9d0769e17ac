"""``aurora serve``: a long-running process that keeps one index root warm.

It holds the root's :class:`aurora.api.Project` (opened stores, BM25 index, loaded
embedders, caches), starts loading the default pipeline's model as soon as it starts
(answering lexically until it is ready), and answers requests on a Unix socket that
only its user can open (:mod:`aurora.serve.endpoint`; optionally also over HTTP on
loopback). Requests are read whole by one thread (:mod:`aurora.serve.intake`: a deadline
per request, a cap per peer), so a connection that sends nothing never holds a worker;
each request on the socket is acknowledged at once (one space before the reply), so a
client can tell a stopped server from a slow search. Requests are then handled by a
bounded pool of threads; one bad request gets an error reply and never takes the server
down. Every search checks that the index is still the one it opened (a deleted or
rebuilt ``.aurora`` is noticed), and reads one consistent snapshot of it, so indexing
while the server serves never gives a half-updated answer. Unless told not to
(``[server] watch = false``), it watches the root and re-indexes what changes as it
changes (:mod:`aurora.index.watch`), so that a saved edit is searchable within a second
without anyone running ``aurora index``. The server stops on ``aurora serve --stop``,
SIGTERM or Ctrl-C, or after ``idle_timeout`` seconds without a request. Wire format:
:mod:`aurora.serve.protocol`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aurora.api import open_project
from aurora.common.atomic import write_text_atomically
from aurora.common.layout import DATABASE_NAME, index_dir
from aurora.common.locks import LockHeld, ProcessLock
from aurora.errors import AuroraError, NoIndexError, UsageError
from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint, EndpointError
from aurora.serve.intake import Front, Intake

#: Seconds a client has to send its whole request once connected (not per read: trickling bytes gains nothing).
READ_TIMEOUT_S = 10.0
#: Connections one peer (a process on the socket, an address over HTTP) may have open while they send their
#: request; one more closes its oldest.
PEER_CONNECTIONS = 64
#: Connections all peers together may have open while they send their request; one more closes the oldest.
PENDING_CONNECTIONS = 512
#: Seconds a client has to take the reply.
WRITE_TIMEOUT_S = 30.0
#: Requests waiting for a worker beyond this many per worker get a "busy" reply.
QUEUE_PER_WORKER = 8
#: Seconds a second server waits for the lock before saying one is already running.
LOCK_PATIENCE_S = 0.5
#: Seconds a stopping server waits for an update of the index in progress to finish.
WATCH_STOP_S = 30.0


class ServerRunningError(AuroraError):
    """A server for the same root is already running."""


class WarmServer:
    """Serves one index root on its endpoint until stopped or idle."""

    def __init__(
        self,
        root: Path,
        idle_timeout: float,
        workers: int,
        http: tuple[str, int] | None = None,
        endpoint: Endpoint | None = None,
        watch: bool = True,
    ) -> None:
        self.root = root
        self.watch = watch
        self.endpoint = endpoint or Endpoint(str(root))
        self.idle_timeout = idle_timeout
        self.workers = workers
        self.http_address = http
        #: Requests that may be in flight at once (answered or waiting for a worker); beyond: "busy".
        self.capacity = workers * (1 + QUEUE_PER_WORKER)
        self._stop = threading.Event()
        self._stats_lock = threading.Lock()  # guards _in_flight, _requests and _errors
        self._in_flight = self._requests = self._errors = 0
        self._last_request = time.monotonic()
        self._started = time.time()
        self._index_identity: tuple[int, int] | None = None
        self._lock: ProcessLock | None = None
        self._http: Any = None
        self._watcher: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # --- lifecycle -------------------------------------------------------------

    def run(self, announce: bool = True) -> None:
        """Serve until stopped; raise ServerRunningError if a server for this root runs already."""
        pool = self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="aurora-serve")
        listener: socket.socket | None = None
        intake: Intake | None = None
        try:
            listener = self._listen()
            # A request over the limit is delivered as soon as it is over: the reply says it is too large.
            fronts = [Front(listener, _holds_a_line, _peer_process, self._take_request, protocol.MAX_REQUEST_BYTES + 1)]
            if self.http_address is not None:
                self._start_http()
                fronts.append(self._http.front)
            self._preload()
            self._write_info()  # after the preload: the intake then acknowledges requests at once
            if self.watch:
                self._start_watcher()
            if announce:
                where = f"{self.endpoint.socket}" + (f" and http://{self._http_text()}" if self._http else "")
                print(f"aurora: serving {self.root} on {where} (pid {os.getpid()})", file=sys.stderr, flush=True)
            intake = Intake(fronts, READ_TIMEOUT_S, PEER_CONNECTIONS, PENDING_CONNECTIONS)
            intake.run(until=self._should_stop)
        finally:
            if intake is not None:
                intake.close()
            if listener is not None:
                listener.close()
            if self._http is not None:
                self._http.close()
            pool.shutdown(wait=True)  # requests already accepted are answered
            if self._watcher is not None:
                self._stop.set()
                self._watcher.join(WATCH_STOP_S)  # an update in progress commits (or rolls back) first
            if self._lock is not None:
                self._release()
                if announce:
                    print(f"aurora: stopped serving {self.root}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        """Ask the server to stop (from a signal handler, a request or another thread)."""
        self._stop.set()

    def _listen(self) -> socket.socket:
        """Take the root's lock, then bind its socket (mode 0600)."""
        try:
            self.endpoint.check_folder(create=True)
        except EndpointError as exc:
            raise UsageError(
                f"cannot serve: {exc}", hint="fix the folder's owner or mode, or set XDG_RUNTIME_DIR"
            ) from None
        try:
            self._lock = self.endpoint.hold_lock(LOCK_PATIENCE_S)
        except LockHeld:
            raise ServerRunningError(
                f"a server for {self.root} is already running"
                + (f" (pid {self.endpoint.pid()})" if self.endpoint.pid() else ""),
                hint="`aurora serve --status` shows it, `aurora serve --stop` stops it",
            ) from None
        try:
            os.unlink(self.endpoint.socket)  # we hold the lock: any socket left there is stale
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o177)
        try:
            listener.bind(self.endpoint.socket)
        finally:
            os.umask(previous)
        os.chmod(self.endpoint.socket, 0o600)
        listener.listen(128)
        return listener

    def _release(self) -> None:
        """Remove the socket and info file, then let go of the lock."""
        for path in (self.endpoint.socket, self.endpoint.info, self.endpoint.token):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _write_info(self) -> None:
        info = {"pid": os.getpid(), "root": str(self.root), "socket": self.endpoint.socket, "started": self._started}
        if self._http is not None:
            info["http"], info["token"] = self._http_text(), self.endpoint.token
        write_text_atomically(self.endpoint.info, json.dumps(info))

    def _preload(self) -> None:
        """Open the index and start loading the default pipeline's model (speculatively: searches want it)."""
        try:
            self._project().preload()
        except AuroraError as exc:  # the server still starts: searches report the problem
            print(f"aurora: warning: {exc.message}", file=sys.stderr, flush=True)
        except Exception:  # a plugin bug: searches report it; the server serves what works
            traceback.print_exc()

    def _start_watcher(self) -> None:
        """Re-index what changes under the root in a background thread until the server stops.

        The watcher has its own project (plugin host, embedder): indexing never contends
        with searches for theirs. Searches see each update as soon as it commits.
        """
        from aurora.api import Project
        from aurora.index.watch import watch

        def updated(report: Any) -> None:
            print(f"aurora: updated the index: {report.summary()}", file=sys.stderr, flush=True)

        def failed(error: AuroraError) -> None:
            print(f"aurora: warning: could not update the index: {error.message}", file=sys.stderr, flush=True)

        def run() -> None:
            try:
                watch(Project(self.root), stop=self._stop, on_update=updated, on_error=failed, create=False)
            except Exception:  # a bug or an unwatchable tree: searches still work, on the index as it is
                print("aurora: warning: stopped watching for changes:", file=sys.stderr, flush=True)
                traceback.print_exc()

        self._watcher = threading.Thread(target=run, name="aurora-watch", daemon=True)
        self._watcher.start()

    def _should_stop(self) -> bool:
        """Return whether to stop serving: asked to, or idle for ``idle_timeout`` seconds (which it says)."""
        if self._stop.is_set():
            return True
        if self.idle_timeout and time.monotonic() - self._last_request > self.idle_timeout:
            print(f"aurora: no request for {self.idle_timeout:g} s; stopping", file=sys.stderr, flush=True)
            return True
        return False

    def _take_request(self, connection: socket.socket, data: bytes, peer: Any) -> None:
        """Take a whole request from the socket: refuse another user's, else acknowledge it and give it a worker."""
        if peer is not None and peer[1] != os.getuid():
            _reply_and_close(connection, protocol.error_reply("refused: the request comes from another user"))
            return
        self._dispatch(
            lambda: self._serve_connection(connection, data),
            lambda: _reply_and_close(connection, protocol.error_reply("the server is busy", in_process=True)),
            acknowledge=lambda: _acknowledge(connection),
        )

    @property
    def in_flight(self) -> int:
        """Requests accepted and not answered yet, running or waiting for a worker; at ``capacity``, "busy"."""
        with self._stats_lock:
            return self._in_flight

    def _dispatch(
        self, serve: Callable[[], None], busy: Callable[[], None], acknowledge: Callable[[], None] | None = None
    ) -> None:
        """Run ``serve()`` on the pool (after ``acknowledge()``), or ``busy()`` at once when too many requests wait."""
        with self._stats_lock:
            admitted = self._in_flight < self.capacity
            if admitted:
                self._in_flight += 1
        if not admitted:
            busy()
            return
        if acknowledge is not None:
            acknowledge()
        try:
            assert self._pool is not None
            self._pool.submit(self._in_slot, serve, busy)
        except RuntimeError:  # the pool is shutting down
            self._free_slot()
            busy()

    def _in_slot(self, serve: Callable[[], None], busy: Callable[[], None]) -> None:
        try:
            (busy if self._stop.is_set() else serve)()  # once stopping, what still waits is sent away at once
        finally:
            self._free_slot()

    def _free_slot(self) -> None:
        """Free the slot of a request that was answered (or sent away)."""
        with self._stats_lock:
            self._in_flight -= 1

    # --- one connection ----------------------------------------------------------

    def _serve_connection(self, connection: socket.socket, data: bytes) -> None:
        """Answer the request ``data`` (read whole by the intake) and close; errors become replies, never exceptions."""
        try:
            connection.settimeout(WRITE_TIMEOUT_S)
            try:
                request = protocol.receive(_Received(data), protocol.MAX_REQUEST_BYTES)
            except protocol.ProtocolError as exc:
                self._count(error=True)
                protocol.send(connection, protocol.error_reply(f"malformed request: {exc}"))
                return
            reply = self.handle(request)
            protocol.send(connection, reply)
        except OSError:  # the client went away: nothing to answer
            pass
        except Exception as exc:  # a bug outside handle(): log it, tell the client to answer in-process
            traceback.print_exc()
            self._count(error=True)
            with contextlib.suppress(OSError, ValueError):
                protocol.send(
                    connection, protocol.error_reply(f"the server failed ({type(exc).__name__})", in_process=True)
                )
        finally:
            connection.close()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one request (any transport); never raises."""
        started = time.perf_counter()
        try:
            if request.get("v") != protocol.VERSION:
                raise UsageError(
                    f"protocol version {request.get('v')!r} is not {protocol.VERSION}",
                    hint="the client and the server are different Aurora versions; restart the server",
                )
            op = request.get("op")
            if op == "search":
                reply = self._search(request)
            elif op == "read":
                reply = self._read(request)
            elif op == "status":
                reply = {"ok": True, "status": self.status()}
            elif op == "stop":
                self.stop()
                reply = {"ok": True}
            else:
                raise UsageError(f"unknown request {op!r}; the server answers search, read, status and stop")
        except AuroraError as exc:
            self._count(error=True)
            return protocol.error_reply(exc.message, exc.hint, exc.exit_code)
        except Exception as exc:  # a bug: log it, keep serving, let the client answer in-process
            self._count(error=True)
            traceback.print_exc()
            return protocol.error_reply(
                f"the server failed on this request ({type(exc).__name__}: {exc})", in_process=True
            )
        self._count(error=False)
        reply["server_ms"] = round((time.perf_counter() - started) * 1000, 3)
        return reply

    def _search(self, request: dict[str, Any]) -> dict[str, Any]:
        self._last_request = time.monotonic()  # only searches keep the server from its idle stop, not --status
        if request.get("root") not in (None, str(self.root)):  # two roots whose socket names collide
            return protocol.error_reply(f"this server serves {self.root}, not {request.get('root')}", in_process=True)
        query, options, output, cwd = protocol.search_arguments(request, self.root)
        response = self._project().search(query, **options, background=True)._replace(answered_by="server")
        reply: dict[str, Any] = {"ok": True, "response": response.to_dict()}
        from aurora.cli.render import TEXT_FORMATS, output_text

        if output.get("format") in TEXT_FORMATS:
            reply["text"] = output_text(response, output, Path(cwd))
        return reply

    def _read(self, request: dict[str, Any]) -> dict[str, Any]:
        """Show a chunk or lines (``target``, relative to ``cwd``) and record their use: ``aurora read``'s answer."""
        self._last_request = time.monotonic()
        if request.get("root") not in (None, str(self.root)):
            return protocol.error_reply(f"this server serves {self.root}, not {request.get('root')}", in_process=True)
        target, cwd = request.get("target"), request.get("cwd") or str(self.root)
        if not isinstance(target, str) or not isinstance(cwd, str):
            raise UsageError("malformed request: target and cwd must be strings")
        return {"ok": True, "read": self._project().read(target, cwd=cwd).to_dict()}

    def _project(self) -> Any:
        """Return the root's project, reopened when its index was replaced; NoIndexError when it is gone."""
        database = index_dir(self.root) / DATABASE_NAME
        try:
            info = os.stat(database)
        except FileNotFoundError:
            raise NoIndexError(
                f"the index at {self.root} is gone (deleted while the server held it)",
                hint="run `aurora index` there; the server picks up the new index",
            ) from None
        project = open_project(self.root)
        identity = (info.st_dev, info.st_ino)
        if identity != self._index_identity:
            project.close()  # a new database file: searches reopen it
            self._index_identity = identity
        return project

    def _count(self, error: bool) -> None:
        with self._stats_lock:
            self._requests += 1
            self._errors += error

    def status(self) -> dict[str, Any]:
        """Return what ``aurora serve --status`` shows."""
        from aurora.semantic.loader import loader

        with self._stats_lock:
            requests, errors = self._requests, self._errors
        return {
            "pid": os.getpid(),
            "root": str(self.root),
            "socket": self.endpoint.socket,
            "http": self._http_text() if self._http else None,
            "token": self.endpoint.token if self._http else None,
            "uptime_s": round(time.time() - self._started, 1),
            "requests": requests,
            "errors": errors,
            "idle_timeout_s": self.idle_timeout,
            "workers": self.workers,
            "watching": self._watcher is not None and self._watcher.is_alive(),
            "in_flight": self.in_flight,
            "capacity": self.capacity,
            "rss_mb": _rss_mb(),
            "models": [
                {"model": key, "state": state, "load_s": None if seconds is None else round(seconds, 3)}
                for key, (state, seconds) in loader().loads().items()
            ],
        }

    # --- HTTP ---------------------------------------------------------------------

    def _start_http(self) -> None:
        """Listen for HTTP requests too (read by the same intake as the socket's)."""
        from aurora.serve.http import HttpFrontend

        assert self.http_address is not None
        host, port = self.http_address
        try:
            self._http = HttpFrontend(self, self.http_address, self._dispatch, WRITE_TIMEOUT_S)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def _http_text(self) -> str:
        host, port = self._http.server_address[:2]
        return f"{host}:{port}"


def _reply_and_close(connection: socket.socket, reply: dict[str, Any]) -> None:
    """Send a short reply at once (a busy server, a refusal: the client answers in its own process), and close."""
    try:
        connection.settimeout(1.0)
        protocol.send(connection, reply)
    except OSError:
        pass
    finally:
        connection.close()


def _acknowledge(connection: socket.socket) -> None:
    """Tell the client its request is taken (it may wait for the reply as long as the search may take)."""
    with contextlib.suppress(OSError):  # the client went away: its worker finds out
        connection.send(protocol.ACKNOWLEDGEMENT)


def _holds_a_line(data: bytes) -> bool:
    """Whether the bytes received on the socket hold a whole request (one line)."""
    return b"\n" in data


class _Received:
    """A request the intake read whole, offered to :func:`protocol.receive` as the connection it came on."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def recv(self, size: int) -> bytes:
        """Return the whole request the first time, then nothing (the connection's end)."""
        data, self._data = self._data, b""
        return data


def _peer_process(connection: socket.socket, address: Any) -> tuple[int, int] | None:
    """Return the (pid, uid) of a Unix socket's peer (``SO_PEERCRED``), or None where that cannot be asked."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", credentials)
    return pid, uid


def _rss_mb() -> float | None:
    """Return this process's resident memory in MB (Linux), or None."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 1e6, 1)


def parse_http_address(text: str) -> tuple[str, int]:
    """Read ``--http [HOST:]PORT`` (a bare port is loopback only); warn when HOST is not a loopback address."""
    import ipaddress

    from aurora.cli import console

    host, colon, port = text.rpartition(":")
    host = host.strip("[]") if colon else "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535 or not host:
        raise UsageError(f"--http {text}: expected PORT or HOST:PORT, e.g. --http 8765 or --http 127.0.0.1:8765")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        console.warn(f"--http {text} is not a loopback address: anyone who can reach it can search this index")
    return host, number


def install_signal_handlers(server: WarmServer) -> None:
    """Stop ``server`` gracefully on SIGTERM and SIGINT."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: server.stop())
