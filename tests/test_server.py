"""`aurora serve` and the client path of `aurora search`: real server processes, real sockets, real CLI runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import AURORA, paths, write
from test_errors import assert_one_line_error

from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint
from aurora.serve.server import WarmServer

QUERY = "refresh auth tokens"


def raw_request(endpoint: Endpoint, payload: bytes, timeout: float = 30) -> dict:
    """Send ``payload`` as it is on the server's socket and return the parsed reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(endpoint.socket)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a busy server replies unread and closes
            connection.sendall(payload)
        return protocol.receive(connection, protocol.MAX_REPLY_BYTES)


def wait_until(condition: Callable[[], bool], what: str, bound_s: float = 60) -> None:
    """Return once ``condition()`` holds; fail after ``bound_s`` seconds (a generous bound, not a timing)."""
    deadline = time.monotonic() + bound_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {bound_s:g} s"
        time.sleep(0.01)


def search_request(root: Path, query: str, **options) -> bytes:
    message = {"v": 1, "op": "search", "root": str(root.resolve()), "query": query, "options": options}
    return json.dumps(message).encode() + b"\n"


def without(document: dict, *keys: str) -> dict:
    return {key: value for key, value in document.items() if key not in keys}


def test_the_server_answers_like_the_process_does(indexed: Path, cli, serve) -> None:
    write(indexed, {"aurora.toml": "[activation]\nrecord_top = 0\n"})  # every search ranks alike
    in_process = cli.json("search", QUERY, "--explain", cwd=indexed)
    text_in_process = cli("search", QUERY, "--no-server", cwd=indexed / "src")
    serve(indexed)
    served = cli.json("search", QUERY, "--explain", cwd=indexed)
    assert in_process["answered_by"] == "process" and served["answered_by"] == "server"
    assert without(served, "answered_by", "elapsed_ms") == without(in_process, "answered_by", "elapsed_ms")
    text_served = cli("search", QUERY, cwd=indexed / "src")  # paths relative to the current folder, as in-process
    assert (text_served.stdout, text_served.stderr, text_served.returncode) == (
        text_in_process.stdout,
        text_in_process.stderr,
        0,
    )
    assert cli.json("search", QUERY, "--no-server", cwd=indexed)["answered_by"] == "process"


def test_no_results_and_errors_read_the_same_through_the_server(indexed: Path, cli, serve) -> None:
    before = [cli("search", *args, cwd=indexed) for args in (["zzzqqqxxx"], ["x", "--pipeline", "nope"])]
    serve(indexed)
    after = [cli("search", *args, cwd=indexed) for args in (["zzzqqqxxx"], ["x", "--pipeline", "nope"])]
    for old, new in zip(before, after, strict=True):
        assert (new.returncode, new.stdout, new.stderr) == (old.returncode, old.stdout, old.stderr)
    assert after[0].returncode == 1 and after[1].returncode == 2


CLIENT_IMPORTS = """
import runpy, sys
sys.argv = ["aurora", "search", sys.argv[1], "--json"]
try:
    runpy.run_module("aurora", run_name="__main__")
except SystemExit:
    pass
heavy = {"typer", "click", "pluggy", "numpy", "bm25s", "aurora.cli.app", "aurora.api", "aurora.search.engine",
         "sqlite3"}
print(sorted(heavy & set(sys.modules)), file=sys.stderr)
"""


def test_the_client_path_imports_neither_typer_nor_pluggy_nor_numpy(indexed: Path, serve) -> None:
    serve(indexed)
    done = subprocess.run([sys.executable, "-c", CLIENT_IMPORTS, QUERY], cwd=indexed, capture_output=True, text=True)
    assert json.loads(done.stdout)["answered_by"] == "server"
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_socket_and_its_folder_are_private(indexed: Path, serve) -> None:
    server = serve(indexed)
    assert stat.S_IMODE(os.stat(server.endpoint.socket).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(server.endpoint.folder).st_mode) == 0o700


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_reach_the_socket(indexed: Path, serve) -> None:
    server = serve(indexed)
    probe = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    print('refused')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, server.endpoint.socket], capture_output=True, text=True)
    assert done.stdout.strip() == "refused", done.stderr


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand the folder to another user")
def test_a_socket_folder_of_another_user_is_not_used(indexed: Path, cli, serve) -> None:
    server = serve(indexed)
    os.chown(server.endpoint.folder, 65534, 65534)
    try:
        done = cli("search", QUERY, "--json", cwd=indexed)
    finally:
        os.chown(server.endpoint.folder, 0, 0)
    assert done.returncode == 0 and json.loads(done.stdout)["answered_by"] == "process"
    assert "belongs to another user" in done.stderr and "answered in-process" in done.stderr


