"""The warm server's intake: read requests off every connection in one thread, so only whole requests take a worker.

Each front end (the Unix socket, HTTP) is a :class:`Front`: a listening socket and what to do
with its connections. :class:`Intake` accepts them and reads each request with a selector as
its bytes arrive, so a connection that sends nothing, or a byte now and then, costs a file
descriptor and never a worker. Three bounds keep such connections from crowding out the
others: one deadline for the whole request (trickling bytes gains nothing), a cap on the
connections one peer may have open while they send (a peer that opens one more loses its
oldest), and a cap on all of them (the oldest goes). Once a request is whole, its front end
answers it (``deliver``), on the worker pool.
"""

from __future__ import annotations

import selectors
import socket
import sys
import time
import traceback
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

#: Seconds between two checks of ``until`` when nothing happens.
TICK_S = 0.2


@dataclass(frozen=True)
class Front:
    """One listening socket and how its requests are read and answered."""

    listener: socket.socket
    #: Whether the bytes received so far hold a whole request.
    complete: Callable[[bytes], bool]
    #: Who a new connection comes from (connections of one peer share a cap); may raise OSError.
    peer: Callable[[socket.socket, Any], Hashable]
    #: Answer a whole request (or its first ``max_bytes`` bytes, when it is larger): the front end owns the
    #: connection from then on (blocking, no timeout) and must close it.
    deliver: Callable[[socket.socket, bytes, Hashable], None]
    #: The most bytes read before the request is delivered, whole or not (the front end then refuses it).
    max_bytes: int


@dataclass
class _Pending:
    """A connection whose request is still arriving."""

    front: Front
    peer: Hashable
    deadline: float
    received: bytearray = field(default_factory=bytearray)


class Intake:
    """Accepts the connections of some fronts and reads their requests until each is whole, then delivers it."""

    def __init__(self, fronts: list[Front], deadline_s: float, per_peer: int, most: int) -> None:
        self.deadline_s, self.per_peer, self.most = deadline_s, per_peer, most
        self._selector = selectors.DefaultSelector()
        self._pending: dict[socket.socket, _Pending] = {}  # in the order they were accepted: the oldest first
        for front in fronts:
            front.listener.setblocking(False)
            self._selector.register(front.listener, selectors.EVENT_READ, front)

    def run(self, until: Callable[[], bool]) -> None:
        """Accept and read until ``until()`` is true (asked at least every :data:`TICK_S` seconds)."""
        while not until():
            soonest = min((pending.deadline for pending in self._pending.values()), default=float("inf"))
            events = self._selector.select(max(0.0, min(TICK_S, soonest - time.monotonic())))
            # Read what arrived before accepting more: a peer at its cap loses only connections still silent.
            for key, _ in sorted(events, key=lambda event: isinstance(event[0].data, Front)):
                if isinstance(key.data, Front):
                    self._accept(key.data)
                else:
                    self._read(key.fileobj, key.data)  # type: ignore[arg-type]
            now = time.monotonic()
            for connection in [c for c, pending in self._pending.items() if pending.deadline <= now]:
                self._drop(connection)

    def close(self) -> None:
        """Close the connections still sending their request, and stop watching the listeners."""
        for connection in list(self._pending):
            self._drop(connection)
        self._selector.close()

    def _accept(self, front: Front) -> None:
        try:
            connection, address = front.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # out of file descriptors, say: free one, and clients wait in the backlog meanwhile
            print(f"aurora: warning: cannot accept a connection: {exc}", file=sys.stderr, flush=True)
            if self._pending:
                self._drop(next(iter(self._pending)))
            else:
                time.sleep(TICK_S)
            return
        try:
            peer = front.peer(connection, address)
        except OSError:
            connection.close()
            return
        same_peer = [c for c, pending in self._pending.items() if pending.peer == peer]
        if len(same_peer) >= self.per_peer:
            self._drop(same_peer[0])
        if len(self._pending) >= self.most:
            self._drop(next(iter(self._pending)))
        connection.setblocking(False)
        self._pending[connection] = _Pending(front, peer, time.monotonic() + self.deadline_s)
        self._selector.register(connection, selectors.EVENT_READ, self._pending[connection])

    def _read(self, connection: socket.socket, pending: _Pending) -> None:
        try:
            chunk = connection.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # closed (or reset) before the request was whole: nobody to answer
            self._drop(connection)
            return
        pending.received += chunk
        front = pending.front
        if len(pending.received) < front.max_bytes and not front.complete(pending.received):
            return
        self._forget(connection)
        try:
            connection.setblocking(True)
            front.deliver(connection, bytes(pending.received), pending.peer)
        except Exception:  # noqa: BLE001 - a bug in one front end must not stop the intake
            traceback.print_exc()
            connection.close()

    def _forget(self, connection: socket.socket) -> None:
        self._selector.unregister(connection)
        del self._pending[connection]

    def _drop(self, connection: socket.socket) -> None:
        """Close a connection whose request did not arrive in time (or that made room for another)."""
        self._forget(connection)
        connection.close()
