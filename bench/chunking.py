"""Lexical index time of the whole code-search set: the tree-sitter chunkers against the chunkers before them.

    python bench/chunking.py [--runs 5] [--trees DIR]

"before" is the chunker list Aurora had until tree-sitter (`python` by `ast`, `markdown`,
line windows for every other language); "tree-sitter" is the default list, read and
chunked by one worker process per core (`[index] workers`, the default), and "tree-sitter,
one process" the same list with `workers = 1`. Each run indexes the set's repositories
(the 53 with trees), as one folder, from scratch with `aurora index` (a new process, BM25
with the default tokenizer) once per list, alternating the order, so that load on the
machine hits all alike. Reported: wall and CPU seconds (user + system time of the run and
its worker processes) per list, median over the runs, and the median of the per-run
ratios to "before". The trees are unpacked as `bench/codesearch.py` does. Linux only (the
workers' CPU time is collected with prctl's child subreaper).
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from codesearch import DEFAULT_DATA, unpack
from measure import AURORA, arguments, machine, median, save

#: Chunker list name -> the [index] table of its user configuration.
CHUNKERS = {
    "before": 'chunkers = ["python", "markdown"]\nfallback_chunker = "windows"\n',
    "tree-sitter, one process": 'chunkers = ["treesitter", "markdown"]\nfallback_chunker = "windows"\nworkers = 1\n',
    "tree-sitter": 'chunkers = ["treesitter", "markdown"]\nfallback_chunker = "windows"\n',
}
#: prctl(2) option that makes this process adopt its descendants' orphans (Linux).
PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> None:
    """Make the index runs' worker processes this process's to reap, so that their CPU time is counted.

    The workers are children of a fork server that the index run started; the server
    outlives the run by a moment, is adopted here, and its usage includes its workers'.
    """
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def timed_index(folder: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Index ``folder`` from scratch in a new process; return wall seconds, CPU seconds and the chunk count."""
    shutil.rmtree(folder / ".aurora", ignore_errors=True)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            [AURORA, "index", "--json", str(folder)], stdout=out, stderr=subprocess.DEVNULL, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise SystemExit(f"aurora index {folder} failed")
        out.seek(0)
        report = json.loads(out.read())
    cpu = usage.ru_utime + usage.ru_stime
    while True:  # the run's orphans (its fork server, holding its workers' usage) exit soon after it
        try:
            _, _, orphan = os.wait4(-1, 0)
        except ChildProcessError:
            break
        cpu += orphan.ru_utime + orphan.ru_stime
    return wall, cpu, int(report["chunks"])


def main() -> None:
    """Alternate the two chunker lists over the runs; print the table and save the figures."""
    parser = arguments(__doc__.splitlines()[0], runs=5)
    parser.add_argument("--trees", type=Path, help="folder holding repos/<name>/ (default: unpack into bench/corpus)")
    args = parser.parse_args()
    folder = (args.trees or unpack(DEFAULT_DATA)) / "repos"
    adopt_orphans()
    envs = {}
    for name, table in CHUNKERS.items():
        config = Path(tempfile.mkdtemp(prefix=f"aurora-bench-{name}-"))
        (config / "aurora").mkdir()
        (config / "aurora" / "config.toml").write_text("[index]\n" + table, encoding="utf-8")
        envs[name] = os.environ | {"XDG_CONFIG_HOME": str(config)}
    figures: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": [], "chunks": []} for name in CHUNKERS}
    order = list(CHUNKERS)
    for run in range(args.runs):
        for name in order if run % 2 == 0 else order[::-1]:
            wall, cpu, chunks = timed_index(folder, envs[name])
            for key, value in (("wall", wall), ("cpu", cpu), ("chunks", chunks)):
                figures[name][key].append(value)
            print(f"run {run + 1}: {name}: {wall:.1f} s wall, {cpu:.1f} s CPU, {chunks} chunks", flush=True)
    shutil.rmtree(folder / ".aurora", ignore_errors=True)
    for env in envs.values():
        shutil.rmtree(Path(env["XDG_CONFIG_HOME"]), ignore_errors=True)
    before = figures["before"]
    ratios = {
        name: {key: median([a / b for a, b in zip(f[key], before[key], strict=True)]) for key in ("wall", "cpu")}
        for name, f in figures.items()
        if name != "before"
    }
    print(f"\n{args.runs} runs alternated, {machine()}\n")
    print("| chunkers | chunks | wall (s, median) | CPU (s, median) |\n|---|---|---|---|")
    for name, f in figures.items():
        print(f"| {name} | {int(f['chunks'][0])} | {median(f['wall']):.1f} | {median(f['cpu']):.1f} |")
    for name, ratio in ratios.items():
        print(f"| ratio {name} / before (median of per-run ratios) | | {ratio['wall']:.2f} | {ratio['cpu']:.2f} |")
    print(f"\nsaved {save('chunking', {'runs': figures, 'ratios': ratios}, args.results)}")


if __name__ == "__main__":
    main()
