"""Availability: a stopped server, silent and slow clients, and a huge query on a huge line hold up no search."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import write
from test_errors import assert_one_line_error
from test_server import QUERY, in_process, raw_request, search_request, wait_until

import aurora
from aurora.search import engine
from aurora.search.snippets import MAX_FILTER_KEYS, MAX_LINE_CHARS, line_filter
from aurora.serve import server as server_module
from aurora.serve.client import ACKNOWLEDGE_TIMEOUT_S
from aurora.serve.server import WarmServer


def test_a_stopped_server_leaves_searches_answering_in_process(indexed: Path, cli, serve) -> None:
    server = serve(indexed)
    assert cli.json("search", QUERY, cwd=indexed)["answered_by"] == "server"
    server.process.send_signal(signal.SIGSTOP)
    try:
        done = cli("search", QUERY, "--json", cwd=indexed, timeout=60)
        status = cli("serve", "--status", cwd=indexed, timeout=60)
    finally:
        server.process.send_signal(signal.SIGCONT)
    assert done.returncode == 0 and json.loads(done.stdout)["answered_by"] == "process"
    assert done.stderr.splitlines() == [
        f"aurora: warning: the server (pid {server.process.pid}) did not take the request within"
        f" {ACKNOWLEDGE_TIMEOUT_S:g} s (stopped or stuck?); answered in-process"
    ]
    assert_one_line_error(status, "runs but does not answer")
    server.process.send_signal(signal.SIGSTOP)  # --stop then sends SIGTERM, and SIGCONT to act on it
    stopped = cli("serve", "--stop", cwd=indexed, timeout=60)
    assert stopped.returncode == 0 and "stopped the server" in stopped.stdout
    assert server.process.wait(timeout=60) == 0


def silent_and_slow(connect, partial: bytes, count: int = 60) -> list[socket.socket]:
    """Open ``count`` connections that send nothing and ``count`` that send only the start of a request."""
    connections = [connect() for _ in range(2 * count)]
    for connection in connections[count:]:
        connection.sendall(partial)
    return connections


def test_silent_and_slow_clients_hold_up_no_search_on_the_socket(indexed: Path, cli, serve) -> None:
    write(indexed, {"aurora.toml": "[server]\nworkers = 1\n"})
    server = serve(indexed)

    def connect() -> socket.socket:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(server.endpoint.socket)
        return connection

    held = silent_and_slow(connect, b'{"v": 1, "op": "search", "query": "sl')
    try:
        assert cli.json("search", QUERY, cwd=indexed)["answered_by"] == "server"
        assert raw_request(server.endpoint, search_request(indexed, QUERY))["response"]["results"]
    finally:
        for connection in held:
            connection.close()


def test_silent_and_slow_clients_hold_up_no_search_over_http(indexed: Path, serve) -> None:
    write(indexed, {"aurora.toml": "[server]\nworkers = 1\n"})
    server = serve(indexed, "--http", "0")
    address = raw_request(server.endpoint, b'{"v": 1, "op": "status"}\n')["status"]["http"]
    host, port = address.rsplit(":", 1)
    token = Path(server.endpoint.token).read_text().strip()
    held = silent_and_slow(
        lambda: socket.create_connection((host, int(port)), timeout=30), b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    )
    try:  # from the same address as the held connections: the newest request is the one that gets in
        request = urllib.request.Request(
            f"http://{address}/v1",
            data=search_request(indexed, QUERY),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 200 and json.loads(answer.read())["response"]["results"]
    finally:
        for connection in held:
            connection.close()


def closed_by_the_server(connection: socket.socket) -> bool:
    """Return whether the server closed ``connection`` (without a word); False while it is open."""
    connection.setblocking(False)
    try:
        return connection.recv(1) == b""
    except BlockingIOError:
        return False


def test_a_peer_over_its_cap_loses_its_oldest_silent_connections(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "READ_TIMEOUT_S", 3600.0)  # only the cap closes anything here
    monkeypatch.setattr(server_module, "PEER_CONNECTIONS", 4)
    with in_process(WarmServer(indexed.resolve(), idle_timeout=0, workers=1)) as server:
        silent = []
        for _ in range(6):
            silent.append(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
            silent[-1].connect(server.endpoint.socket)
        try:
            wait_until(lambda: all(closed_by_the_server(c) for c in silent[:2]), "closing the two oldest")
            assert not any(closed_by_the_server(c) for c in silent[2:])
            reply = raw_request(server.endpoint, search_request(indexed, QUERY))  # the same peer still gets in
            assert reply["ok"] and closed_by_the_server(silent[2])  # in place of its oldest silent one
        finally:
            for connection in silent:
                connection.close()


def trickle_until_closed(connection: socket.socket, bound_s: float = 60) -> bytes:
    """Send a byte now and then until the server closes ``connection``; return what it sent (b"": nothing)."""
    deadline = time.monotonic() + bound_s
    connection.settimeout(0.05)
    while True:
        assert time.monotonic() < deadline, f"the connection was still open after {bound_s:g} s"
        try:
            connection.sendall(b"x")
            return connection.recv(1)
        except TimeoutError:
            continue  # each read is quick; the whole request never comes
        except (BrokenPipeError, ConnectionResetError):
            return b""


def test_a_request_must_arrive_whole_before_its_deadline(indexed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "READ_TIMEOUT_S", 1.0)
    with in_process(WarmServer(indexed.resolve(), idle_timeout=0, workers=1)) as server:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as slow:
            slow.connect(server.endpoint.socket)
            assert trickle_until_closed(slow) == b""  # closed without a word once its deadline passed
        assert raw_request(server.endpoint, search_request(indexed, QUERY))["ok"]


def test_a_16k_query_against_a_466_kb_line_answers_with_a_bounded_snippet(project: Path, cli) -> None:
    words = [f"w{n:x}q" for n in range(20_000)]
    write(project, {"data.js": 'var data = "' + " ".join(words[n % 7919] for n in range(70_000))[:466_000] + '";\n'})
    cli.json("index", cwd=project)
    query = " ".join(words[n * 7 % 20_000] for n in range(2_700))[:16_000]
    assert len(line_filter(query, set(query.split())).pattern.split("|")) == MAX_FILTER_KEYS
    response = aurora.open(project).search(query, limit=3, record=False)
    (best,) = [result for result in response.results if result.chunk.path == "data.js"]
    assert best.snippet and all(len(line.text) <= MAX_LINE_CHARS for line in best.snippet)
    for line in best.snippet:
        assert all(0 <= a < b <= len(line.text) for a, b in line.spans)


def test_a_search_for_thousands_matches_snippet_lines_for_the_first_results_only(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = aurora.open(indexed)
    everything = project.search("def return self", limit=3, record=False).results
    assert len(everything) > 2 and all(result.snippet for result in everything)
    monkeypatch.setattr(engine, "MATCHED_SNIPPETS", 2)
    project.close()
    bounded = project.search("def return self", limit=3, record=False).results
    assert [result.snippet for result in bounded[:2]] == [result.snippet for result in everything[:2]]
    assert any(line.spans for result in everything[2:] for line in result.snippet)  # matched when not bounded
    for plain in bounded[2:]:  # bounded: the chunk's first lines, nothing highlighted
        assert plain.snippet[0].number == plain.chunk.line_start and all(line.spans == () for line in plain.snippet)
