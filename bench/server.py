"""Warm server: end-to-end `aurora search` through `aurora serve`, server-side time, load, memory.

    python bench/server.py [--runs 30] [--backend fastembed] [--backend sentence-transformers]
                           [--clients 32] [--queries 2000]

On the stdlib corpus with its vectors (run bench/semantic.py first, or this script embeds
it with fastembed; both backends use the same all-MiniLM-L6-v2 vectors). One server is
started for the corpus and warmed up (each backend's model loaded, each query once).

- End to end: `aurora search QUERY -b BACKEND --json` as a new process, answered by the
  server (checked), round-robin with the baseline `python -c "import json, socket"` and
  with the same search `--no-server` (in-process, cold), median of --runs each.
- Server side: the server's own time per hybrid request (its `server_ms`), for queries
  it has seen (query embedding cached) and for new ones (embedded in the request).
- Load: --clients threads sending --queries requests in all, alternating lexical and
  hybrid; errors, p50/p99 latency and throughput; the server's memory after the first 10
  and after 1,000 requests.

The corpus's access history is removed before and after, so that other benchmarks do not
depend on whether this one ran.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from corpus import ensure_corpus
from measure import AURORA, CODE_QUERIES, arguments, median, save

from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint

BACKENDS = ("fastembed", "sentence-transformers")


def request(endpoint: Endpoint, message: dict) -> tuple[dict, float]:
    """Send one request on the server's socket; return (reply, seconds)."""
    started = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(120)
        connection.connect(endpoint.socket)
        protocol.send(connection, message)
        reply = protocol.receive(connection, protocol.MAX_REPLY_BYTES)
    return reply, time.perf_counter() - started


