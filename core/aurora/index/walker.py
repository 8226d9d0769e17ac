"""Walk a project tree the way ripgrep does: ignore files honoured, problems reported, never fatal.

Honours ``.gitignore`` and ``.auroraignore`` in every folder (nested, gitignore
syntax, deeper files win) and in the folders above the root up to the enclosing git
repository's top, that repository's ``.git/info/exclude``, and the configured
``index.exclude`` patterns; skips hidden entries and symbolic links unless asked to
follow them, and files above the size limit. Unreadable folders, broken links and symlink loops are
yielded as :class:`Skipped` entries instead of raising, and so is a walk that found no file because
every one was left out (all ignored, hidden or links), which would otherwise look like an empty folder.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

from aurora.common.untrusted import UntrustedFileError, read_regular

#: The largest ignore file read (a repository's own; a larger one is skipped with a warning).
MAX_IGNORE_FILE_BYTES = 1_048_576
ALWAYS_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".aurora", "__pycache__"})
IGNORE_FILES = (".gitignore", ".auroraignore")
#: Why entries were left out, as :func:`walk` says it when it found no file at all.
LEFT_OUT = {
    "ignored": "ignored by .gitignore, .auroraignore or [index] exclude",
    "hidden": "hidden ([index] hidden = true indexes them)",
    "link": "a symbolic link ([index] follow_symlinks = true follows them)",
}


@dataclass(frozen=True)
class FoundFile:
    """A regular file to consider for indexing; ``path`` is relative to the root, with ``/``."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Skipped:
    """A path left out, with the reason (``too large``, ``symlink loop``, ``cannot list: ...``)."""

    path: str
    reason: str


@dataclass(frozen=True)
class WalkSettings:
    """What the walk includes; see the ``[index]`` settings in docs/configuration.md."""

    exclude: Sequence[str] = ()
    hidden: bool = False
    follow_symlinks: bool = False
    #: Follow links whose target is outside the root too (only the user's own configuration may ask).
    links_leaving_root: bool = False
    max_file_size: int = 1_048_576


@dataclass(frozen=True)
class _Rules:
    """Ignore patterns that apply below ``base`` (a root-relative folder, '' for the root).

    ``prefix`` is the root's path relative to the folder of an ignore file above it.
    """

    base: str
    spec: pathspec.GitIgnoreSpec
    prefix: str = ""


def walk(root: Path, settings: WalkSettings) -> Iterator[FoundFile | Skipped]:
    """Yield every file under ``root`` that is not ignored, in sorted order, and every skip.

    When no file is found but entries were left out, the last item is a :class:`Skipped`
    for ``root`` itself saying why (:func:`nothing_found`).
    """
    rules, unread = _rules_above(root)
    yield from unread
    if settings.exclude:
        rules.append(_Rules("", pathspec.GitIgnoreSpec.from_lines(settings.exclude)))
    root_stat = os.stat(root)
    real_root = root.resolve()
    left_out: Counter[str] = Counter()
    found = False
    for item in _walk_dir(root, "", rules, settings, {(root_stat.st_dev, root_stat.st_ino)}, real_root, left_out):
        found = found or isinstance(item, FoundFile)
        yield item
    if not found and left_out:
        yield Skipped(str(root), nothing_found(left_out))


class NeverIndexed:
    """Says whether a walk of ``root`` with ``settings`` would leave a root-relative path out, for a watcher's events.

    It applies the walk's rules in the walk's order: the folders a walk never enters,
    hidden names (unless ``hidden``), then the ignore rules of the folders above the
    root, ``[index] exclude`` and the ignore files of each folder on the path (read once
    per folder). Anything it cannot rule out counts as possibly indexed, and so does an
    ignore file in a folder the walk enters (it changes what is indexed); :meth:`refresh`
    reads the rules again. Changes to ``.git/info/exclude`` or to ignore files above the
    root are not events a watcher of the root sees: they apply from the next refresh.
    """

    def __init__(self, root: Path, settings: WalkSettings) -> None:
        self._root = root
        self._real_root = root.resolve()
        self._settings = settings
        self._base: list[_Rules] = []
        self._folders: dict[str, list[_Rules]] = {}
        self.refresh()

    def refresh(self) -> None:
        """Read the ignore rules again (after an ignore file changed)."""
        self._base, _ = _rules_above(self._root)
        if self._settings.exclude:
            self._base.append(_Rules("", pathspec.GitIgnoreSpec.from_lines(self._settings.exclude)))
        self._folders = {}

    def __call__(self, path: str) -> bool:
        """Return whether ``path`` (relative to the root, with ``/``) is surely left out of the index."""
        parts = path.split("/")
        if not ALWAYS_SKIPPED_DIRS.isdisjoint(parts):
            return True
        rules = self._base + self._rules_in("")
        for end in range(1, len(parts)):
            folder = "/".join(parts[:end])
            if self._hidden(parts[end - 1]) or _ignored(folder + "/", rules):
                return True
            rules = rules + self._rules_in(folder)
        name = parts[-1]
        if name in IGNORE_FILES:
            return False
        return self._hidden(name) or _ignored(path, rules)

    def _hidden(self, name: str) -> bool:
        return name.startswith(".") and not self._settings.hidden

    def _rules_in(self, folder: str) -> list[_Rules]:
        """Return the rules of ``folder``'s own ignore files (read once until :meth:`refresh`)."""
        if folder not in self._folders:
            self._folders[folder] = _rules_in(self._root / folder, folder, self._real_root)[0]
        return self._folders[folder]


def nothing_found(left_out: Counter[str]) -> str:
    """Say that a walk found no file to index, and why: the reasons of :data:`LEFT_OUT` counted in ``left_out``."""
    return "no files to index: every file here is " + " or ".join(LEFT_OUT[why] for why in LEFT_OUT if left_out[why])


