"""Helpers shared by the benchmarks: timing child processes, medians, result files."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# Measure what an installed Aurora does: with bytecode caching on (a shell that sets
# PYTHONDONTWRITEBYTECODE makes every command compile Aurora's modules again).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

BIN = Path(sys.executable).parent
AURORA = str(BIN / "aurora")
RESULTS = Path(__file__).resolve().parent / "results"

#: Appended to a pipeline's TOML: the same pipeline without the built-in code reranker (for before/after runs).
NO_RERANKER = '\n[pipelines.default.reranker]\nplugin = "none"\n'

#: Code-search queries over the stdlib corpus, shared by the benchmarks.
CODE_QUERIES = [
    "wait for a future with a timeout",
    "TimeoutError",
    "parse command line arguments",
    "read a zip archive member",
    "http request headers",
    "os.path.join",
    "encode base64 string",
    "thread pool executor shutdown",
    "sqlite3 connection commit",
    "json decoder error line column",
]


def run_once(command: Sequence[str], cwd: Path | None = None) -> tuple[float, int]:
    """Run ``command`` to completion; return (wall seconds, peak RSS in MB) of that process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return elapsed, usage.ru_maxrss // 1024


def runs(command: Sequence[str], times: int, cwd: Path | None = None, warmup: int = 1) -> list[tuple[float, int]]:
    """Run ``command`` ``warmup`` times unmeasured, then ``times`` times measured."""
    for _ in range(warmup):
        run_once(command, cwd)
    return [run_once(command, cwd) for _ in range(times)]


def median(values: Sequence[float]) -> float:
    """Return the median."""
    return statistics.median(values)


def machine() -> str:
    """Describe the machine the numbers were taken on."""
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"


def arguments(description: str, runs: int) -> argparse.ArgumentParser:
    """Return a parser with the options every benchmark takes."""
    from corpus import DEFAULT_DEST

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=runs, help=f"measured runs (default {runs})")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_DEST, help="corpus folder (default: the stdlib copy)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write <name>.json")
    return parser


def save(name: str, document: dict, folder: Path = RESULTS) -> Path:
    """Write a benchmark's results to ``<folder>/<name>.json`` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"), **document}, indent=2))
    return path
