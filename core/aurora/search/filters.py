"""Which files a search may answer from: ``--path`` and ``--exclude`` globs, ``--lang`` languages.

Globs follow ``.gitignore`` (and ripgrep's ``-g``), matched against the path relative
to the index root, case-sensitively:

- a glob without a ``/`` (``*.py``, ``tests``, ``test_*``) matches a file's name or any
  folder in its path, at any depth;
- a glob with a ``/`` is anchored at the root (``src/*.py``: files directly in ``src``;
  ``src/**/*.py``: at any depth below it; a leading ``/`` is allowed);
- a glob that matches a folder matches every file below it; a trailing ``/`` matches
  folders only (``build/``);
- ``*`` is any text but ``/``, ``**`` any number of folders, ``?`` one character but ``/``,
  ``[abc]`` and ``[!abc]`` a character from a set or not.

A file is kept when it matches one of the ``--path`` globs (any file, when none is given),
none of the ``--exclude`` globs, and, with ``--lang``, is in one of those languages
(:func:`aurora.index.languages.language_of`). Standard library only (``pathspec``
costs 50 ms to import; this, none).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from aurora.index.languages import language_of


def glob_pattern(glob: str) -> str:
    """Return the regular expression (source) that matches the root-relative paths ``glob`` selects."""
    folders_only = glob.endswith("/")
    body = glob.strip("/")
    anchored = "/" in body or glob.startswith("/")
    prefix = "" if anchored else "(?:.*/)?"
    below = "/.*" if folders_only else "(?:/.*)?"
    return f"{prefix}{_translate(body)}{below}"


def _translate(glob: str) -> str:
    """Translate the wildcards of ``glob`` (module docstring) to a regular expression."""
    out, i = [], 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := glob.find("]", i + 2)) > 0:
            members = glob[i + 1 : end]
            negated = members[0] in "!^"
            members = members[1:] if negated else members
            out.append(f"[{'^/' if negated else ''}{members.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=64)
def _compiled(globs: tuple[str, ...]) -> re.Pattern[str]:
    """Return one pattern matching a path that any of ``globs`` selects (cached: searches repeat their filters)."""
    return re.compile("|".join(f"(?:{glob_pattern(glob)})" for glob in globs))


def path_filter(
    paths: Sequence[str] = (), exclude: Sequence[str] = (), languages: Sequence[str] = ()
) -> Callable[[str], bool] | None:
    """Return a test of a root-relative path against the filters (module docstring), or None when there are none."""
    if not (paths or exclude or languages):
        return None
    included = _compiled(tuple(paths)).fullmatch if paths else None
    excluded = _compiled(tuple(exclude)).fullmatch if exclude else None
    wanted = frozenset(languages)

    def keeps(path: str) -> bool:
        return (
            (included is None or included(path) is not None)
            and (excluded is None or excluded(path) is None)
            and (not wanted or language_of(path) in wanted)
        )

    return keeps
