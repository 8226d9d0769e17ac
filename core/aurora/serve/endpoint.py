"""Where the warm server of an index root listens, and the files beside its socket.

Every root has one endpoint in the user's private runtime folder
(``$XDG_RUNTIME_DIR/aurora``, else ``/tmp/aurora-UID``), named after a hash of the
root: ``KEY.sock`` (the Unix socket, mode 0600), ``KEY.lock`` (held by the running
server, so that a second one for the same root refuses to start and a client can tell
a stale socket from a live one), ``KEY.json`` (what ``aurora serve --status`` shows
before asking), ``KEY.log`` (the output of a server started in the background) and,
while it serves HTTP, ``KEY.token`` (mode 0600: the secret every HTTP request must carry).
The folder must belong to the user and be closed to everyone else (mode 0700), as
tmux and ssh-agent require of theirs: a socket someone else could have put there is
never used.

Standard library only, and no pathlib: the client path of ``aurora search`` imports it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import zlib

from aurora.common.locks import ProcessLock, held_if_free

#: The longest path a Unix socket address can hold on Linux (sun_path), less its NUL.
MAX_SOCKET_PATH = 107


class EndpointError(Exception):
    """The runtime folder cannot be used safely (someone else's, or open to others)."""


class Endpoint:
    """The socket, lock, info and log files of one root's server."""

    def __init__(self, root: str, folder: str | None = None) -> None:
        self.root = root
        self.folder = folder or runtime_folder()
        name = root.encode("utf-8", "surrogateescape")
        key = f"{zlib.crc32(name):08x}{zlib.adler32(name):08x}"  # zlib, not hashlib, which loads OpenSSL
        base = os.path.join(self.folder, key)
        self.socket, self.lock, self.info, self.log, self.token = (
            base + suffix for suffix in (".sock", ".lock", ".json", ".log", ".token")
        )

    def check_folder(self, create: bool) -> None:
        """Make sure the runtime folder is the user's own and closed to others (creating it if ``create``).

        Raise EndpointError when it is not: the endpoint must then not be used.
        """
        if create:
            try:
                os.makedirs(self.folder, mode=0o700, exist_ok=True)
            except OSError as exc:
                raise EndpointError(f"cannot create {self.folder}: {exc.strerror}") from None
        try:
            info = os.lstat(self.folder)
        except FileNotFoundError:
            raise EndpointError(f"{self.folder} does not exist") from None
        if not stat.S_ISDIR(info.st_mode):
            raise EndpointError(f"{self.folder} is not a folder")
        if info.st_uid != os.getuid():
            raise EndpointError(f"{self.folder} belongs to another user (uid {info.st_uid})")
        if info.st_mode & 0o077:
            raise EndpointError(f"{self.folder} is open to other users (mode {stat.S_IMODE(info.st_mode):o})")
        if len(self.socket) > MAX_SOCKET_PATH:
            raise EndpointError(f"the socket path {self.socket} is too long for a Unix socket")

    def socket_is_ours(self) -> bool:
        """Return whether the socket file exists, is a socket and belongs to this user."""
        try:
            info = os.lstat(self.socket)
        except OSError:
            return False
        return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()

    def pid(self) -> int | None:
        """Return the pid the running server wrote in its info file, or None."""
        import json

        try:
            with open(self.info, encoding="utf-8") as handle:
                pid = json.load(handle)["pid"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return pid if isinstance(pid, int) else None

    def server_running(self) -> bool:
        """Return whether a server holds this root's lock (it is running, starting or stopping)."""
        with held_if_free(self.lock) as free:
            return not free

    def remove_if_stale(self) -> bool:
        """Remove the socket and info file of a server that is gone; return whether it was gone.

        Only while nobody holds the lock: a running server keeps it for its whole life.
        """
        with held_if_free(self.lock) as free:
            if free:
                for path in (self.socket, self.info, self.token):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
            return free

    def write_token(self) -> str:
        """Make a new secret for HTTP clients, write it to the token file (mode 0600, a new file) and return it."""
        import secrets

        token = secrets.token_urlsafe(32)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.token)
        descriptor = os.open(self.token, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(token + "\n")
        return token

    def hold_lock(self, patience_s: float = 0.0) -> ProcessLock:
        """Take the root's lock for a server's whole life, trying for ``patience_s`` seconds; ``release()`` it.

        Raise :class:`~aurora.common.locks.LockHeld` when another server holds it.
        """
        lock = ProcessLock(self.lock, mode=0o600)
        lock.acquire(patience_s)
        return lock


def runtime_folder() -> str:
    """Return the folder that holds the servers' sockets: ``$XDG_RUNTIME_DIR/aurora``, else ``/tmp/aurora-UID``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return os.path.join(runtime, "aurora")
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", f"aurora-{os.getuid()}")