def test_a_folder_open_to_others_is_not_used(indexed: Path, cli, serve) -> None:
    server = serve(indexed)
    os.chmod(server.endpoint.folder, 0o755)
    done = cli("search", QUERY, "--json", cwd=indexed)
    assert json.loads(done.stdout)["answered_by"] == "process" and "is open to other users" in done.stderr


def test_no_server_answers_in_process_silently(indexed: Path, cli) -> None:
    done = cli("search", QUERY, "--json", cwd=indexed)
    assert done.returncode == 0 and done.stderr == "" and json.loads(done.stdout)["answered_by"] == "process"


def test_a_stale_socket_is_removed_and_the_search_answers_in_process(indexed: Path, cli, serve) -> None:
    server = serve(indexed)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    assert os.path.exists(server.endpoint.socket)  # kill -9 leaves it behind
    done = cli("search", QUERY, "--json", cwd=indexed)
    assert done.returncode == 0 and json.loads(done.stdout)["answered_by"] == "process"
    assert "removed the stale socket of a server that is gone" in done.stderr
    assert not os.path.exists(server.endpoint.socket)
    again = cli("search", QUERY, "--json", cwd=indexed)
    assert again.stderr == ""  # nothing left to clean up


def test_a_server_killed_mid_request_leaves_the_client_answering_in_process(semantic_project: Path, cli, serve) -> None:
    cli.json("index", "--backend", "fastembed", cwd=semantic_project)
    write(semantic_project, {"aurora.toml": '[pipelines.default]\nembedder = "none"\n'})
    server = serve(semantic_project)  # the default pipeline is lexical, whatever the index has: nothing preloaded
    client = subprocess.Popen(
        [AURORA, "search", "load text from a location", "-b", "fastembed", "--wait", "--json"],
        cwd=semantic_project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:  # until the server is inside the request (waiting for the model it started loading)
        status = raw_request(server.endpoint, b'{"v": 1, "op": "status"}\n')["status"]
        if any(model["state"] == "loading" for model in status["models"]):
            break
        assert time.monotonic() < deadline and client.poll() is None
        time.sleep(0.002)
    server.process.send_signal(signal.SIGKILL)
    out, err = client.communicate(timeout=120)
    assert client.returncode == 0, err
    assert "the server stopped before answering; answered in-process" in err
    document = json.loads(out)
    assert document["answered_by"] == "process" and document["mode"] == "hybrid"


def test_malformed_json_gets_an_error_reply_and_the_server_keeps_serving(indexed: Path, serve) -> None:
    server = serve(indexed)
    for payload, message in [
        (b"{not json\n", "malformed request: not JSON"),
        (b"[1, 2]\n", "malformed request: not a JSON object"),
        (b'{"v": 1, "op": "launch"}\n', "unknown request 'launch'"),
        (b'{"v": 7, "op": "search"}\n', "protocol version 7 is not 1"),
        (b'{"v": 1, "op": "search", "query": 5}\n', "query must be a string"),
        (b'{"v": 1, "op": "search", "query": "x", "options": {"limit": "ten"}}\n', "option 'limit' has the wrong type"),
        (b'{"v": 1, "op": "search", "query": "x", "options": {"shell": "rm"}}\n', "unknown option 'shell'"),
    ]:
        reply = raw_request(server.endpoint, payload)
        assert reply["ok"] is False and message in reply["error"]["message"], reply
    reply = raw_request(server.endpoint, search_request(indexed, QUERY))
    assert reply["ok"] and reply["response"]["results"]


def test_a_1_mb_query_and_an_oversized_request_get_clear_error_replies(indexed: Path, serve) -> None:
    server = serve(indexed)
    reply = raw_request(server.endpoint, search_request(indexed, "token " * 175_000))
    assert (
        reply["ok"] is False
        and "the query is too long (1,050,000 characters; at most 16,384)" in reply["error"]["message"]
    )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(server.endpoint.socket)
        try:
            connection.sendall(b"x" * (protocol.MAX_REQUEST_BYTES + 100_000))
        except BrokenPipeError:  # the server answered and closed early
            pass
        reply = protocol.receive(connection, protocol.MAX_REPLY_BYTES)
    assert "malformed request: message larger than" in reply["error"]["message"]
    assert raw_request(server.endpoint, search_request(indexed, QUERY))["ok"]


def test_an_index_deleted_while_the_server_holds_it(indexed: Path, cli, serve) -> None:
    import shutil

    server = serve(indexed)
    assert cli.json("search", QUERY, cwd=indexed)["answered_by"] == "server"
    shutil.rmtree(indexed / ".aurora")
    reply = raw_request(server.endpoint, search_request(indexed, QUERY))
    assert reply["ok"] is False and "is gone (deleted while the server held it)" in reply["error"]["message"]
    assert_one_line_error(cli("search", QUERY, cwd=indexed), "no index at or above")
    cli.json("index", cwd=indexed)
    document = cli.json("search", QUERY, cwd=indexed)
    assert document["answered_by"] == "server" and paths(document)[0] == "src/auth/tokens.py"


def test_a_second_server_for_the_same_root_exits_with_a_clear_message(indexed: Path, cli, serve) -> None:
    first = serve(indexed)
    second = cli("serve", cwd=indexed, timeout=30)
    assert_one_line_error(second, f"a server for {indexed.resolve()} is already running (pid {first.process.pid})")
    assert first.process.poll() is None


def test_status_and_stop(indexed: Path, cli, serve) -> None:
    assert cli("serve", "--status", cwd=indexed).stdout.startswith("no server runs for")
    server = serve(indexed)
    cli.json("search", QUERY, cwd=indexed)
    status = cli.json("serve", "--status", cwd=indexed)
    assert status["pid"] == server.process.pid and status["requests"] >= 1 and status["errors"] == 0
    assert status["socket"] == server.endpoint.socket and status["rss_mb"] > 0
    assert "requests" in cli("serve", "--status", cwd=indexed).stdout
    stopped = cli("serve", "--stop", cwd=indexed)
    assert stopped.returncode == 0 and "stopped the server" in stopped.stdout
    assert server.process.wait(timeout=30) == 0
    assert not os.path.exists(server.endpoint.socket) and not os.path.exists(server.endpoint.info)
    assert cli("serve", "--stop", cwd=indexed).stdout.startswith("no server runs for")


def test_idle_shutdown(indexed: Path, serve) -> None:
    server = serve(indexed, "--idle-timeout", "1")
    assert server.process.wait(timeout=60) == 0
    assert "no request for 1 s; stopping" in server.output()
    assert not os.path.exists(server.endpoint.socket)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--idle-timeout", "-1"], "--idle-timeout must be from 0 to 604800 seconds"),
        (["--http", "nonsense"], "--http nonsense: expected PORT or HOST:PORT"),
        (["--status", "--stop"], "--status and --stop do not go together"),
    ],
)
def test_bad_serve_arguments(indexed: Path, cli, args: list[str], message: str) -> None:
    assert_one_line_error(cli("serve", *args, cwd=indexed), message)


