"""The client path of ``aurora search``: ask the root's warm server, print its answer.

:func:`search_through_server` runs before the typer app is even imported. It reads the
search's arguments with a small parser that knows every option of ``aurora search``
(``tests/test_client.py`` checks it against the typer command), finds the index root,
and, when a server listens for that root, sends it the search and prints the reply:
the same text or JSON the in-process search prints (the server renders it with the
same code), plus ``answered_by: "server"``. It returns None, for the full CLI to
answer in-process, whenever anything is unusual: an argument it does not know or
cannot read (typer then reports it), no server, a stale socket (cleaned up), a socket
it must not trust, a server that dies or stalls mid-request, or a busy one.

Standard library only (json, os, zlib; socket and select once a server's socket exists): no typer,
pluggy or numpy.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any

from aurora.cli import console
from aurora.common.layout import find_index_root
from aurora.errors import AuroraError
from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint, EndpointError

if TYPE_CHECKING:
    import socket

#: Seconds to connect to a server's socket.
CONNECT_TIMEOUT_S = 2.0
#: Seconds a reply may take beyond the search's own wait for its model.
REPLY_MARGIN_S = 30.0
#: How long the reply may take without ``--wait-timeout``: the longest wait the server may apply
#: (``search.wait_timeout`` is read by the server, not here), plus REPLY_MARGIN_S.
DEFAULT_WAIT_S = MAX_WAIT_S = 3600.0
#: A spinner appears when a reply takes longer than this on a terminal.
SPINNER_AFTER_S = 0.3

_VALUED = {
    "-n": "limit",
    "--limit": "limit",
    "-m": "mode",
    "--mode": "mode",
    "-p": "pipeline",
    "--pipeline": "pipeline",
    "-b": "backend",
    "--backend": "backend",
    "-C": "root",
    "--root": "root",
    "--color": "color",
    "--wait-timeout": "wait_timeout",
}
_FLAGS = {
    "--json": ("json", True),
    "-l": ("files", True),
    "--files": ("files", True),
    "--wait": ("wait", True),
    "--no-wait": ("wait", False),
    "--explain": ("explain", True),
    "--no-server": ("no_server", True),
}
_CHOICES = {"mode": ("auto", "lexical", "semantic", "hybrid"), "color": ("auto", "always", "never")}
#: Every option the parser knows (typer's ``aurora search`` must offer exactly these).
OPTIONS = frozenset(_VALUED) | frozenset(_FLAGS)


def parse_search(argv: list[str]) -> dict[str, Any] | None:
    """Read ``aurora search`` arguments (after ``search``); None when they are not plainly valid.

    None leaves the command to typer, which then gives its usual help or error.
    """
    args: dict[str, Any] = {"color": "auto"}
    positional: list[str] = []
    items = iter(argv)
    for item in items:
        if item == "--":
            positional += list(items)
            break
        name, equals, value = item.partition("=") if item.startswith("--") else (item, "", "")
        if name in _FLAGS and not equals:
            key, flag = _FLAGS[name]
            args[key] = flag
        elif name in _VALUED:
            if not equals:
                value = next(items, None)  # type: ignore[assignment]
                if value is None:
                    return None
            args[_VALUED[name]] = value
        elif item.startswith("-") and item != "-":
            return None  # -h, an unknown option, -n5, combined short flags: typer knows
        else:
            positional.append(item)
    if len(positional) != 1 or not _convert(args):
        return None
    args["query"] = positional[0]
    return args


def _convert(args: dict[str, Any]) -> bool:
    """Turn option values into their types in place; return whether all of them are valid."""
    try:
        if "limit" in args:
            args["limit"] = int(args["limit"])
            if args["limit"] < 1:
                return False
        if "wait_timeout" in args:
            args["wait_timeout"] = float(args["wait_timeout"])
    except ValueError:
        return False
    return all(args.get(key, choices[0]) in choices for key, choices in _CHOICES.items())


def search_through_server(argv: list[str]) -> int | None:
    """Answer ``aurora search ARGV`` through the root's server; return the exit code, or None to answer in-process."""
    args = parse_search(argv)
    if args is None or args.get("no_server"):
        return None
    start = os.path.abspath(os.path.expanduser(args.get("root") or "."))
    timeout = args.get("wait_timeout", DEFAULT_WAIT_S)
    if not os.path.isdir(start) or not 0 < timeout <= MAX_WAIT_S:
        return None  # the in-process path reports the folder or the timeout
    root = find_index_root(start)
    if root is None:
        return None  # the in-process path says there is no index, and what to do
    endpoint = Endpoint(root)
    if not os.path.lexists(endpoint.socket):
        return None  # no server has run here: nothing more to look at (nor to import)
    request = {
        "v": protocol.VERSION,
        "op": "search",
        "root": root,
        "cwd": os.getcwd(),
        "query": args["query"],
        "options": {key: args[key] for key in protocol.SEARCH_OPTIONS if key in args},
        "output": {
            "format": "json" if args.get("json") else "text",
            "color": console.use_color(args["color"], sys.stdout),
        },
    }
    reply = ask(endpoint, request, timeout + REPLY_MARGIN_S)
    if reply is None:
        return None
    if not reply["ok"]:
        console.error(str(reply["error"].get("message")), reply["error"].get("hint"))
        return int(reply["error"].get("exit_code", 2))
    return print_answer(reply["response"], reply.get("text"), bool(args.get("json")))


