"""``aurora read``: show an indexed chunk or range of lines, and record that it was used.

Reading is the use that activation learns from: an assistant (or a person) reads the
results it actually works with, while a result that was merely shown is not a use.
A target (:mod:`aurora.activation.targets`) is ``PATH:LINE`` (the innermost chunk spanning
that line), ``PATH:START-END`` (those lines) or ``PATH`` (the file from its start). The
file must be in the index, with chunks, and inside the indexed folder; its lines are
read from disk, decoded as indexing decodes them, at most :data:`MAX_LINES` lines and
:data:`MAX_BYTES` bytes (``truncated`` says so). The chunks the passage covers (at
least half of a chunk, or a passage inside one chunk) are recorded as read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

from aurora.activation.targets import parse_target
from aurora.activation.usage import Usage, chunk_key
from aurora.errors import AuroraError, UsageError
from aurora.index.sources import decode
from aurora.index.store import Store, StoredChunk

#: The most lines one read shows.
MAX_LINES = 400
#: The most bytes (UTF-8) one read shows.
MAX_BYTES = 64 * 1024


class Passage(NamedTuple):
    """What a read showed: lines ``line_start``-``line_end`` of ``path`` (of ``file_lines``) and the chunks they cover.

    ``truncated``: the passage asked for was longer than a read shows. ``recorded``: the
    chunks' use went into the access history (not when activation is off).
    """

    root: str
    path: str
    line_start: int
    line_end: int
    file_lines: int
    text: str
    truncated: bool
    chunks: tuple[StoredChunk, ...]
    recorded: bool
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the ``aurora read --json`` document."""
        return {
            "root": self.root,
            "path": self.path,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "file_lines": self.file_lines,
            "truncated": self.truncated,
            "text": self.text,
            "chunks": [
                {"path": c.path, "line_start": c.line_start, "line_end": c.line_end, "symbol": c.symbol}
                for c in self.chunks
            ],
            "recorded": self.recorded,
            "warnings": list(self.warnings),
        }


def read_passage(
    store: Store, usage: Usage | None, root: Path, target: str, cwd: Path, *, follow_symlinks: bool = False
) -> Passage:
    """Show ``target`` (relative to ``cwd``) from the index at ``root``; record the chunks it covers in ``usage``.

    ``usage`` None (activation off) records nothing. ``follow_symlinks`` (``[index]
    follow_symlinks``) allows a file whose real path leaves ``root``, as the index did.
    :class:`UsageError` for a target that is not indexed, outside ``root``, or beyond the file's end.
    """
    where = parse_target(target, root, cwd)
    with store.snapshot():  # the file's chunks and the one at the line from the same index run
        indexed = store.chunks_at(where.path)
        if not indexed:
            raise UsageError(f"nothing indexed at {where.path}", hint="give a path that `aurora search` showed")
        start, end = _requested(store, where.path, where.line, where.end)
    lines = _file_lines(root, where.path, follow_symlinks)
    if start > len(lines):
        raise UsageError(f"{where.path} has {len(lines):,} lines; line {start:,} is beyond its end")
    end = len(lines) if end is None else min(end, len(lines))
    shown, cut = _bounded(lines[start - 1 : end])
    last = start + len(shown) - 1
    covered = tuple(sorted((c for c in indexed if _covers(start, last, c)), key=lambda c: (c.line_start, c.line_end)))
    warnings = []
    if any(chunk.text != "\n".join(lines[chunk.line_start - 1 : chunk.line_end]) for chunk in covered):
        warnings.append(f"{where.path} changed since it was indexed; run `aurora index` to search what it is now")
    recorded = False
    if usage is not None and covered:
        try:
            usage.record_read([chunk_key(c.path, c.symbol, c.line_start) for c in covered])
            recorded = True
        except AuroraError as exc:  # the passage stands; only its use was not recorded
            warnings.append(f"this read was not recorded in the access history: {exc.message}")
    return Passage(
        str(root),
        where.path,
        start,
        last,
        len(lines),
        "\n".join(shown),
        cut or last < end,
        covered,
        recorded,
        tuple(warnings),
    )


def _requested(store: Store, path: str, line: int | None, end: int | None) -> tuple[int, int | None]:
    """Return the first and last line a target asks for (None, or beyond the file: to the file's end)."""
    if line is None:
        return 1, None
    if end is not None:
        if line < 1 or end < line:
            raise UsageError(f"{path}:{line}-{end} is not a range of lines: give START-END with 1 <= START <= END")
        return line, end
    found = store.chunks_at(path, line)
    if not found:
        raise UsageError(
            f"nothing indexed at {path} line {line}", hint="give PATH:START-END to read any lines of the file"
        )
    return found[0].line_start, found[0].line_end


def _file_lines(root: Path, path: str, follow_symlinks: bool) -> list[str]:
    """Return the lines of the indexed file ``path``, decoded as indexing decodes them; never one outside ``root``."""
    location = root / path
    try:
        real = location.resolve(strict=True)
        if not follow_symlinks and not real.is_relative_to(root.resolve()):
            raise UsageError(f"{path} leads outside the indexed folder {root} (a symbolic link)")
        if not stat.S_ISREG(os.stat(real).st_mode):
            raise UsageError(f"{path} is not a regular file")
        data = real.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"{path} is indexed but no longer on disk", hint="run `aurora index` to update the index"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    text, _ = decode(data)
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":  # the newline that ends the last line starts no line
        lines.pop()
    return lines


def _bounded(lines: list[str]) -> tuple[list[str], bool]:
    """Return the first of ``lines`` that fit in :data:`MAX_LINES` and :data:`MAX_BYTES`, and whether a line was cut."""
    kept: list[str] = []
    size = 0
    for line in lines[:MAX_LINES]:
        length = len(line.encode("utf-8")) + 1
        if size + length > MAX_BYTES:
            if not kept:  # one line longer than a read: show its start
                kept.append(line.encode("utf-8")[: MAX_BYTES - 1].decode("utf-8", errors="ignore"))
                return kept, True
            break
        kept.append(line)
        size += length
    return kept, False


def _covers(first: int, last: int, chunk: StoredChunk) -> bool:
    """Return whether lines ``first``-``last`` cover ``chunk``: half of it, or (a shorter passage) half of themselves.

    So a read of a chunk's lines records that chunk, not the neighbours it shares a few lines with.
    """
    overlap = min(last, chunk.line_end) - max(first, chunk.line_start) + 1
    return overlap > 0 and 2 * overlap >= min(last - first + 1, chunk.line_end - chunk.line_start + 1)
