"""ACT-R base-level activation over the access history (aurora.activation.actr), on real SQLite files."""

from __future__ import annotations

import math
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from aurora.activation.actr import AccessHistory, ActivationParams, ActiveItem, retrieval_probability

NOW = 1_700_000_000.0
DEFAULTS = ActivationParams()


def open_history(tmp_path: Path, **params: float) -> AccessHistory:
    history, warning = AccessHistory.open(tmp_path / ".aurora" / "activation.db", ActivationParams(**params))
    assert warning is None
    return history


def exact_base_level(accesses: list[tuple[float, float]], now: float, decay: float = 0.5) -> float:
    """ln(sum w * t ** -d) over (at, weight) pairs, worked out directly."""
    return math.log(sum(weight * max(now - at, 1.0) ** -decay for at, weight in accesses))


def rows_per_key(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, count(*) FROM accesses GROUP BY key"))


# --- the formulas ------------------------------------------------------------------------


def test_base_level_of_two_accesses_worked_out_by_hand(tmp_path: Path) -> None:
    history = open_history(tmp_path)
    history.record(["a"], at=NOW - 100)
    history.record(["a"], at=NOW - 400)
    # 100 ** -0.5 + 400 ** -0.5 = 0.1 + 0.05
    assert history.base_levels(["a"], now=NOW) == pytest.approx({"a": math.log(0.15)})
    expected_p = 1 / (1 + math.exp((-4.0 - math.log(0.15)) / 1.0))
    assert history.probabilities(["a"], now=NOW) == pytest.approx({"a": expected_p})


def test_weight_multiplies_the_term(tmp_path: Path) -> None:
    history = open_history(tmp_path)
    history.record(["shown"], at=NOW - 100)
    history.record(["liked"], weight=5.0, at=NOW - 100)
    levels = history.base_levels(["shown", "liked"], now=NOW)
    assert levels["shown"] == pytest.approx(math.log(0.1))
    assert levels["liked"] == pytest.approx(math.log(0.5))
    assert levels["liked"] - levels["shown"] == pytest.approx(math.log(5.0))


def test_other_decay(tmp_path: Path) -> None:
    history = open_history(tmp_path, decay=0.25)
    history.record(["a"], at=NOW - 16)
    history.record(["a"], at=NOW - 81)
    assert history.base_levels(["a"], now=NOW)["a"] == pytest.approx(math.log(1 / 2 + 1 / 3))


def test_an_access_is_at_least_one_second_old(tmp_path: Path) -> None:
    history = open_history(tmp_path)
    history.record(["now"], at=NOW)
    history.record(["future"], at=NOW + 500)  # a clock that went backwards
    assert history.base_levels(["now", "future"], now=NOW) == pytest.approx({"now": 0.0, "future": 0.0})


def test_retrieval_probability() -> None:
    assert retrieval_probability(-4.0, DEFAULTS) == pytest.approx(0.5)
    # One access about 50 minutes ago sits at the threshold.
    assert retrieval_probability(math.log(3000**-0.5), DEFAULTS) == pytest.approx(0.5, abs=0.01)
    assert retrieval_probability(-3.0, DEFAULTS) == pytest.approx(1 / (1 + math.exp(-1.0)))
    noisy = ActivationParams(threshold=-2.0, noise=2.0)
    assert retrieval_probability(0.0, noisy) == pytest.approx(1 / (1 + math.exp(-1.0)))
    levels = [-1000.0, -50.0, -10.0, -4.0, 0.0, 5.0, 30.0]
    probabilities = [retrieval_probability(level, DEFAULTS) for level in levels]
    assert probabilities == sorted(probabilities)
    assert all(0.0 < p < 1.0 for p in probabilities[1:-1])
    assert retrieval_probability(-math.inf, DEFAULTS) == 0.0


def test_decay_happens_at_query_time(tmp_path: Path) -> None:
    history = open_history(tmp_path)
    for age in (60, 3600, 86400):
        history.record(["a"], at=NOW - age)
    earlier = history.base_levels(["a"], now=NOW)["a"]
    later = history.base_levels(["a"], now=NOW + 3600)["a"]
    much_later = history.base_levels(["a"], now=NOW + 30 * 86400)["a"]
    assert earlier > later > much_later
    assert later == pytest.approx(exact_base_level([(NOW - a, 1.0) for a in (60, 3600, 86400)], NOW + 3600))
    p = [history.probabilities(["a"], now=now)["a"] for now in (NOW, NOW + 3600, NOW + 30 * 86400)]
    assert p[0] > p[1] > p[2] > 0.0


def test_recording_never_lowers_activation(tmp_path: Path) -> None:
    history = open_history(tmp_path, max_history=3)  # folding included
    assert history.base_levels(["a"], now=NOW) == {}  # B = -inf, P = 0: not returned
    assert history.probabilities(["a"], now=NOW) == {}
    history.record(["a"], at=NOW - 7200)
    assert history.probabilities(["a"], now=NOW)["a"] > 0.0
    rng = random.Random(7)
    level, p = history.base_levels(["a"], now=NOW)["a"], history.probabilities(["a"], now=NOW)["a"]
    for _ in range(40):
        history.record(["a"], weight=rng.choice([1.0, 5.0, 0.01]), at=NOW - rng.uniform(0, 30 * 86400))
        new_level, new_p = history.base_levels(["a"], now=NOW)["a"], history.probabilities(["a"], now=NOW)["a"]
        assert new_level >= level
        assert new_p >= p
        level, p = new_level, new_p


def test_keys_with_duplicates_or_none(tmp_path: Path) -> None:
    history = open_history(tmp_path)
    history.record([])
    assert history.count() == 0
    history.record(["a", "a", "b"], at=NOW - 100)  # one access per distinct key
    assert history.count() == 2
    assert history.base_levels(["a", "a", "missing"], now=NOW) == pytest.approx({"a": math.log(0.1)})
    assert history.base_levels([], now=NOW) == {}
    assert history.probabilities(set(), now=NOW) == {}
    with pytest.raises(TypeError):
        history.record("ab")
    with pytest.raises(ValueError):
        history.record(["a"], weight=0.0)
    with pytest.raises(ValueError):
        history.record(["a"], weight=math.nan)
    assert history.count() == 2


def test_many_keys_at_once(tmp_path: Path) -> None:
    history = open_history(tmp_path)
    keys = [f"src/mod{i}.py::f{i}" for i in range(6000)]  # more than one IN (...) batch
    history.record(keys, at=NOW - 100)
    levels = history.base_levels(keys, now=NOW)
    assert len(levels) == 6000
    assert all(level == pytest.approx(math.log(0.1)) for level in levels.values())


def test_params_are_checked(tmp_path: Path) -> None:
    for bad in (
        ActivationParams(decay=0.0),
        ActivationParams(decay=1.0),
        ActivationParams(noise=0.0),
        ActivationParams(max_history=0),
        ActivationParams(threshold=math.nan),
    ):
        with pytest.raises(ValueError):
            AccessHistory.open(tmp_path / "activation.db", bad)


# --- bounded history ---------------------------------------------------------------------


@pytest.mark.parametrize("regular", [True, False])
def test_history_is_bounded_and_folding_keeps_activation(tmp_path: Path, regular: bool) -> None:
    history = open_history(tmp_path)  # max_history = 100
    rng = random.Random(3)
    accesses: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    start = NOW - 30 * 86400
    for i in range(5 * DEFAULTS.max_history):
        at = start + i * 5000 if regular else start + rng.uniform(0, 29 * 86400)
        weight = 1.0 if regular else rng.choice([1.0, 1.0, 1.0, 5.0])
        keys = ["a", "b"] if i % 2 == 0 or regular else ["a"]
        history.record(keys, weight=weight, at=at)
        for key in keys:
            accesses[key].append((at, weight))
    rows = rows_per_key(history.path)
    assert max(rows.values()) == DEFAULTS.max_history
    assert history.count() == len(accesses["a"]) + len(accesses["b"])
    for now in (NOW, NOW + 3600, NOW + 90 * 86400):
        levels = history.base_levels(["a", "b"], now=now)
        for key in ("a", "b"):
            # B within 0.03 of the exact value: the sum within about 3 %.
            assert levels[key] == pytest.approx(exact_base_level(accesses[key], now), abs=0.03)


def test_folding_never_makes_an_item_disappear(tmp_path: Path) -> None:
    history = open_history(tmp_path, max_history=1)
    accesses = [(NOW - 86400 * k, 1.0) for k in range(10, 0, -1)]
    for at, weight in accesses:
        history.record(["a"], weight=weight, at=at)
    assert rows_per_key(history.path) == {"a": 1}
    assert history.count() == 10
    level = history.base_levels(["a"], now=NOW)["a"]
    assert level == pytest.approx(exact_base_level(accesses, NOW), abs=0.05)
    assert history.probabilities(["a"], now=NOW)["a"] > 0.0
    [item] = history.most_active(5, now=NOW)
    assert (item.key, item.accesses, item.last_access) == ("a", 10, NOW - 86400)


def test_an_old_access_recorded_late_is_folded_correctly(tmp_path: Path) -> None:
    history = open_history(tmp_path, max_history=2)
    accesses = [(NOW - 10, 1.0), (NOW - 20, 1.0), (NOW - 1_000_000, 5.0)]  # the old one comes last
    for at, weight in accesses:
        history.record(["a"], weight=weight, at=at)
    with sqlite3.connect(history.path) as db:
        assert sorted(at for (at,) in db.execute("SELECT at FROM accesses")) == [NOW - 20, NOW - 10]
    assert history.base_levels(["a"], now=NOW)["a"] == pytest.approx(exact_base_level(accesses, NOW))


# --- most active -------------------------------------------------------------------------


def test_most_active(tmp_path: Path) -> None:
    history = open_history(tmp_path, max_history=2)
    history.record(["old"], at=NOW - 86400)
    history.record(["busy"], at=NOW - 3000)
    for age in (2000, 1000, 500, 100):
        history.record(["busy", "recent"] if age == 100 else ["busy"], at=NOW - age)
    items = history.most_active(10, now=NOW)
    assert [item.key for item in items] == ["busy", "recent", "old"]
    busy = items[0]
    assert isinstance(busy, ActiveItem)
    assert busy.accesses == 5  # three of them folded
    assert busy.last_access == NOW - 100
    levels = history.base_levels(["busy", "recent", "old"], now=NOW)
    for item in items:
        assert item.base_level == pytest.approx(levels[item.key])
        assert item.probability == pytest.approx(retrieval_probability(item.base_level, DEFAULTS))
    old = items[2]
    assert (old.key, old.accesses, old.last_access) == ("old", 1, NOW - 86400)
    assert old.base_level == pytest.approx(math.log(86400**-0.5))
    assert [item.key for item in history.most_active(2, now=NOW)] == ["busy", "recent"]
    assert history.most_active(0, now=NOW) == []


def test_most_active_of_an_empty_history(tmp_path: Path) -> None:
    assert open_history(tmp_path).most_active(5) == []


# --- the file ----------------------------------------------------------------------------


def test_history_persists_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / ".aurora" / "activation.db"
    with AccessHistory.open(path)[0] as history:
        history.record(["a", "b"])
    history, warning = AccessHistory.open(path)
    assert warning is None
    assert history.count() == 2
    assert set(history.base_levels(["a", "b"])) == {"a", "b"}
    history.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1


def check_replaced(path: Path, warning: str | None) -> None:
    assert warning is not None
    assert "\n" not in warning
    assert f"the access history in {path} was unreadable (" in warning
    assert warning.endswith("started a new one")
    assert path.with_name(path.name + ".corrupt").is_file()
    with AccessHistory.open(path)[0] as history:
        assert history.count() == 0
        history.record(["a"], at=NOW - 100)
        assert history.base_levels(["a"], now=NOW) == pytest.approx({"a": math.log(0.1)})
    history, warning = AccessHistory.open(path)
    assert warning is None  # the new one is fine
    assert history.count() == 1
    history.close()


def test_garbage_file_is_replaced_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "activation.db"
    garbage = bytes(random.Random(1).getrandbits(8) for _ in range(8192))
    path.write_bytes(garbage)
    path.with_name("activation.db-wal").write_bytes(garbage[:3000])
    history, warning = AccessHistory.open(path)
    history.close()
    assert warning is not None and "file is not a database" in warning
    assert path.with_name("activation.db.corrupt").read_bytes() == garbage
    check_replaced(path, warning)


def test_empty_file_is_used_without_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "activation.db"
    path.touch()
    history, warning = AccessHistory.open(path)
    assert warning is None
    history.record(["a"])
    assert history.count() == 1
    history.close()


@pytest.mark.parametrize(
    "damage",
    [
        "DROP TABLE accesses",
        "ALTER TABLE accesses RENAME TO old_accesses",
        "ALTER TABLE folded RENAME COLUMN first_at TO start",
        "PRAGMA user_version = 99",
        "PRAGMA user_version = 0",  # a foreign database: tables, no version
    ],
)
def test_foreign_or_damaged_schema_is_replaced_with_a_warning(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "activation.db"
    with AccessHistory.open(path)[0] as history:
        history.record(["a", "b"])
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(damage)
    db.close()
    history, warning = AccessHistory.open(path)
    history.close()
    check_replaced(path, warning)


# --- several processes at once -----------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from aurora.activation.actr import AccessHistory, ActivationParams

    path, ready, go = (Path(arg) for arg in sys.argv[1:4])
    ready.touch()
    deadline = time.monotonic() + 120
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("never told to start")
        time.sleep(0.002)
    history, warning = AccessHistory.open(path, ActivationParams(max_history=10))
    for i in range(50):
        history.record([f"key{i % 3}"])
        if i % 10 == 0:
            history.base_levels(["key0", "key1", "key2"])
    history.close()
    print(warning or "", end="")
    """
)


@pytest.mark.parametrize("start_from", ["nothing", "garbage"])
def test_concurrent_writers_lose_nothing(tmp_path: Path, start_from: str) -> None:
    path = tmp_path / ".aurora" / "activation.db"  # created (or replaced) by the racing processes themselves
    if start_from == "garbage":
        path.parent.mkdir()
        path.write_bytes(b"\x07garbage" * 1000)
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{n}" for n in range(8)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(flag), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        outcomes = [process.communicate(timeout=180) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, (_, err) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, err
        assert err == ""
    warnings = [out for out, _ in outcomes if out]
    # Exactly one process replaced the unreadable file; the others used the new one.
    assert len(warnings) == (1 if start_from == "garbage" else 0), warnings
    history, warning = AccessHistory.open(path, ActivationParams(max_history=10))
    assert warning is None
    assert history.count() == 400
    per_key = {item.key: item.accesses for item in history.most_active(10)}
    assert per_key == {"key0": 8 * 17, "key1": 8 * 17, "key2": 8 * 16}
    assert max(rows_per_key(path).values()) <= 10
    history.close()


# --- in a search ---------------------------------------------------------------------------

#: Six results in the sample project: more than the top 3 that searches once recorded.
QUERY = "tokens settings client installer report"


def test_the_same_query_twice_scores_the_same_when_nothing_was_read(project: Path) -> None:
    import aurora

    opened = aurora.open(project)
    opened.index()
    first, second = (
        [(r.chunk.path, r.chunk.line_start, r.score, r.scores) for r in opened.search(QUERY).results] for _ in range(2)
    )
    assert len(first) > 3  # more results than the searches of the past recorded (record_top 3)
    assert first == second
    assert opened.usage().accesses() == 0  # shown is not used


def test_record_top_and_read_weight_when_set_and_the_clock_given(project: Path) -> None:
    import aurora
    from aurora.activation.usage import Usage
    from aurora.common.layout import index_dir

    (project / "aurora.toml").write_text("[activation]\nrecord_top = 2\nread_weight = 3\n")
    opened = aurora.open(project)
    opened.index()
    before = opened.search(QUERY).results  # records its top 2 as shown
    after = opened.search(QUERY).results
    assert [r.score for r in after[:2]] > [r.score for r in before[:2]]
    usage, _ = Usage.open(index_dir(project), opened.config, clock=lambda: NOW)
    usage.record_read(["a.py::f"])  # weight 3, at NOW, read at NOW: B = ln(3 * 1 ** -0.5)
    assert usage.probabilities(["a.py::f"]) == {"a.py::f": pytest.approx(retrieval_probability(math.log(3), DEFAULTS))}
    assert usage.accesses() == 2 + 2 + 1  # two searches, one read
    usage.close()
