"""Progress display for long work: a rich progress bar on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Advance = Callable[[int], None]


class Progress:
    """Shows one task at a time on stderr when ``enabled``; a no-op otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_terminal(cls, quiet: bool = False) -> Progress:
        """Return a progress display that is on when stderr is a terminal and not ``quiet``."""
        return cls(enabled=not quiet and sys.stderr.isatty())

    @contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "files") -> Iterator[Advance]:
        """Run a block as a task; the block calls the yielded function to advance it.

        With a ``total`` a bar, count, rate and ETA are shown; without one, a running count of
        ``unit`` (nothing if ``unit`` is empty) and the elapsed time.
        """
        if not self.enabled:
            yield _ignore
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(unit),
                _rate_column(unit),
                TimeRemainingColumn(),
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


def _rate_column(unit: str) -> Any:
    """Return a rich column showing the task's speed, e.g. ``42 chunks/s``."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f} {unit}/s" if task.speed else "", style="progress.data.speed")

    return Rate()


def _ignore(amount: int = 1) -> None:
    """Advance nothing (progress is off)."""
