"""Aurora's per-user folders: where the user configuration and the caches live.

The rule is platformdirs' (``appname="aurora"``, no author folder): an absolute
``$XDG_CONFIG_HOME`` / ``$XDG_CACHE_HOME`` wins (on every platform, as documented; a
relative one is ignored, as the XDG specification says); otherwise the platform's own
folder: ``~/.config/aurora`` and ``~/.cache/aurora`` on Linux and the BSDs,
``~/Library/Application Support/aurora`` and ``~/Library/Caches/aurora`` on macOS, the
local application-data folder (``aurora`` and ``aurora/Cache``) on Windows.

``aurora --help`` and every cold ``aurora search`` read these folders, and importing
platformdirs costs 5-10 ms there (~10 ms alone), ten times the budget of a shared helper
on those paths. So the answers for Linux, the BSDs and macOS are computed here with the
standard library (tests/test_common.py checks that they equal platformdirs' own), and
platformdirs is imported only on the platforms whose folders need system calls to find
(Windows, and mobile ones).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "aurora"

#: Per kind: the XDG variable that overrides it, the XDG default and the macOS default.
_FOLDERS = {
    "config": ("XDG_CONFIG_HOME", "~/.config", "~/Library/Application Support"),
    "cache": ("XDG_CACHE_HOME", "~/.cache", "~/Library/Caches"),
}
#: Platforms whose folders come from platformdirs itself.
_PLATFORMDIRS_ONLY = ("win32", "ios", "android")


def user_config_dir() -> Path:
    """Return Aurora's per-user configuration folder (``$XDG_CONFIG_HOME/aurora``, else the platform's)."""
    return Path(_user_dir("config"))


def user_cache_dir() -> Path:
    """Return Aurora's per-user cache folder (``$XDG_CACHE_HOME/aurora``, else the platform's)."""
    return Path(_user_dir("cache"))


def _user_dir(kind: str) -> str:
    variable, xdg_default, macos_default = _FOLDERS[kind]
    override = os.environ.get(variable, "")
    if os.path.isabs(override):
        return os.path.join(override, APP_NAME)
    if sys.platform in _PLATFORMDIRS_ONLY:
        import platformdirs

        return getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False)
    return os.path.join(os.path.expanduser(macos_default if sys.platform == "darwin" else xdg_default), APP_NAME)
