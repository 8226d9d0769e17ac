"""The client path of ``aurora search``: ask the root's warm server, print its answer.

:func:`search_through_server` runs before the typer app is even imported. It reads the
search's arguments with a small parser built from the option table that typer's
``aurora search`` is built from too (:mod:`aurora.search.options`), finds the index root,
and, when a server listens for that root, sends it the search and prints the reply:
the same text or JSON the in-process search prints (the server renders it with the
same code), plus ``answered_by: "server"``. It returns None, for the full CLI to
answer in-process, whenever anything is unusual: an argument it does not know or
cannot read (typer then reports it), no server, a stale socket (cleaned up), a socket
it must not trust, a server that dies or stalls mid-request, a busy one, or one that does
not take the request within about a second (stopped with SIGSTOP, say, or stuck): a server
acknowledges a request as soon as it has it, so the client can then wait for the answer as
long as the search may take (a model loading for ``--wait``) without ever hanging on a
server that will not answer.

Standard library only (json, os, zlib; socket and select once a server's socket exists): no typer,
pluggy or numpy.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from aurora.cli import console
from aurora.common.layout import find_index_root
from aurora.errors import AuroraError
from aurora.search.options import CLI_OPTIONS, MAX_WAIT_S, SearchOption
from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint, EndpointError

if TYPE_CHECKING:
    import socket

#: Seconds to connect to a server's socket.
CONNECT_TIMEOUT_S = 1.0
#: Seconds the server has to take the request once it is sent (its acknowledgement, the reply's first byte).
ACKNOWLEDGE_TIMEOUT_S = 1.0
#: Seconds a reply may take beyond the search's own wait for its model.
REPLY_MARGIN_S = 30.0
#: A spinner appears when a reply takes longer than this on a terminal.
SPINNER_AFTER_S = 0.3

#: The options of ``aurora search`` that take a value, by flag.
_VALUED = {flag: option for option in CLI_OPTIONS if option.kind is not bool for flag in option.names()}
#: Its yes/no options, by flag: (name, the value the flag sets).
_SWITCHES = {
    flag: (option.name, value)
    for option in CLI_OPTIONS
    if option.kind is bool
    for flag, value in option.switches().items()
}
#: Every option the reader knows (typer's ``aurora search`` offers exactly these).
OPTIONS = frozenset(_VALUED) | frozenset(_SWITCHES)


def parse_search(argv: list[str]) -> dict[str, Any] | None:
    """Read ``aurora search`` arguments (after ``search``); None when they are not plainly valid.

    Return the query, the options given, and the defaults of the options that are the
    client's own (``json``, ``root``, ``color``, ``no_server``); a search option not given
    is left out, for the server to apply its ``[search]`` settings. None leaves the command
    to typer, which then gives its usual help or error, or to the in-process search, which
    reports a value outside its limits.
    """
    args: dict[str, Any] = {option.name: option.default for option in CLI_OPTIONS if not option.request}
    positional: list[str] = []
    items = iter(argv)
    for item in items:
        if item == "--":
            positional += list(items)
            break
        name, equals, value = item.partition("=") if item.startswith("--") else (item, "", "")
        if name in _SWITCHES and not equals:
            key, flag = _SWITCHES[name]
            args[key] = flag
        elif name in _VALUED:
            if not equals:
                value = next(items, None)  # type: ignore[assignment]
                if value is None:
                    return None
            option = _VALUED[name]
            converted = _convert(option, value)
            if converted is None:
                return None
            if option.repeated:
                args.setdefault(option.name, []).append(converted)
            else:
                args[option.name] = converted
        elif item.startswith("-") and item != "-":
            return None  # -h, an unknown option, -n5, combined short flags: typer knows
        else:
            positional.append(item)
    if len(positional) != 1 or (args["json"] and args["vimgrep"]):
        return None
    args["query"] = positional[0]
    return args


def _convert(option: SearchOption, value: str) -> Any:
    """Return ``value`` as the option's type, or None when it is not one of its choices or not within its limits."""
    try:
        typed = option.kind(value) if option.kind in (int, float) else value
    except ValueError:
        return None
    if option.choices and typed not in option.choices:
        return None
    return typed if option.allows(typed) else None


