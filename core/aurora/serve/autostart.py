"""Start ``aurora serve`` in the background at a search, where that is wanted and safe.

``[server] autostart`` is ``false`` (the default: a search never leaves a process behind
that was not asked for), ``true``, or ``auto``: on an interactive terminal, outside CI (no
``CI`` variable). Only where the runtime folder is private. The server stops by itself
after ``[server] idle_timeout`` seconds without a request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING, TextIO

from aurora.cli import console
from aurora.serve.endpoint import Endpoint, EndpointError

if TYPE_CHECKING:
    from aurora.api import Project


def wanted(setting: object, stdout: TextIO) -> bool:
    """Decide ``[server] autostart``: ``auto`` means on an interactive terminal, outside CI."""
    if setting == "auto":
        return stdout.isatty() and not os.environ.get("CI")
    return setting is True


def maybe_start_server(project: Project, stdout: TextIO) -> bool:
    """Start a server for the project's root in the background unless one runs or it is not wanted.

    Return whether one was started. The search that called this still answers in its own
    process; later ones go to the server.
    """
    if not wanted(project.config.get("server", "autostart"), stdout):
        return False
    endpoint = Endpoint(str(project.root))
    try:
        endpoint.check_folder(create=True)
    except EndpointError:
        return False
    if endpoint.server_running():
        return False
    with open(endpoint.log, "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "aurora", "serve", "--root", str(project.root)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not stopped by the terminal's Ctrl-C, nor ended with this process
            close_fds=True,
        )
    console.note(
        f"started `aurora serve` for {project.root} in the background: later searches use its loaded models "
        "(`aurora serve --stop` stops it; [server] autostart = false turns this off)"
    )
    return True
