"""The tree walk: ignore files, hidden entries, size limit, symlinks, unreadable folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write

from aurora.index.walker import FoundFile, Skipped, WalkSettings, walk


def walked(root: Path, **settings) -> tuple[list[str], list[tuple[str, str]]]:
    items = list(walk(root, WalkSettings(**settings)))
    files = [item.path for item in items if isinstance(item, FoundFile)]
    skipped = [(item.path, item.reason) for item in items if isinstance(item, Skipped)]
    return files, skipped


def test_nested_ignore_files_and_negation(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\n",
            "keep.py": "",
            "debug.log": "",
            "build/out.py": "",
            "sub/.gitignore": "!important.log\nlocal_only.py\n",
            "sub/important.log": "",
            "sub/other.log": "",
            "sub/local_only.py": "",
            "sub/deeper/local_only.py": "",
            "docs/.auroraignore": "drafts/\n",
            "docs/drafts/wip.md": "",
            "docs/final.md": "",
        },
    )
    files, skipped = walked(tmp_path)
    assert files == ["docs/final.md", "keep.py", "sub/important.log"]
    assert skipped == []


def test_git_info_exclude_and_configured_patterns(tmp_path: Path) -> None:
    write(tmp_path, {".git/info/exclude": "secret.txt\n", "secret.txt": "", "a.py": "", "vendor/lib.py": ""})
    assert walked(tmp_path, exclude=["vendor/"])[0] == ["a.py"]


def test_hidden_entries_only_when_asked(tmp_path: Path) -> None:
    write(tmp_path, {".github/workflows/ci.yml": "", ".env": "", "a.py": "", ".git/config": ""})
    assert walked(tmp_path)[0] == ["a.py"]
    assert walked(tmp_path, hidden=True)[0] == [".env", ".github/workflows/ci.yml", "a.py"]


def test_files_over_the_size_limit_are_reported(tmp_path: Path) -> None:
    write(tmp_path, {"small.txt": "x" * 10, "big.txt": "x" * 2000})
    files, skipped = walked(tmp_path, max_file_size=1000)
    assert files == ["small.txt"]
    assert skipped == [("big.txt", "too large (2,000 bytes > 1,000)")]


def test_symlinks_are_skipped_unless_followed_and_loops_are_reported(tmp_path: Path) -> None:
    write(tmp_path, {"real/a.py": ""})
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "alias.py").symlink_to(tmp_path / "real" / "a.py")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    assert walked(tmp_path) == (["real/a.py"], [])
    files, skipped = walked(tmp_path, follow_symlinks=True)
    assert files == ["alias.py", "real/a.py"]
    assert skipped == [("dangling.py", "broken symbolic link"), ("real/loop", "symlink loop")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any folder")
def test_unreadable_folder_is_reported_not_fatal(tmp_path: Path) -> None:
    write(tmp_path, {"locked/secret.py": "", "open.py": ""})
    (tmp_path / "locked").chmod(0)
    try:
        files, skipped = walked(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert files == ["open.py"]
    assert skipped == [("locked", "cannot list: Permission denied")]


def test_folder_that_cannot_be_listed_is_reported_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"locked/secret.py": "", "open.py": ""})
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert walked(tmp_path) == (["open.py"], [("locked", "cannot list: Permission denied")])


def test_ignore_files_above_the_root_apply_up_to_the_repository_top(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "repo/.git/info/exclude": "local.txt\n",
            "repo/.gitignore": "*.log\n/sub/app/generated/\n",
            "repo/sub/.gitignore": "secret.py\n",
            "repo/sub/app/x.log": "",
            "repo/sub/app/local.txt": "",
            "repo/sub/app/secret.py": "",
            "repo/sub/app/generated/out.py": "",
            "repo/sub/app/main.py": "",
        },
    )
    (tmp_path / ".gitignore").write_text("main.py\n")  # above the repository: not applied
    assert walked(tmp_path / "repo" / "sub" / "app") == (["main.py"], [])


def test_gitignore_is_honoured_outside_a_repository_too(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "*.tmp\n", "a.tmp": "", "b.md": ""})
    assert walked(tmp_path)[0] == ["b.md"]


def test_file_name_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"ok.py": ""})
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt"), "w") as handle:
        handle.write("x")
    assert walked(tmp_path) == (["ok.py"], [("caf\\xe9.txt", "name is not valid UTF-8")])


def test_an_explicitly_indexed_folder_is_not_ignored_by_the_rules_above_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "repo/.git/HEAD": "",
            "repo/.gitignore": "vendor/\n*.log\n",
            "repo/vendor/lib/a.py": "",
            "repo/vendor/lib/b.log": "",
        },
    )
    assert walked(tmp_path / "repo")[0] == []
    assert walked(tmp_path / "repo" / "vendor" / "lib")[0] == ["a.py"]


def test_never_indexed_rules_out_only_what_a_walk_leaves_out(tmp_path: Path) -> None:
    from aurora.index.walker import NeverIndexed

    root = tmp_path / "p"
    files = {
        ".gitignore": "build/\n*.log\n!keep.gen.py\n",
        "src/a.py": "x = 1\n",
        "src/.gitignore": "!keep.log\n!build/\n",  # a folder's rules bring back what the root's leave out
        "src/keep.log": "kept\n",
        "src/build/b.py": "y = 2\n",
        "keep.gen.py": "z = 3\n",  # excluded by [index] exclude, brought back by the root's .gitignore
        "other.gen.py": "w = 4\n",
        "build/x.o": "o",
        "debug.log": "log",
        ".venv/.gitignore": "*\n",
        "node/.cache/y": "c",
    }
    write(root, files)
    settings = WalkSettings(exclude=("*.gen.py",))
    never = NeverIndexed(root, settings)
    indexed = {found.path for found in walk(root, settings) if isinstance(found, FoundFile)}
    assert indexed == {"src/a.py", "src/keep.log", "src/build/b.py", "keep.gen.py"}
    for path in files:
        if path in indexed or path in (".gitignore", "src/.gitignore"):
            assert not never(path), path  # indexed, or an ignore file the walk reads
        else:
            assert never(path), path  # left out, and so is an ignore file inside a hidden folder
    assert never("src/.aurora/db") and never("pkg/__pycache__/m.pyc") and not never("src/new.py")
    assert not NeverIndexed(root, WalkSettings(hidden=True))(".github/workflows/ci.yml")
    (root / ".gitignore").write_text("*.tmp\n", encoding="utf-8")
    assert never("build/x.o")  # the rules read at the start, until refreshed
    never.refresh()
    assert not never("build/x.o") and never("a.tmp")