def search(root: Path, query: str, **options: object) -> dict:
    return {"v": protocol.VERSION, "op": "search", "root": str(root), "query": query, "options": options}


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    """Run ``command``; return (wall seconds, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr}")
    return wall, done.stdout


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def forget_usage(corpus: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (corpus / ".aurora" / f"activation.db{suffix}").unlink(missing_ok=True)


def main() -> None:
    """Measure and print the server tables."""
    parser = arguments(__doc__.splitlines()[0], runs=30)
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    backends = args.backend or list(BACKENDS)
    corpus = ensure_corpus(args.corpus).resolve()
    if not any((corpus / ".aurora" / "vectors").glob("*.lance")):
        subprocess.run([AURORA, "index", "-q", "-b", "fastembed", str(corpus)], check=True)
    forget_usage(corpus)
    neutral = Path(tempfile.mkdtemp())  # a stdlib copy as the current folder would shadow the standard library
    runtime = Path(tempfile.mkdtemp())
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)  # this run's own server, whatever else runs
    endpoint = Endpoint(str(corpus))
    server = subprocess.Popen([AURORA, "serve", "--root", str(corpus), "--idle-timeout", "0"], stderr=subprocess.PIPE)
    try:
        while not os.path.exists(endpoint.info):
            if server.poll() is not None:
                raise SystemExit(server.stderr.read().decode() if server.stderr else "the server did not start")
            time.sleep(0.02)
        results = measure(args, backends, corpus, neutral, endpoint)
    finally:
        server.terminate()
        server.wait()
        forget_usage(corpus)
    print(f"\nsaved {save('server', results, args.results)}")


def measure(args, backends: list[str], corpus: Path, neutral: Path, endpoint: Endpoint) -> dict:
    for backend in backends:  # warm-up: load each model, embed each query once
        for query in CODE_QUERIES:
            reply, _ = request(endpoint, search(corpus, query, backend=backend, wait=True))
            assert reply["ok"] and reply["response"]["mode"] == "hybrid", reply
    rows: dict[str, list[float]] = {}
    baseline = [sys.executable, "-c", "import json, socket"]
    for run in range(args.runs):
        query = CODE_QUERIES[run % len(CODE_QUERIES)]
        rows.setdefault("python -c 'import json, socket'", []).append(timed(baseline, neutral)[0])
        wall, out = timed([AURORA, "search", query, "--root", str(corpus), "-m", "lexical", "--json"], neutral)
        assert json.loads(out)["answered_by"] == "server"
        rows.setdefault("lexical, through the server", []).append(wall)
        for backend in backends:
            command = [AURORA, "search", query, "--root", str(corpus), "-b", backend, "--json"]
            wall, out = timed(command, neutral)
            document = json.loads(out)
            assert document["answered_by"] == "server" and document["mode"] == "hybrid", document
            rows.setdefault(f"{backend} hybrid, through the server", []).append(wall)
            if run < 5:  # in-process cold searches are slow: a few for the comparison
                rows.setdefault(f"{backend} hybrid, --no-server --wait (cold)", []).append(
                    timed([*command, "--no-server", "--wait"], neutral)[0]
                )
    end_to_end = {name: round(median(values), 4) for name, values in rows.items()}
    base = end_to_end["python -c 'import json, socket'"]
    print("| command (new process each) | median wall (s) | x baseline |\n|---|---|---|")
    for name, value in end_to_end.items():
        print(f"| {name} | {value:.3f} | {value / base:.2f} |")

    server_side: dict[str, float] = {}
    for backend in backends:
        seen = [request(endpoint, search(corpus, q, backend=backend))[0]["server_ms"] for q in CODE_QUERIES * 3]
        fresh = [
            request(endpoint, search(corpus, f"{q} number {i}", backend=backend))[0]["server_ms"]
            for i, q in enumerate(CODE_QUERIES * 3)
        ]
        server_side[f"{backend} hybrid, query seen before"] = round(statistics.median(seen), 2)
        server_side[f"{backend} hybrid, new query (embedded)"] = round(statistics.median(fresh), 2)
    lexical = [request(endpoint, search(corpus, q, mode="lexical"))[0]["server_ms"] for q in CODE_QUERIES * 3]
    server_side["lexical"] = round(statistics.median(lexical), 2)
    print("\n| server-side time per request | median (ms) |\n|---|---|")
    for name, value in server_side.items():
        print(f"| {name} | {value:.2f} |")

    load = load_test(args, backends[0], corpus, endpoint)
    print(
        f"\nload: {args.clients} clients, {load['requests']} requests (lexical and {backends[0]} hybrid): "
        f"{load['errors']} errors, p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, "
        f"{load['throughput_per_s']:.0f} requests/s; server memory {load['rss_after_10_mb']} MB after 10, "
        f"{load['rss_after_1000_mb']} MB after 1,000 ({load['rss_growth']:+.1%})"
    )
    return {"end_to_end_s": end_to_end, "server_ms": server_side, "load": load}


def load_test(args, backend: str, corpus: Path, endpoint: Endpoint) -> dict:
    """Run the concurrent clients; memory is read when requests 10 and 1,000 are done."""
    latencies: list[float] = []
    errors: list[object] = []
    lock = threading.Lock()
    done = 0
    memory: dict[int, float] = {}
    tickets = iter(range(args.queries))

    def status_rss() -> float:
        return request(endpoint, {"v": protocol.VERSION, "op": "status"})[0]["status"]["rss_mb"]

    def client() -> None:
        nonlocal done
        for ticket in tickets:  # shared: each request number is taken once
            query = CODE_QUERIES[ticket % len(CODE_QUERIES)]
            options = {"mode": "lexical"} if ticket % 2 else {"backend": backend}
            try:
                reply, seconds = request(endpoint, search(corpus, query, **options))
                failed = not reply.get("ok")
            except OSError as exc:
                reply, seconds, failed = exc, 0.0, True
            with lock:
                if failed:
                    errors.append(reply)
                latencies.append(seconds)
                done += 1
                count = done
            if count in (10, 1000):
                memory[count] = status_rss()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "clients": args.clients,
        "requests": len(latencies),
        "errors": len(errors),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "rss_after_10_mb": memory.get(10),
        "rss_after_1000_mb": memory.get(1000),
        "rss_growth": (memory[1000] / memory[10] - 1) if 10 in memory and 1000 in memory else 0.0,
    }


if __name__ == "__main__":
    main()