def ask(endpoint: Endpoint, request: dict[str, Any], timeout: float, quiet: bool = False) -> dict[str, Any] | None:
    """Send ``request`` to the root's server if one can be trusted and reached; return its reply, or None.

    None (with a warning, unless ``quiet``, where something is wrong) means: answer in-process.
    That includes a reply saying the same request may succeed in-process (a busy server).
    """
    warn = (lambda message: None) if quiet else console.warn
    try:
        endpoint.check_folder(create=False)
    except EndpointError as exc:
        if os.path.lexists(endpoint.folder):
            warn(f"not using the server socket folder: {exc}; answered in-process")
        return None
    if not os.path.lexists(endpoint.socket):
        return None
    if not endpoint.socket_is_ours():
        warn(f"not using {endpoint.socket}: it is not a socket of yours; answered in-process")
        return None
    reply = exchange(endpoint, request, timeout, quiet)
    if reply is not None and not reply.get("ok"):
        problem = reply.get("error")
        if not isinstance(problem, dict) or problem.get("in_process"):
            warn(f"{problem.get('message') if isinstance(problem, dict) else 'a malformed reply'}; answered in-process")
            return None
    return reply


def print_answer(document: dict[str, Any], text: str | None, as_json: bool) -> int:
    """Print a search's answer (JSON, or its warnings and ``text``); return the exit code (1: no results).

    Both paths print through here: the in-process search and the server's reply.
    """
    if as_json:
        console.print_json(document)
    else:
        for warning in document["warnings"]:
            console.warn(warning)
        sys.stdout.write(text or "")
        if not document["results"]:
            print(f"no results for {document['query']!r}", file=sys.stderr)
    return 0 if document["results"] else 1


def exchange(endpoint: Endpoint, request: dict[str, Any], timeout: float, quiet: bool = False) -> dict[str, Any] | None:
    """Send ``request`` to the server; return its reply, or None (with a warning unless ``quiet``) when it cannot."""
    import socket

    warn = (lambda message: None) if quiet else console.warn
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(CONNECT_TIMEOUT_S)
        try:
            connection.connect(endpoint.socket)
        except ConnectionRefusedError:
            if endpoint.remove_if_stale():
                warn(f"removed the stale socket of a server that is gone ({endpoint.socket}); answered in-process")
            return None
        except OSError as exc:
            warn(f"cannot reach the server at {endpoint.socket}: {exc.strerror or exc}; answered in-process")
            return None
        try:
            protocol.send(connection, request)
            _wait_readable(connection, timeout, spinner=not quiet)
            connection.settimeout(timeout)
            return protocol.receive(connection, protocol.MAX_REPLY_BYTES)
        except TimeoutError:
            warn(f"the server did not answer within {timeout:g} s; answered in-process")
        except (ConnectionError, protocol.ProtocolError, OSError):
            warn("the server stopped before answering; answered in-process")
        return None
    finally:
        connection.close()


def _wait_readable(connection: socket.socket, timeout: float, spinner: bool) -> None:
    """Wait until the reply starts (a spinner on a terminal once it takes a while); TimeoutError after ``timeout``."""
    import select

    started = time.monotonic()
    frames, shown = "|/-\\", False
    interactive = spinner and sys.stderr.isatty()
    try:
        while True:
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                raise TimeoutError
            readable, _, _ = select.select([connection], [], [], 0.1)
            if readable:
                return
            if interactive and elapsed > SPINNER_AFTER_S:
                frame = frames[int(elapsed * 10) % len(frames)]
                sys.stderr.write(f"\r{frame} waiting for the server (the model may be loading)")
                sys.stderr.flush()
                shown = True
    finally:
        if shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def server_status(endpoint: Endpoint) -> dict[str, Any] | None:
    """Return the running server's status (``aurora serve --status``), or None when none runs.

    Raise ServerUnreachableError when one runs but does not answer (busy, or stuck).
    """
    if not endpoint.server_running():
        endpoint.remove_if_stale()
        return None
    reply = ask(endpoint, {"v": protocol.VERSION, "op": "status"}, timeout=10.0, quiet=True)
    if reply is None or not reply.get("ok"):
        raise ServerUnreachableError(endpoint)
    return reply["status"]


def stop_server(endpoint: Endpoint, patience_s: float = 30.0) -> bool:
    """Ask the running server to stop and wait until it has; return whether one was running.

    A server that does not take the request (busy, or stuck) is sent SIGTERM (the pid in
    its info file); ServerUnreachableError if it is still running after ``patience_s``.
    """
    if not endpoint.server_running():
        endpoint.remove_if_stale()
        return False
    reply = ask(endpoint, {"v": protocol.VERSION, "op": "stop"}, timeout=10.0, quiet=True)
    if reply is None or not reply.get("ok"):
        import signal

        pid = endpoint.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + patience_s
    while endpoint.server_running():
        if time.monotonic() > deadline:
            raise ServerUnreachableError(endpoint)
        time.sleep(0.05)
    return True


class ServerUnreachableError(AuroraError):
    """A server runs for the root but does not answer."""

    def __init__(self, endpoint: Endpoint) -> None:
        pid = endpoint.pid()
        super().__init__(
            f"the server of {endpoint.root}{f' (pid {pid})' if pid else ''} runs but does not answer",
            hint="it may be busy; try again, or stop it with `kill`",
        )