def test_serve_without_an_index(tmp_path: Path, cli) -> None:
    assert_one_line_error(cli("serve", cwd=tmp_path), "no index at or above", "aurora index")


def test_many_clients_at_once(indexed: Path, serve) -> None:
    server = serve(indexed)
    failures: list[object] = []

    def client(number: int) -> None:
        for query in ("token", "refresh auth tokens", "timeout", "installation guide"):
            try:
                reply = raw_request(server.endpoint, search_request(indexed, f"{query} {number}"))
                if not reply.get("ok") or not reply["response"]["results"]:
                    failures.append(reply)
            except Exception as exc:  # noqa: BLE001 - any failure counts
                failures.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert raw_request(server.endpoint, b'{"v": 1, "op": "status"}\n')["status"]["requests"] >= 128


@contextlib.contextmanager
def in_process(server: WarmServer) -> Iterator[WarmServer]:
    """Run ``server`` in a thread of this process, so that a test can see (and hold) its slots; stop it at the end."""
    serving = threading.Thread(target=server.run, kwargs={"announce": False})
    serving.start()
    try:
        wait_until(lambda: os.path.exists(server.endpoint.info), "the server's start")
        yield server
    finally:
        server.stop()
        serving.join(timeout=60)
    assert not serving.is_alive()


