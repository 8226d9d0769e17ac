"""Copy the running interpreter's standard library (.py files, no tests) into a benchmark folder.

    python bench/corpus.py [DEST]      # default: bench/corpus/stdlib

About 700 files for CPython 3.11. The copy is left untouched if it already exists.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path

SKIPPED_DIRS = {"site-packages", "test", "tests", "idle_test", "__pycache__"}
DEFAULT_DEST = Path(__file__).resolve().parent / "corpus" / "stdlib"


def stdlib_files() -> list[Path]:
    """Return the standard library's .py files outside test folders and site-packages."""
    top = Path(sysconfig.get_paths()["stdlib"])
    return sorted(path for path in top.rglob("*.py") if not SKIPPED_DIRS.intersection(path.relative_to(top).parts[:-1]))


def ensure_corpus(dest: Path = DEFAULT_DEST) -> Path:
    """Create the copy at ``dest`` unless it exists; return ``dest``."""
    if dest.is_dir():
        return dest
    top = Path(sysconfig.get_paths()["stdlib"])
    staging = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    for path in stdlib_files():
        target = staging / path.relative_to(top)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    staging.rename(dest)
    return dest


def ensure_subset(packages: tuple[str, ...], dest: Path | None = None) -> Path:
    """Create (unless it exists) a copy of some standard-library packages, for benchmarks that re-embed."""
    dest = dest or DEFAULT_DEST.with_name("stdlib-" + "-".join(packages))
    if dest.is_dir():
        return dest
    full = ensure_corpus()
    staging = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    for package in packages:
        shutil.copytree(full / package, staging / package, ignore=shutil.ignore_patterns(".aurora"))
    staging.rename(dest)
    return dest


if __name__ == "__main__":
    folder = ensure_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DEST)
    count = sum(1 for _ in folder.rglob("*.py"))
    size = sum(p.stat().st_size for p in folder.rglob("*.py"))
    print(f"{folder}: {count} files, {size / 1e6:.1f} MB")