def search_through_server(argv: list[str]) -> int | None:
    """Answer ``aurora search ARGV`` through the root's server; return the exit code, or None to answer in-process."""
    args = parse_search(argv)
    if args is None or args["no_server"]:
        return None
    start = os.path.abspath(os.path.expanduser(args["root"] or "."))
    if not os.path.isdir(start):
        return None  # the in-process path reports the folder
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
        "options": {key: args[key] for key in protocol.OPTION_TYPES if key in args},
        "output": output_request(args, sys.stdout),
    }
    # Without --wait-timeout, the longest wait the server may apply (it reads search.wait_timeout).
    reply = ask(endpoint, request, args.get("wait_timeout", MAX_WAIT_S) + REPLY_MARGIN_S)
    if reply is None:
        return None
    if not reply["ok"]:
        console.error(str(reply["error"].get("message")), reply["error"].get("hint"))
        return int(reply["error"].get("exit_code", 2))
    if not args["json"] and "text" not in reply:
        return None  # a server of an older Aurora that does not write this format: answer in-process
    return print_answer(reply["response"], reply.get("text"), args["json"])


def output_request(args: dict[str, Any], stdout: Any) -> dict[str, Any]:
    """Return how a search's answer is printed (the ``output`` of a server request): format, colour, hyperlinks.

    Hyperlinks only where the output is coloured on a terminal: never in a pipe or a file.
    """
    color = console.use_color(args["color"], stdout)
    return {
        "format": "json" if args["json"] else "vimgrep" if args["vimgrep"] else "text",
        "color": color,
        "links": color and stdout.isatty(),
    }


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
            _send_and_await_acknowledgement(connection, request)
            _wait_readable(connection, timeout, spinner=not quiet)
            connection.settimeout(timeout)
            return protocol.receive(connection, protocol.MAX_REPLY_BYTES)
        except _NotTaken:
            pid = endpoint.pid()
            warn(
                f"the server{f' (pid {pid})' if pid else ''} did not take the request within"
                f" {ACKNOWLEDGE_TIMEOUT_S:g} s (stopped or stuck?); answered in-process"
            )
        except TimeoutError:
            warn(f"the server did not answer within {timeout:g} s; answered in-process")
        except (ConnectionError, protocol.ProtocolError, OSError):
            warn("the server stopped before answering; answered in-process")
        return None
    finally:
        connection.close()


class _NotTaken(Exception):
    """The server did not acknowledge the request in time."""


def _send_and_await_acknowledgement(connection: socket.socket, request: dict[str, Any]) -> None:
    """Send ``request`` and wait for the reply's first byte; consume it when it is the acknowledgement.

    Raise _NotTaken when the request cannot be sent, or its first byte does not come, within
    :data:`ACKNOWLEDGE_TIMEOUT_S`. A busy server replies without reading the request and may have
    closed: its reply, not an acknowledgement, is then the first byte, left for the reader.
    """
    import socket

    connection.settimeout(ACKNOWLEDGE_TIMEOUT_S)
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            protocol.send(connection, request)
        _wait_readable(connection, ACKNOWLEDGE_TIMEOUT_S, spinner=False)
    except TimeoutError:
        raise _NotTaken from None
    if connection.recv(1, socket.MSG_PEEK) == protocol.ACKNOWLEDGEMENT:
        connection.recv(1)


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

    A server that does not take the request (busy, stopped or stuck) is sent SIGTERM (the pid
    in its info file), and SIGCONT for a stopped one to act on it; ServerUnreachableError if it
    is still running after ``patience_s``.
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
            os.kill(pid, signal.SIGCONT)  # a stopped server (SIGSTOP, ^Z) takes the SIGTERM once it runs again
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