def _walk_dir(
    folder: Path,
    rel: str,
    rules: list[_Rules],
    settings: WalkSettings,
    ancestors: set[tuple[int, int]],
    real_root: Path,
    left_out: Counter[str],
) -> Iterator[FoundFile | Skipped]:
    """Yield the files and skips under ``folder`` (``rel`` from the root); count what is left out in ``left_out``."""
    found, unread = _rules_in(folder, rel, real_root)
    yield from unread
    rules = rules + found
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Skipped(rel or ".", f"cannot list: {exc.strerror}")
        return
    for entry in entries:
        name = entry.name
        path = f"{rel}/{name}" if rel else name
        if name in ALWAYS_SKIPPED_DIRS:
            continue
        if name.startswith(".") and not settings.hidden:
            left_out["hidden"] += name not in IGNORE_FILES  # an ignore file is a rule, not content
            continue
        if not _is_utf8(path):
            yield Skipped(path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"), _BAD_NAME)
            continue
        is_link = False
        try:
            is_link = entry.is_symlink()
            if is_link and not settings.follow_symlinks:
                left_out["link"] += 1
                continue
            if is_link and not settings.links_leaving_root and not _inside(Path(entry.path), real_root):
                yield Skipped(path, "symbolic link leaves the project root: not followed")
                continue
            info = entry.stat(follow_symlinks=True)
        except OSError as exc:
            reason = "broken symbolic link" if is_link else f"cannot stat: {exc.strerror}"
            yield Skipped(path, reason)
            continue
        is_dir = stat.S_ISDIR(info.st_mode)
        if _ignored(path + ("/" if is_dir else ""), rules):
            left_out["ignored"] += 1
            continue
        if is_dir:
            identity = (info.st_dev, info.st_ino)
            if identity in ancestors:
                yield Skipped(path, "symlink loop")
                continue
            yield from _walk_dir(Path(entry.path), path, rules, settings, ancestors | {identity}, real_root, left_out)
        elif stat.S_ISREG(info.st_mode):
            if info.st_size > settings.max_file_size:
                yield Skipped(path, f"too large ({info.st_size:,} bytes > {settings.max_file_size:,})")
            else:
                yield FoundFile(path, info.st_size, info.st_mtime_ns)


_BAD_NAME = "name is not valid UTF-8"


def _is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes come back from the OS as surrogate escapes
        return False
    return True


def _rules_above(root: Path) -> tuple[list[_Rules], list[Skipped]]:
    """Return the rules of the enclosing git repository that reach down into ``root``, and the files not read.

    Like ripgrep, a folder indexed explicitly is never ignored itself: patterns that
    match the root folder (or a folder above it) are left out; the rest still apply.
    """
    root = root.resolve()
    top = next((folder for folder in (root, *root.parents) if (folder / ".git").exists()), None)
    if top is None:
        return [], []
    exclude, unread = _read_lines(top / ".git" / "info" / "exclude", top, str(top / ".git" / "info" / "exclude"))
    specs = [(top, pathspec.GitIgnoreSpec.from_lines(exclude))]
    for folder in reversed(root.relative_to(top).parents):  # from the top down to root's parent
        rules, problems = _rules_in(top / folder, "", top, shown=str(top / folder))
        specs += [(top / folder, rule.spec) for rule in rules]
        unread += problems
    found = []
    for folder, spec in specs:
        prefix = _prefix(root, folder)
        kept = [pattern for pattern in spec.patterns if not (prefix and pattern.match_file(prefix))]
        if kept:
            found.append(_Rules("", pathspec.GitIgnoreSpec(kept), prefix))
    return found, unread


def _prefix(root: Path, folder: Path) -> str:
    relative = root.relative_to(folder).as_posix()
    return "" if relative == "." else relative + "/"


def _rules_in(folder: Path, rel: str, inside: Path, shown: str | None = None) -> tuple[list[_Rules], list[Skipped]]:
    """Return the rules of ``folder``'s ignore files (``rel`` is its root-relative path) and the files not read.

    ``inside`` is the folder an ignore file may link into; a file not read is named
    ``shown/name`` (default: its root-relative path).
    """
    found, unread = [], []
    for name in IGNORE_FILES:
        where = f"{shown}/{name}" if shown is not None else f"{rel}/{name}" if rel else name
        lines, problems = _read_lines(folder / name, inside, where)
        unread += problems
        if lines:
            found.append(_Rules(rel, pathspec.GitIgnoreSpec.from_lines(lines)))
    return found, unread


def _ignored(path: str, rules: list[_Rules]) -> bool:
    ignored = False
    for rule in rules:
        if rule.base:
            if not path.startswith(rule.base + "/"):
                continue
            relative = path[len(rule.base) + 1 :]
        else:
            relative = path
        verdict = rule.spec.check_file(rule.prefix + relative).include
        if verdict is not None:
            ignored = verdict
    return ignored


def _read_lines(path: Path, inside: Path, shown: str) -> tuple[list[str], list[Skipped]]:
    """Return the lines of an ignore file, or none and a :class:`Skipped` saying why it was not read.

    Only a regular file (or a link to one under ``inside``) of at most :data:`MAX_IGNORE_FILE_BYTES` is read.
    """
    try:
        data = read_regular(path, MAX_IGNORE_FILE_BYTES, inside)
    except UntrustedFileError as exc:
        return [], [Skipped(shown, f"{exc.reason}; its ignore rules do not apply")]
    except OSError:  # missing or unreadable: no rules, as git does
        return [], []
    return data.decode("utf-8", errors="replace").splitlines(), []


def _inside(path: Path, root: Path) -> bool:
    """Say whether ``path`` (a link) resolves to a place under ``root`` (already resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a loop: followed no further
        return False
