"""Imported by the fork server of the index workers, so that every worker starts with Ctrl-C ignored.

Ctrl-C at a terminal reaches every process of the group; the indexing process alone acts
on it (:mod:`aurora.index.reading`). A worker inherits the fork server's handlers, so
with this the window before a worker's own set-up runs is covered too.
"""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
