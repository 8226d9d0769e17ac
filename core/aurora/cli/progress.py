"""Progress display for long work: a rich progress bar on a terminal, a line every few seconds otherwise.

Counted tasks show their rate and time left from the first step on (the average since
the task began, so the first figure is there as soon as one batch is done). Without a
terminal (a log, CI, a pipe) a counted task prints a plain line on stderr every
:data:`LINE_INTERVAL` seconds, and a last one when it ends if it printed any; uncounted
tasks (spinners) print nothing there.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Advance = Callable[[int], None]

#: Seconds between two progress lines when stderr is not a terminal.
LINE_INTERVAL = 5.0


class Progress:
    """Shows one task at a time on stderr when ``enabled`` (as plain ``lines`` if asked); a no-op otherwise."""

    def __init__(self, enabled: bool, lines: bool = False) -> None:
        self.enabled = enabled
        self.lines = lines

    @classmethod
    def for_terminal(cls, quiet: bool = False) -> Progress:
        """Return a progress display for stderr unless ``quiet``: a bar on a terminal, plain lines elsewhere."""
        return cls(enabled=not quiet, lines=not sys.stderr.isatty())

    @contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "files") -> Iterator[Advance]:
        """Run a block as a task; the block calls the yielded function to advance it.

        With a ``total`` a bar, count, rate and ETA are shown; without one, a running count of
        ``unit`` (nothing if ``unit`` is empty) and the elapsed time.
        """
        if not self.enabled or (self.lines and total is None):
            yield _ignore
            return
        if self.lines:
            with _lines(description, total or 0, unit) as advance:
                yield advance
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichProgress

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(unit),
                _rate_column(unit),
                _time_left_column(),
            ]
        else:
            columns += [TextColumn("{task.completed:,} " + unit)] if unit else []
            columns.append(TimeElapsedColumn())
        with RichProgress(*columns, console=Console(stderr=True), transient=True) as bar:
            task_id = bar.add_task(description, total=total)
            yield lambda amount=1: bar.advance(task_id, amount)

    @contextmanager
    def spinner(self, message: str) -> Iterator[None]:
        """Show ``message`` with a spinner and the elapsed time while the block runs."""
        with self.task(message, unit=""):
            yield


class _Meter:
    """Counts a task's progress and says its average rate and the time left."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()

    def rate(self) -> float:
        """Return units per second since the task began (0 before the first step)."""
        return _rate(self.done, time.monotonic() - self.started)

    def left(self) -> str:
        """Return the time left at that rate."""
        return _time_left(self.total, self.done, self.rate())


@contextmanager
def _lines(description: str, total: int, unit: str) -> Iterator[Advance]:
    """Advance a counted task, printing a line on stderr every :data:`LINE_INTERVAL` seconds."""
    meter = _Meter(total)
    shown = meter.started

    def advance(amount: int = 1) -> None:
        nonlocal shown
        meter.done += amount
        now = time.monotonic()
        if now - shown >= LINE_INTERVAL:
            shown = now
            print(
                f"{description}: {meter.done:,}/{total:,} {unit}, {meter.rate():,.0f} {unit}/s, {meter.left()} left",
                file=sys.stderr,
                flush=True,
            )

    yield advance
    if shown != meter.started:  # said something: say how it ended
        print(
            f"{description}: {meter.done:,} {unit} in {_clock(time.monotonic() - meter.started)}, "
            f"{meter.rate():,.0f} {unit}/s",
            file=sys.stderr,
            flush=True,
        )


def _rate(done: int, elapsed: float) -> float:
    return done / elapsed if done and elapsed > 0 else 0.0


def _time_left(total: int, done: int, rate: float) -> str:
    """Return the time left as ``m:ss`` (``h:mm:ss`` past an hour), or ``-:--`` before the first step."""
    return _clock((total - done) / rate) if rate else "-:--"


def _clock(seconds: float) -> str:
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


def _rate_column(unit: str) -> Any:
    """Return a rich column showing the task's average speed since it began, e.g. ``42 chunks/s``."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            rate = _rate(task.completed, task.elapsed or 0.0)
            return Text(f"{rate:,.0f} {unit}/s" if rate else "", style="progress.data.speed")

    return Rate()


def _time_left_column() -> Any:
    """Return a rich column with the time left at the average speed, shown from the first step on."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class TimeLeft(ProgressColumn):
        def render(self, task: Any) -> Text:
            left = _time_left(task.total or 0, task.completed, _rate(task.completed, task.elapsed or 0.0))
            return Text(left, style="progress.remaining")

    return TimeLeft()


def _ignore(amount: int = 1) -> None:
    """Advance nothing (progress is off)."""
