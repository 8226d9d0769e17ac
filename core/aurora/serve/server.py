"""``aurora serve``: a long-running process that keeps one index root warm.

It holds the root's :class:`aurora.api.Project` (opened stores, BM25 index, loaded
embedders, caches), starts loading the default pipeline's model as soon as it starts
(answering lexically until it is ready), and answers requests on a Unix socket that
only its user can open (:mod:`aurora.serve.endpoint`; optionally also over HTTP on
loopback). Requests are handled by a bounded pool of threads; one bad request gets an
error reply and never takes the server down. Every search checks that the index is
still the one it opened (a deleted or rebuilt ``.aurora`` is noticed), and reads one
consistent snapshot of it, so indexing while the server serves never gives a
half-updated answer. Unless told not to (``[server] watch = false``), it watches the
root and re-indexes what changes as it changes (:mod:`aurora.index.watch`), so that a saved
edit is searchable within a second without anyone running ``aurora index``. The server
stops on ``aurora serve --stop``, SIGTERM or Ctrl-C, or after ``idle_timeout`` seconds
without a request. Wire format: :mod:`aurora.serve.protocol`.
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

#: Seconds a client has to send its request once connected.
READ_TIMEOUT_S = 10.0
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

    # --- lifecycle -------------------------------------------------------------

    def run(self, announce: bool = True) -> None:
        """Serve until stopped; raise ServerRunningError if a server for this root runs already."""
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="aurora-serve")
        listener: socket.socket | None = None
        try:
            listener = self._listen()
            if self.http_address is not None:
                self._start_http(pool)
            self._write_info()
            self._preload()
            if self.watch:
                self._start_watcher()
            if announce:
                where = f"{self.endpoint.socket}" + (f" and http://{self._http_text()}" if self._http else "")
                print(f"aurora: serving {self.root} on {where} (pid {os.getpid()})", file=sys.stderr, flush=True)
            self._accept(listener, pool)
        finally:
            if listener is not None:
                listener.close()
            if self._http is not None:
                self._http.shutdown()
                self._http.server_close()
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
        listener.settimeout(0.2)
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

    def _accept(self, listener: socket.socket, pool: ThreadPoolExecutor) -> None:
        while not self._stop.is_set():
            if self.idle_timeout and time.monotonic() - self._last_request > self.idle_timeout:
                print(f"aurora: no request for {self.idle_timeout:g} s; stopping", file=sys.stderr, flush=True)
                return
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:  # out of file descriptors, say: clients wait in the backlog meanwhile
                if self._stop.is_set():
                    return
                print(f"aurora: warning: cannot accept a connection: {exc}", file=sys.stderr, flush=True)
                time.sleep(0.1)
                continue
            self._dispatch(pool, lambda c=connection: self._serve_connection(c), lambda c=connection: _reply_busy(c))

    @property
    def in_flight(self) -> int:
        """Requests accepted and not answered yet, running or waiting for a worker; at ``capacity``, "busy"."""
        with self._stats_lock:
            return self._in_flight

    def _dispatch(self, pool: ThreadPoolExecutor, serve: Callable[[], None], busy: Callable[[], None]) -> None:
        """Run ``serve()`` on the pool, or ``busy()`` at once when too many requests wait already."""
        with self._stats_lock:
            admitted = self._in_flight < self.capacity
            if admitted:
                self._in_flight += 1
        if not admitted:
            busy()
            return
        try:
            pool.submit(self._in_slot, serve, busy)
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

    def _serve_connection(self, connection: socket.socket) -> None:
        """Read one request, answer it, close; errors become replies, never exceptions."""
        try:
            connection.settimeout(READ_TIMEOUT_S)
            if not _same_user(connection):
                protocol.send(connection, protocol.error_reply("refused: the request comes from another user"))
                return
            try:
                request = protocol.receive(connection, protocol.MAX_REQUEST_BYTES)
            except protocol.ProtocolError as exc:
                self._count(error=True)
                protocol.send(connection, protocol.error_reply(f"malformed request: {exc}"))
                return
            except (ConnectionError, TimeoutError):
                return
            reply = self.handle(request)
            connection.settimeout(WRITE_TIMEOUT_S)
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
        query, options, output, cwd = _search_arguments(request, self.root)
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

    def _start_http(self, pool: ThreadPoolExecutor) -> None:
        from aurora.serve.http import make_http_server

        assert self.http_address is not None
        host, port = self.http_address
        try:
            self._http = make_http_server(
                self, self.http_address, lambda serve, busy: self._dispatch(pool, serve, busy), READ_TIMEOUT_S
            )
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        threading.Thread(target=self._http.serve_forever, name="aurora-http", daemon=True).start()

    def _http_text(self) -> str:
        host, port = self._http.server_address[:2]
        return f"{host}:{port}"


def _reply_busy(connection: socket.socket) -> None:
    """Tell a client the server is busy (it answers in its own process), and close."""
    try:
        connection.settimeout(1.0)
        protocol.send(connection, protocol.error_reply("the server is busy", in_process=True))
    except OSError:
        pass
    finally:
        connection.close()


def _search_arguments(request: dict[str, Any], root: Path) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """Check a search request's fields; return (query, options, output, cwd)."""
    query, options = request.get("query"), request.get("options") or {}
    output, cwd = request.get("output") or {}, request.get("cwd") or str(root)

    if not isinstance(query, str):
        raise UsageError("malformed request: query must be a string")
    if not isinstance(options, dict) or not isinstance(output, dict) or not isinstance(cwd, str):
        raise UsageError("malformed request: options and output must be objects, cwd a string")
    for key, value in options.items():
        wanted = protocol.OPTION_TYPES.get(key)
        if wanted is None:
            raise UsageError(f"malformed request: unknown option {key!r}")
        if value is not None and (not isinstance(value, wanted) or (wanted is int and isinstance(value, bool))):
            raise UsageError(f"malformed request: option {key!r} has the wrong type")
    return query, options, output, cwd


def _same_user(connection: socket.socket) -> bool:
    """Return whether the peer of a Unix socket runs as this user (always true where that cannot be asked)."""
    if connection.family != socket.AF_UNIX or not hasattr(socket, "SO_PEERCRED"):
        return True
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", credentials)
    return uid == os.getuid()


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