def test_a_full_queue_answers_busy_and_the_client_answers_in_process(indexed: Path, cli) -> None:
    # Every slot is taken by a search held inside the server until the test lets it go, however slow the machine.
    server, release = WarmServer(indexed.resolve(), idle_timeout=0, workers=1), threading.Event()
    handle = server.handle

    def held(request: dict) -> dict:
        if request.get("query") == "hold":
            assert release.wait(120)
        return handle(request)

    server.handle = held  # type: ignore[method-assign]
    with in_process(server):
        holders = [
            threading.Thread(target=raw_request, args=(server.endpoint, search_request(indexed, "hold"), 180))
            for _ in range(server.capacity)
        ]
        try:
            for holder in holders:
                holder.start()
            wait_until(lambda: server.in_flight == server.capacity, "taking every slot")
            reply = raw_request(server.endpoint, search_request(indexed, QUERY), timeout=30)
            assert reply == protocol.error_reply("the server is busy", in_process=True)
            done = cli("search", QUERY, "--json", cwd=indexed)
            assert json.loads(done.stdout)["answered_by"] == "process"
            assert "the server is busy; answered in-process" in done.stderr
            assert server.in_flight == server.capacity  # the busy replies took no slot
        finally:
            release.set()
            for holder in holders:
                holder.join(timeout=120)
    assert server.in_flight == 0


def test_indexing_while_serving_never_gives_a_half_updated_answer(project: Path, cli, serve) -> None:
    def version(n: int) -> None:
        write(project, {"src/versioned.py": f'def marker_v{n}():\n    return "marker version {n}"\n'})

    version(0)
    cli.json("index", cwd=project)
    server = serve(project)
    stop, seen, broken = threading.Event(), set(), []

    def searching() -> None:
        while not stop.is_set():
            reply = raw_request(server.endpoint, search_request(project, "marker version"))
            if not reply.get("ok"):
                broken.append(reply)
                continue
            for result in reply["response"]["results"]:
                if result["path"] == "src/versioned.py":
                    n = result["symbol"].removeprefix("marker_v")
                    seen.add(n)
                    if f"marker version {n}" not in result["snippet"]:
                        broken.append((n, result["snippet"]))

    thread = threading.Thread(target=searching)
    thread.start()
    try:
        for n in range(1, 8):
            version(n)
            cli.json("index", cwd=project)
    finally:
        stop.set()
        thread.join()
    assert broken == [] and len(seen) > 1
    final = raw_request(server.endpoint, search_request(project, "marker version"))["response"]
    assert any(r["symbol"] == "marker_v7" for r in final["results"])


