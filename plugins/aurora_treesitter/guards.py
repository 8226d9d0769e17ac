"""Cheap checks that keep text tree-sitter should not parse away from it: binary, minified or too large.

Such files go to the host's fallback chunker (line windows). The checks read the text
with C-speed string methods only, so they cost far less than a parse.
"""

from __future__ import annotations

#: Characters that do not occur in source code: C0 controls other than tab, line feed,
#: vertical tab, form feed and escape, and DEL (each one byte in UTF-8, and no other
#: character's encoding holds such a byte), and the replacement character of undecodable bytes.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_REPLACEMENT = "\ufffd".encode()
#: How much of the text is sampled for those characters, and the share of them that makes it binary.
_SAMPLE_CHARS = 65536
_NOT_TEXT_SHARE = 0.01
#: A mean line length above this means minified or generated code, whose "lines" are no unit for a reader.
_MINIFIED_MEAN_LINE = 250


def parseable(text: str, max_chars: int) -> bool:
    """Say whether ``text`` is worth parsing: at most ``max_chars`` long, not binary, not minified."""
    if len(text) > max_chars or "\x00" in text:
        return False
    sample = text[:_SAMPLE_CHARS]
    if _not_text_count(sample) > _NOT_TEXT_SHARE * len(sample):
        return False
    return len(text) <= _MINIFIED_MEAN_LINE * (text.count("\n") + 1)


def _not_text_count(sample: str) -> int:
    """Return how many characters of ``sample`` do not occur in source code, counted on its UTF-8 bytes (fast)."""
    data = sample.encode("utf-8", "surrogatepass")
    return len(data) - len(data.translate(None, _CONTROL_BYTES)) + data.count(_REPLACEMENT)
