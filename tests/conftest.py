"""Shared fixtures: an isolated environment, a sample project and a runner for the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
AURORA = str(BIN / "aurora")


@pytest.fixture(scope="session")
def fastembed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fastembed cache for the session: its optimised model copy is made once, not once per test."""
    return tmp_path_factory.mktemp("fastembed-cache")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, fastembed_cache: Path
) -> Path:
    """Give every test its own user config and cache folders (inherited by subprocesses).

    Only fastembed's cache is shared by the session (``FASTEMBED_CACHE_PATH``); a test
    about that cache sets its own.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / "run"))  # each test's servers have their own sockets
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no test may reach a model hub
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name in ("HF_HOME", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(fastembed_cache))
    return home


class Cli:
    """Runs the installed ``aurora`` command in a subprocess."""

    def __call__(self, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
        """Run ``aurora ARGS`` in ``cwd`` and return the completed process (text output)."""
        return subprocess.run(
            [AURORA, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    def json(self, *args: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
        """Run ``aurora ARGS --json``, check it succeeded and return the parsed document."""
        done = self(*args, "--json", cwd=cwd, env=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def cli() -> Cli:
    """The CLI runner."""
    return Cli()


@contextmanager
def interruptible() -> Iterator[None]:
    """Start the block's child processes with Ctrl-C's default action, even when this run inherited SIGINT ignored.

    A shell starts a background job with SIGINT ignored, children inherit that, and Python
    then leaves it so: the tests that press Ctrl-C would fail when the suite runs in the
    background. A signal this process handles is reset to its default in an exec'd child.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Create ``files`` (path -> text or bytes) under ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


SAMPLE: dict[str, str | bytes] = {
    "src/auth/tokens.py": '''
        """Token handling for the web client."""
        import time


        class TokenStore:
            """Keeps access tokens per user."""

            ttl = 3600

            def __init__(self):
                self.tokens = {}

            def refresh_auth_tokens(self, user_id):
                """Refresh the auth tokens of a user before they expire."""
                self.tokens[user_id] = (time.time(), "token")


        # Decorated helpers keep their decorator in the chunk.
        @staticmethod
        def load_settings(path):
            """Load settings from disk."""
            return {}
        ''',
    "src/net/http_client.py": '''
        class HttpClient:
            def get(self, url, timeout=10):
                """Fetch a URL, giving up after ``timeout`` seconds."""
                raise TimeoutError(url)
        ''',
    "docs/guide.md": """
        # Guide

        Welcome.

        ## Installation

        Run the installer and restart the shell.

        ```python
        # not a heading
        ```

        ## Usage

        Search for anything.
        """,
    "notes.txt": "shopping list: apples, pears\nremember the quarterly report\n",
    ".gitignore": "build/\n*.log\n",
    "build/generated.py": "def generated_function():\n    pass\n",
    "debug.log": "quarterly report debug line\n",
    "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project with Python, Markdown, text, ignored and binary files."""
    root = tmp_path / "project"
    write(root, SAMPLE)
    return root


@pytest.fixture
def indexed(project: Path, cli: Cli) -> Path:
    """The sample project, indexed."""
    done = cli("index", cwd=project)
    assert done.returncode == 0, done.stderr
    return project


def paths(document: dict[str, Any]) -> list[str]:
    """Return the result paths of a search's JSON document."""
    return [result["path"] for result in document["results"]]


@pytest.fixture
def tiny_beir(tmp_path: Path) -> Path:
    """A four-document BEIR folder whose scores are worked out by hand in test_eval.py."""
    docs = {"d1": "apple", "d2": "apple cherry cherry", "d3": "durian", "d4": "unrelated words"}
    queries = {"q1": "cherry", "q2": "banana", "q3": "durian apple", "q4": "not judged"}
    qrels = [("q1", "d2", 1), ("q2", "d3", 1), ("q3", "d3", 2), ("q3", "d2", 1)]
    folder = tmp_path / "tiny"
    write(
        folder,
        {
            "corpus.jsonl": "".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in docs.items()),
            "queries.jsonl": "".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items()),
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels),
        },
    )
    return folder


SEMANTIC: dict[str, str | bytes] = {
    "src/storage.py": """
        def slurp(location):
            with open(location) as handle:
                return handle.read()
        """,
    "src/maths.py": """
        def hypotenuse(a, b):
            return (a * a + b * b) ** 0.5


        def mean(values):
            return sum(values) / len(values)
        """,
    "src/network.py": """
        import socket


        def ping(host, port):
            with socket.create_connection((host, port), timeout=2):
                return True
        """,
    "src/colours.py": """
        PALETTE = {"red": "#ff0000", "green": "#00ff00"}


        def hex_of(name):
            return PALETTE[name]
        """,
    "notes.md": "# Holidays\n\nBook the train to the seaside in July.\n",
}


@pytest.fixture
def semantic_project(tmp_path: Path) -> Path:
    """A small project whose function ``slurp`` loads a file's text without saying so in words."""
    root = tmp_path / "semantic"
    write(root, SEMANTIC)
    return root


def without_modules(folder: Path, *modules: str) -> dict[str, str]:
    """Return an environment in which ``modules`` cannot be imported, as if not installed.

    A ``sitecustomize`` on PYTHONPATH puts an import hook first that refuses them.
    """
    write(
        folder,
        {
            "sitecustomize.py": f"""
                import sys

                BLOCKED = {set(modules)!r}


                class Blocker:
                    def find_spec(self, name, path=None, target=None):
                        if name.split(".")[0] in BLOCKED:
                            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                        return None


                sys.meta_path.insert(0, Blocker())
                """
        },
    )
    return {"PYTHONPATH": str(folder)}


class Server:
    """An ``aurora serve`` process for one root, started in the background."""

    def __init__(self, root: Path, *args: str) -> None:
        from aurora.serve.endpoint import Endpoint

        self.root = root
        self.endpoint = Endpoint(str(root.resolve()))
        self.log = root.parent / f"serve-{time.monotonic_ns()}.log"
        with open(self.log, "w") as log:  # a file, not a pipe: a chatty server never blocks on it
            self.process = subprocess.Popen(
                [AURORA, "serve", "--root", str(root), *args], stdout=log, stderr=subprocess.STDOUT, text=True
            )
        deadline = time.monotonic() + 60
        while not os.path.exists(self.endpoint.info):  # written once the socket listens
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {self.output()}")
            time.sleep(0.02)

    def output(self) -> str:
        """Return what the server printed so far."""
        return self.log.read_text()


@pytest.fixture
def serve():
    """Start ``aurora serve --root ROOT ARGS`` with ``serve(root, *args)``; every server is stopped at the end."""
    started: list[Server] = []

    def start(root: Path, *args: str) -> Server:
        started.append(Server(root, *args))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