def test_http_on_loopback_answers_like_the_socket_to_holders_of_its_token(indexed: Path, serve) -> None:
    write(indexed, {"aurora.toml": "[activation]\nrecord_top = 0\n"})  # every search ranks alike
    server = serve(indexed, "--http", "0")
    status = raw_request(server.endpoint, b'{"v": 1, "op": "status"}\n')["status"]
    host, port = status["http"].rsplit(":", 1)
    assert host == "127.0.0.1"
    url = f"http://{status['http']}/v1"
    token_file = Path(server.endpoint.token)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    secret = {"Authorization": f"Bearer {token_file.read_text().strip()}"}

    def post(body: bytes, **headers: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    code, over_http = post(search_request(indexed, QUERY), **secret)
    assert code == 200
    over_socket = raw_request(server.endpoint, search_request(indexed, QUERY))
    assert over_http["response"]["results"] == over_socket["response"]["results"]
    for wrong in ({}, {"Authorization": "Bearer guess"}, {"Authorization": secret["Authorization"][:-1]}):
        code, reply = post(search_request(indexed, QUERY), **wrong)
        assert code == 401 and str(token_file) in reply["error"]["message"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://{status['http']}/v1/status", timeout=30)
    assert refused.value.code == 401
    with urllib.request.urlopen(
        urllib.request.Request(f"http://{status['http']}/v1/status", headers=secret), timeout=30
    ) as answer:
        assert json.loads(answer.read())["status"]["pid"] == server.process.pid
    for body in (b"{oops", b"null", b"[" * 100_000):
        code, reply = post(body, **secret)
        assert code == 400 and "the body is not a JSON object" in reply["error"]["message"]
    stop = b'{"v": 1, "op": "stop"}'
    assert post(stop, Origin="https://evil.example", **secret)[0] == 403  # a web page cannot stop it
    assert post(stop, Host="evil.example", **secret)[0] == 403  # nor a DNS-rebinding one
    code, reply = post(stop, **secret)  # nor anyone over HTTP: stop is the socket's
    assert code == 403 and "aurora serve --stop" in reply["error"]["message"]
    plain = urllib.request.Request(url, data=stop, method="POST", headers={"Content-Type": "text/plain", **secret})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(plain, timeout=30)
    assert refused.value.code == 415
    assert server.process.poll() is None


def test_the_server_preloads_the_model_and_answers_lexically_until_it_is_ready(
    semantic_project: Path, cli, serve
) -> None:
    cli.json("index", "--backend", "fastembed", cwd=semantic_project)
    write(semantic_project, {"aurora.toml": '[pipelines.default]\nembedder = "fastembed"\n'})
    server = serve(semantic_project)
    first = json.loads(cli("search", "load text from a location", "--no-wait", "--json", cwd=semantic_project).stdout)
    assert first["answered_by"] == "server"
    assert (first["mode"], first["model"]["state"]) in {("lexical", "loading"), ("hybrid", "ready")}
    deadline = time.monotonic() + 60
    while True:
        status = raw_request(server.endpoint, b'{"v": 1, "op": "status"}\n')["status"]
        if any(model["state"] == "ready" for model in status["models"]):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    later = cli.json("search", "load text from a location", "--no-wait", cwd=semantic_project)
    assert later["mode"] == "hybrid" and later["answered_by"] == "server" and later["results"][0]["symbol"] == "slurp"


def test_autostart_starts_a_server_that_later_searches_use(indexed: Path, cli) -> None:
    write(indexed, {"aurora.toml": "[server]\nautostart = true\nidle_timeout = 60\n"})
    first = cli("search", QUERY, "--json", cwd=indexed)
    assert json.loads(first.stdout)["answered_by"] == "process"
    assert "started `aurora serve`" in first.stderr
    endpoint = Endpoint(str(indexed.resolve()))
    deadline = time.monotonic() + 60
    while not os.path.exists(endpoint.info):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        assert cli.json("search", QUERY, cwd=indexed)["answered_by"] == "server"
    finally:
        assert cli("serve", "--stop", cwd=indexed).returncode == 0


def test_autostart_auto_stays_off_without_a_terminal(indexed: Path, cli) -> None:
    done = cli("search", QUERY, cwd=indexed)
    assert "started" not in done.stderr
    assert not os.path.exists(Endpoint(str(indexed.resolve())).lock)


def test_a_search_waiting_for_its_model_holds_up_no_other(semantic_project: Path, cli, serve) -> None:
    cli.json("index", "--backend", "fastembed", cwd=semantic_project)
    write(semantic_project, {"aurora.toml": '[pipelines.default]\nembedder = "none"\n'})
    server = serve(semantic_project)  # explicitly lexical default pipeline: the model loads on the first hybrid search
    waiting = threading.Thread(
        target=raw_request,
        args=(
            server.endpoint,
            search_request(semantic_project, "load text from a location", backend="fastembed", wait=True),
        ),
    )
    waiting.start()
    deadline = time.monotonic() + 60
    while not any(
        m["state"] == "loading" for m in raw_request(server.endpoint, b'{"v": 1, "op": "status"}\n')["status"]["models"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.002)
    lexical = raw_request(server.endpoint, search_request(semantic_project, "slurp location", mode="lexical"))
    still_loading = waiting.is_alive()
    waiting.join()
    assert lexical["ok"] and lexical["response"]["results"][0]["symbol"] == "slurp"
    assert still_loading  # answered while the other search was still waiting for the model


def test_arguments_the_client_cannot_use_get_the_in_process_answer(indexed: Path, cli, serve) -> None:
    serve(indexed)
    assert_one_line_error(cli("search", QUERY, "--root", str(indexed / "missing"), cwd=indexed), "no such folder")
    assert_one_line_error(cli("search", QUERY, "--wait-timeout", "inf", cwd=indexed), "--wait-timeout must be more")
    assert cli.json("search", QUERY, "--root", str(indexed / "src"), cwd=indexed)["answered_by"] == "server"
