"""Read a file found by the walker into chunks ready to store: hash, binary check, decoding."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aurora.common.untrusted import read_regular
from aurora.host.contract import Chunk
from aurora.index.chunking import Chunkers
from aurora.index.languages import language_of
from aurora.index.store import FileState, NewChunk
from aurora.index.walker import FoundFile

#: Like git: a NUL byte in the first 8000 bytes makes a file binary.
BINARY_SNIFF_BYTES = 8000
#: How much a file may grow between the scan that found it and its read.
MAX_GROWTH_BYTES = 1_048_576


@dataclass(frozen=True)
class SourceFile:
    """A file read for indexing: its state, language and chunks, or why it has none, and what to warn about."""

    path: str
    state: FileState
    language: str
    chunks: list[NewChunk]
    skipped: str | None = None
    warnings: tuple[str, ...] = ()


def content_hash(data: bytes) -> str:
    """Return the hash used to detect changed files and chunks."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_file(root: Path, found: FoundFile, chunkers: Chunkers) -> SourceFile:
    """Read, decode and chunk one file; raise ``OSError`` if it cannot be read.

    Only a regular file is read (one replaced by a pipe or a device since the scan is
    not), and no more than its scanned size plus :data:`MAX_GROWTH_BYTES`.
    """
    data = read_regular(root / found.path, found.size + MAX_GROWTH_BYTES)
    digest = content_hash(data)
    language = language_of(found.path)
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return SourceFile(found.path, FileState(found.size, found.mtime_ns, digest), language, [], skipped="binary")
    text, warning = decode(data)
    chunked = chunkers.split(text, found.path, language)
    chunks = [new_chunk(chunk, _context(found.path, chunk)) for chunk in chunked.chunks]
    state = FileState(found.size, found.mtime_ns, digest, chunked.identity)
    warnings = tuple(filter(None, (warning, chunked.warning)))
    return SourceFile(found.path, state, language, chunks, warnings=warnings)


def _context(path: str, chunk: Chunk) -> str:
    """Return what is indexed with a chunk besides its text: its path, symbol and, for a later part, its signature."""
    return " ".join(filter(None, (path, chunk.symbol, chunk.signature)))


def new_chunk(chunk: Chunk, context: str) -> NewChunk:
    """Wrap a chunker's chunk with its context and the hash of everything that gets indexed."""
    return NewChunk(chunk, context, content_hash(f"{context}\n{chunk.text}".encode()))


def decode(data: bytes) -> tuple[str, str | None]:
    """Decode as UTF-8 (BOM allowed), else as Windows-1252; all newlines normalised to line feeds.

    Returns the text and a warning when the bytes were not valid UTF-8.
    """
    warning = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        warning = "not valid UTF-8; read as Windows-1252"
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, warning
