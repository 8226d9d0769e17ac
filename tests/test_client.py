"""The client path: its argument reader agrees with typer's, it reads a reply sent before its request, and it
waits for a server that took its request, never for one that did not."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import typer.main

from aurora.cli.app import app
from aurora.serve import client, protocol
from aurora.serve.client import OPTIONS, exchange, parse_search
from aurora.serve.endpoint import Endpoint


def typer_search_options() -> set[str]:
    command = typer.main.get_command(app).commands["search"]  # type: ignore[attr-defined]
    names = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    return {name for name in names if name.startswith("-")} - {"-h", "--help"}


def test_the_reader_knows_every_option_of_aurora_search_and_no_other() -> None:
    assert OPTIONS == typer_search_options()


#: What the reader returns for the client's own options when they are not given.
OWN_DEFAULTS = {"json": False, "vimgrep": False, "root": None, "color": "auto", "no_server": False}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["parse config"], {"query": "parse config"}),
        (
            ["-n", "5", "--mode=hybrid", "x", "--json", "-b", "fastembed", "--no-wait", "--wait-timeout", "2.5"],
            {
                "query": "x",
                "limit": 5,
                "mode": "hybrid",
                "json": True,
                "backend": "fastembed",
                "wait": False,
                "wait_timeout": 2.5,
            },
        ),
        (["--", "-starts-with-a-dash"], {"query": "-starts-with-a-dash"}),
        (
            ["-l", "--explain", "--root", "/srv", "--color", "never", "q"],
            {"query": "q", "files": True, "explain": True, "root": "/srv", "color": "never"},
        ),
        (
            ["q", "--wait", "--no-server", "-p", "docs"],
            {"query": "q", "wait": True, "no_server": True, "pipeline": "docs"},
        ),
    ],
)
def test_plain_arguments_are_read(argv: list[str], expected: dict) -> None:
    assert parse_search(argv) == {**OWN_DEFAULTS, **expected}


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no query
        ["a", "b"],  # two queries
        ["-h"],
        ["--help"],
        ["x", "--limit", "0"],
        ["x", "-n", "ten"],
        ["x", "-n5"],
        ["x", "--mode", "fuzzy"],
        ["x", "--color", "sometimes"],
        ["x", "--wait-timeout", "soon"],
        ["x", "--wait-timeout", "0"],  # outside its limits: the in-process search says so
        ["x", "--wait-timeout", "nan"],
        ["x", "--frobnicate"],
        ["x", "--json=yes"],
        ["x", "--limit"],  # a value is missing
    ],
)
def test_anything_unusual_is_left_to_typer(argv: list[str]) -> None:
    assert parse_search(argv) is None


def test_a_reply_sent_before_the_request_could_be_sent_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy server replies without reading the request and closes; the client's send then fails, its read does not."""
    endpoint = Endpoint(str(tmp_path))
    endpoint.check_folder(create=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(endpoint.socket)
    listener.listen(1)
    busy = protocol.error_reply("the server is busy", in_process=True)
    send, closed, failures = protocol.send, threading.Event(), []

    def answer_unread() -> None:
        connection, _ = listener.accept()
        send(connection, busy)
        connection.close()
        closed.set()

    def send_once_closed(connection: socket.socket, message: dict) -> None:
        assert closed.wait(60)
        try:
            send(connection, message)
        except OSError as exc:
            failures.append(exc)
            raise

    server = threading.Thread(target=answer_unread)
    server.start()
    monkeypatch.setattr(protocol, "send", send_once_closed)
    try:
        assert exchange(endpoint, {"v": protocol.VERSION, "op": "status"}, timeout=60, quiet=True) == busy
    finally:
        server.join(timeout=60)
        listener.close()
    assert [type(exc) for exc in failures] == [BrokenPipeError]  # the case at hand did happen


def fake_server(endpoint: Endpoint, answer) -> threading.Thread:
    """Listen on ``endpoint``'s socket and run ``answer(connection)`` for one connection, in a thread."""
    endpoint.check_folder(create=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(endpoint.socket)
    listener.listen(1)

    def serve_one() -> None:
        with listener:
            connection, _ = listener.accept()
            with connection:
                answer(connection)

    thread = threading.Thread(target=serve_one)
    thread.start()
    return thread


def test_a_server_that_does_not_take_the_request_is_given_up_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stopped or stuck server: connected, the request sent, no first byte. The client answers in-process."""
    endpoint, given_up = Endpoint(str(tmp_path)), threading.Event()

    def say_nothing(connection: socket.socket) -> None:
        protocol.receive(connection, protocol.MAX_REQUEST_BYTES)
        assert given_up.wait(60)  # silent until the client has given up

    server = fake_server(endpoint, say_nothing)
    try:
        assert exchange(endpoint, {"v": protocol.VERSION, "op": "status"}, timeout=3600) is None
    finally:
        given_up.set()
        server.join(timeout=60)
    assert "did not take the request within 1 s (stopped or stuck?); answered in-process" in capsys.readouterr().err


def test_a_reply_after_the_acknowledgement_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search waiting for its model: acknowledged at once, answered long after the acknowledgement deadline."""
    monkeypatch.setattr(client, "ACKNOWLEDGE_TIMEOUT_S", 0.05)
    endpoint, answer = Endpoint(str(tmp_path)), {"ok": True, "status": {"pid": 1}}

    def acknowledge_then_answer_late(connection: socket.socket) -> None:
        protocol.receive(connection, protocol.MAX_REQUEST_BYTES)
        connection.sendall(protocol.ACKNOWLEDGEMENT)
        time.sleep(20 * client.ACKNOWLEDGE_TIMEOUT_S)  # later than the deadline by construction, however slow
        protocol.send(connection, answer)

    server = fake_server(endpoint, acknowledge_then_answer_late)
    try:
        assert exchange(endpoint, {"v": protocol.VERSION, "op": "status"}, timeout=60, quiet=True) == answer
    finally:
        server.join(timeout=60)
