"""Fresh without thinking: deltas instead of BM25 rebuilds, a watcher that re-indexes, a server that follows."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import pytest
from conftest import interruptible, paths, write
from test_lazy_imports import imported_modules, top_level
from test_server import raw_request, search_request, wait_until

import aurora
from aurora.common.layout import DATABASE_NAME, LEXICAL_DIRNAME, index_dir
from aurora.index import lexical
from aurora.index.store import Store

WORDS = (
    "parse render socket buffer token cache index query vector matrix scheduler thread lock queue stream "
    "header cookie session crypto cipher digest archive compress decode encode".split()
)
QUERIES = (
    "parse header",
    "json decoder",
    "decode json string",
    "json tool sort keys",
    "http client request",
    "email message attachment",
    "zanzibar cipher",
    "socket header parse",
)


def corpus(root: Path, files: int = 120) -> Path:
    """A project of ``files`` modules, three functions each, over a small shared vocabulary."""
    modules = {}
    for n in range(files):
        functions = []
        for f in range(3):
            words = [WORDS[(n * 7 + f * 3 + k * k) % len(WORDS)] for k in range(6)]
            functions.append(
                f"def {words[0]}_{words[1]}_{n}_{f}(value):\n    '''{' '.join(words)}.'''\n    return value\n"
            )
        modules[f"pkg/module_{n}.py"] = "\n\n".join(functions)
    write(root, modules)
    return root


def stdlib_subset(root: Path) -> Path:
    """A real corpus: copies of four standard-library packages (about 1,500 chunks)."""
    top = Path(sysconfig.get_paths()["stdlib"])
    for package in ("json", "http", "email", "asyncio"):
        shutil.copytree(top / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def ranked(project: aurora.api.Project, limit: int = 5) -> dict[str, list[tuple[str, int]]]:
    return {
        query: [(r.chunk.path, r.chunk.line_start) for r in project.search(query, limit=limit, mode="lexical").results]
        for query in QUERIES
    }


def live_generation(root: Path) -> Path:
    store = Store.open(index_dir(root) / DATABASE_NAME)
    try:
        ((_, generation),) = lexical.live(store).values()
    finally:
        store.close()
    return index_dir(root) / LEXICAL_DIRNAME / generation


def found(project: aurora.api.Project, query: str) -> list[str]:
    return [result.chunk.path for result in project.search(query, limit=3, mode="lexical").results]


def test_a_delta_ranks_like_a_full_rebuild_and_a_full_build_folds_it_in(tmp_path: Path) -> None:
    root = stdlib_subset(tmp_path / "p")
    project = aurora.open(root)
    assert project.index().lexical_rebuilt
    module = root / "json/decoder.py"
    module.write_text(module.read_text() + '\n\ndef zanzibar_cipher(value):\n    """Parse the zanzibar header."""\n')
    (root / "json/tool.py").unlink()
    write(root, {"email/extra.py": 'def socket_header_parse(buffer):\n    """Decode a socket stream header."""\n'})

    report = project.index()
    assert report.lexical_updated and not report.lexical_rebuilt
    assert lexical.base_of(live_generation(root)) is not None  # a delta over the first build
    assert found(project, "zanzibar") == ["json/decoder.py"]
    with_delta = ranked(project)
    assert "json/tool.py" not in {path for hits in with_delta.values() for path, _ in hits}

    assert project.index(rebuild=True).lexical_rebuilt
    assert lexical.base_of(live_generation(root)) is None  # folded into a full build
    assert ranked(project) == with_delta
    project.index()
    assert sorted(p.name for p in (index_dir(root) / LEXICAL_DIRNAME).iterdir()) == [live_generation(root).name]


def test_a_change_past_the_share_of_the_corpus_is_a_full_build(tmp_path: Path) -> None:
    root = corpus(tmp_path / "p")
    project = aurora.open(root)
    project.index()
    for n in range(10):  # 10 of 120 files: past DELTA_SHARE
        path = root / f"pkg/module_{n}.py"
        path.write_text(path.read_text() + f"\n# edited {n}\n")
    report = project.index()
    assert report.lexical_rebuilt and not report.lexical_updated


@pytest.mark.parametrize("record", ["{garbage", '{"base": "../../elsewhere"}', '["f.1"]'])
def test_a_damaged_delta_record_is_reported_by_search_and_repaired_by_index(tmp_path: Path, cli, record: str) -> None:
    root = corpus(tmp_path / "p")
    project = aurora.open(root)
    project.index()
    (root / "pkg/module_3.py").write_text("def zanzibar_cipher(value):\n    return value\n")
    assert project.index().lexical_updated
    (live_generation(root) / lexical.BASE_FILE).write_text(record, encoding="utf-8")
    searched = cli("search", "zanzibar", "--no-server", cwd=root)
    assert searched.returncode == 2 and "is damaged" in searched.stderr and "aurora index" in searched.stderr
    repaired = cli("index", cwd=root)
    assert repaired.returncode == 0 and "was damaged (" in repaired.stderr, repaired.stderr
    assert found(aurora.open(root), "zanzibar") == ["pkg/module_3.py"]


def test_a_plugin_without_deltas_keeps_the_full_rebuild(tmp_path: Path) -> None:
    pytest.importorskip("aurora_lexical_fts5")
    root = corpus(tmp_path / "p")
    project = aurora.open(root)
    project.index(backend="fts5")
    module = root / "pkg/module_3.py"
    module.write_text(module.read_text() + "\n# zanzibar\n")
    report = project.index(backend="fts5")
    assert report.lexical_rebuilt and not report.lexical_updated
    assert [r.chunk.path for r in project.search("zanzibar", backend="fts5", mode="lexical").results] == [
        "pkg/module_3.py"
    ]


def test_the_watcher_follows_edits_additions_deletions_and_renames(tmp_path: Path) -> None:
    from aurora.index.watch import watch

    root = corpus(tmp_path / "p")
    project = aurora.open(root)
    stop, ready, reports = threading.Event(), threading.Event(), []
    watcher = threading.Thread(
        target=watch, args=(project,), kwargs={"stop": stop, "ready": ready, "on_update": reports.append}
    )
    watcher.start()
    try:
        assert ready.wait(60), "the watcher did not start"
        assert reports and reports[0].added == 120  # it caught up: the first index

        module = root / "pkg/module_3.py"
        module.write_text(module.read_text() + "\n\ndef zanzibar_marker(value):\n    return value\n")
        wait_until(lambda: found(project, "zanzibar marker") == ["pkg/module_3.py"], "the edit searchable")
        write(root, {"pkg/fresh.py": "def quokka_habitat():\n    pass\n"})
        wait_until(lambda: found(project, "quokka") == ["pkg/fresh.py"], "the new file searchable")
        (root / "pkg/fresh.py").rename(root / "pkg/renamed.py")
        wait_until(lambda: found(project, "quokka") == ["pkg/renamed.py"], "the rename followed")
        (root / "pkg/renamed.py").unlink()
        wait_until(lambda: found(project, "quokka") == [], "the deletion followed")
        write(root, {".gitignore": "ignored/\n", "ignored/skip.py": "def wombat(): pass\n", ".aurora/junk": "x"})
        module.write_text(module.read_text() + "\ndef platypus(): pass\n")  # after the ignored file: a later update
        wait_until(lambda: found(project, "platypus") == ["pkg/module_3.py"], "the last edit searchable")
        assert found(project, "wombat") == []  # the walker's rules hold
        assert all(not report.lexical_rebuilt for report in reports[1:])  # deltas, not rebuilds
    finally:
        stop.set()
        watcher.join(60)
    assert not watcher.is_alive()


def test_the_server_picks_up_an_edit(tmp_path: Path, cli, serve) -> None:
    root = corpus(tmp_path / "p")
    assert cli("index", cwd=root).returncode == 0
    server = serve(root)

    def served(query: str) -> list[str]:
        reply = raw_request(server.endpoint, search_request(root, query, mode="lexical"))
        assert reply["ok"], reply
        return paths(reply["response"])

    wait_until(lambda: "watching" in json.dumps(cli.json("serve", "--status", cwd=root)), "the watcher started")
    assert served("zanzibar") == []
    module = root / "pkg/module_7.py"
    module.write_text(module.read_text() + "\n\ndef zanzibar_marker(value):\n    return value\n")
    wait_until(lambda: served("zanzibar") == ["pkg/module_7.py"], "the edit searchable through the server")
    assert "updated the index" in server.output()


def test_aurora_index_watch_prints_one_line_per_update_and_ends_on_ctrl_c(tmp_path: Path) -> None:
    root = corpus(tmp_path / "p", files=5)
    code = "import aurora, sys; from aurora.index.watch import watch_in_foreground; "
    code += "sys.exit(watch_in_foreground(aurora.open('.')))"
    with interruptible():
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    try:
        assert process.stdout.readline().startswith("Indexed 5 files")
        assert "watching" in process.stderr.readline()
        write(root, {"pkg/new.py": "def quokka():\n    pass\n"})
        assert "1 new" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        errors = process.stderr.read()
        assert "stopped watching" in errors and "Traceback" not in errors
    finally:
        process.kill()


def test_watchfiles_is_imported_only_to_watch(project: Path, cli) -> None:
    assert cli("index", cwd=project).returncode == 0
    for args in (["--help"], ["plugins", "list"], ["search", "token", "--no-server"]):
        assert "watchfiles" not in top_level(imported_modules(*args, cwd=project)), args
    done = subprocess.run(
        [sys.executable, "-c", "import sys, aurora.index.watch; print('watchfiles' in sys.modules)"],
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "False", done.stderr


def test_a_bm25s_without_its_scoring_helpers_builds_no_delta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bm25s.scoring

    from aurora_bm25s.delta import build_delta

    monkeypatch.delattr(bm25s.scoring, "_np_csc_python")
    assert build_delta(["def added(): pass"], tmp_path / "base", tmp_path / "delta") is False


def test_a_watcher_update_repairs_a_damaged_database_as_aurora_index_does(tmp_path: Path) -> None:
    from aurora.index.watch import _Updater

    root = corpus(tmp_path / "p")
    project = aurora.open(root)
    project.index()
    project.close()
    for path in index_dir(root).glob(DATABASE_NAME + "*"):
        path.write_bytes(b"garbage " * 512)  # the database and its journals
    report = _Updater(project, None, None, create=False).update()
    assert report is not None and report.added == 120
    assert report.recreated and "is damaged: file is not a database" in report.recreated
    assert found(project, "zanzibar marker") == [] and found(project, "module") != []


def test_the_watch_filter_keeps_only_events_on_paths_a_walk_may_index(tmp_path: Path) -> None:
    from aurora.index.walker import NeverIndexed, WalkSettings
    from aurora.index.watch import _Filter

    root = tmp_path / "p"
    write(root, {".gitignore": "dist/\n", "src/a.py": "x = 1\n"})
    keep = _Filter(root, NeverIndexed(root, WalkSettings()))
    assert keep(None, str(root / "src/a.py")) and keep(None, str(root / ".gitignore"))
    assert not keep(None, str(root / "dist/bundle.js")) and not keep(None, str(root / ".aurora/aurora.db"))
    assert not keep(None, str(root))  # the root itself: nothing to index
    elsewhere = tmp_path / "link-spelling"
    assert keep(None, str(elsewhere / "src/a.py")) and not keep(None, str(elsewhere / ".aurora/aurora.db"))
