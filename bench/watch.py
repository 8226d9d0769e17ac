"""Freshness: how soon a saved edit is searchable through `aurora serve`, and what the update costs the server.

    python bench/watch.py [--runs 20] [--backend fastembed --packages json,http,email,asyncio]

On a copy of the stdlib corpus (the corpus itself is left untouched), indexed lexically,
one `aurora serve` watches the tree. Each run appends a function with a new name to a
file and polls the server (lexical search for that name, every 10 ms) until the edit is
found: the latency from the write to the first answer that holds it. The server's CPU
for an update (user + system, from /proc) is measured on a second edit of the same file,
with no search meanwhile, from the write until the server logs the update.

With ``--backend``, the copy is indexed with that embedder too (``--packages`` copies only
those top-level packages and modules, so the initial embedding stays short), and each
run also waits until a semantic search whose query is the new function's text finds it:
the latency until the edit is embedded and searchable by meaning.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from corpus import ensure_corpus
from measure import AURORA, arguments, median, save

from aurora.serve import protocol
from aurora.serve.endpoint import Endpoint

FILES = ("json/decoder.py", "http/client.py", "email/message.py", "asyncio/queues.py", "argparse.py")


def found(endpoint: Endpoint, root: Path, name: str, mode: str = "lexical") -> bool:
    """Return whether a search through the server (``mode``; the query is the function's text) finds ``name``."""
    query = name if mode == "lexical" else function_text(name)
    message = {"v": protocol.VERSION, "op": "search", "root": str(root), "query": query, "options": {"mode": mode}}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(60)
        connection.connect(endpoint.socket)
        protocol.send(connection, message)
        reply = protocol.receive(connection, protocol.MAX_REPLY_BYTES)
    return any(name in (result.get("symbol") or "") for result in reply["response"]["results"][:3])


def cpu_s(pid: int) -> float:
    """Return the user + system CPU seconds of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime, stime in clock ticks (100 Hz)


def function_text(name: str) -> str:
    """Return the source of the function an edit adds."""
    return f"def {name}(value):\n    return value\n"


def append(path: Path, name: str) -> None:
    """Save an edit: a new function named ``name`` at the end of ``path``."""
    with open(path, "a", encoding="utf-8") as file:
        file.write("\n\n" + function_text(name))


def copy_corpus(source: Path, root: Path, packages: list[str] | None) -> None:
    """Copy the corpus (only ``packages``, top-level folders or modules, when given) to ``root``."""
    ignore = shutil.ignore_patterns(".aurora")
    if not packages:
        shutil.copytree(source, root, ignore=ignore)
        return
    root.mkdir()
    for name in packages:
        if (source / name).is_dir():
            shutil.copytree(source / name, root / name, ignore=ignore)
        else:
            shutil.copy2(source / f"{name}.py", root / f"{name}.py")


def updates(log: Path) -> int:
    """Return how many updates of the index the server has logged."""
    return log.read_text().count("updated the index")


def wait_for(condition, bound_s: float = 60.0) -> None:
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the benchmark timed out waiting for the server")
        time.sleep(0.01)


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], runs=20)
    parser.add_argument("--backend", help="embedder plugin: also measure how soon an edit is searchable by meaning")
    parser.add_argument("--packages", help="comma-separated top-level packages or modules to copy (default: all)")
    args = parser.parse_args()
    packages = args.packages.split(",") if args.packages else None
    files = tuple(f for f in FILES if packages is None or f.split("/")[0].removesuffix(".py") in packages)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "stdlib"
        copy_corpus(ensure_corpus(args.corpus), root, packages)
        backend = ["--backend", args.backend] if args.backend else []
        subprocess.run([AURORA, "index", "-q", *backend, str(root)], check=True)
        log = Path(scratch) / "serve.log"
        with open(log, "w") as output:
            server = subprocess.Popen([AURORA, "serve", "--root", str(root)], stdout=output, stderr=subprocess.STDOUT)
        try:
            endpoint = Endpoint(str(root))
            wait_for(lambda: Path(endpoint.info).exists())
            wait_for(lambda: found(endpoint, root, "parse_args"))
            time.sleep(3)  # let the watcher's catch-up update finish before the first edit
            latencies, semantic, cpus = [], [], []
            for run in range(args.runs):
                path = root / files[run % len(files)]
                name = f"freshness_marker_{run}"
                started = time.perf_counter()
                append(path, name)
                wait_for(lambda name=name: found(endpoint, root, name))
                latencies.append(time.perf_counter() - started)
                if args.backend:
                    wait_for(lambda name=name: found(endpoint, root, name, "semantic"))
                    semantic.append(time.perf_counter() - started)
                wait_for(lambda run=run: updates(log) == 2 * run + 1)  # the server logged it: idle again
                before = cpu_s(server.pid)
                append(path, f"freshness_cpu_{run}")  # no search meanwhile: the CPU is the update's
                wait_for(lambda run=run: updates(log) == 2 * run + 2)
                cpus.append(cpu_s(server.pid) - before)
        finally:
            server.terminate()
            server.wait(60)
    results = {
        "runs": args.runs,
        "backend": args.backend,
        "packages": args.packages,
        "latency_median_s": round(median(latencies), 3),
        "latency_max_s": round(max(latencies), 3),
        "server_cpu_median_s": round(median(cpus), 3),
        "server_cpu_max_s": round(max(cpus), 3),
    }
    if semantic:
        results |= {"semantic_median_s": round(median(semantic), 3), "semantic_max_s": round(max(semantic), 3)}
    save("watch" + (f"-{args.backend}" if args.backend else ""), results, args.results)
    print("| measure | median | max | target |")
    print("|---|---|---|---|")
    print(
        f"| saved edit -> searchable (lexical) | {results['latency_median_s']:.2f} s "
        f"| {results['latency_max_s']:.2f} s | at most 1 s |"
    )
    print(
        f"| server CPU per one-file update | {results['server_cpu_median_s']:.2f} s | "
        f"{results['server_cpu_max_s']:.2f} s | at most 0.3 s |"
    )
    if semantic:
        print(
            f"| saved edit -> searchable by meaning ({args.backend}) | {results['semantic_median_s']:.2f} s "
            f"| {results['semantic_max_s']:.2f} s | at most 3 s |"
        )


if __name__ == "__main__":
    main()
