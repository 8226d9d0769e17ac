"""Plumbing shared by every subsystem, written once.

- :mod:`~aurora.common.layout`: where an index lives (``.aurora/``) and how to find it;
- :mod:`~aurora.common.dirs`: the per-user configuration and cache folders;
- :mod:`~aurora.common.atomic`: files and folders written atomically;
- :mod:`~aurora.common.locks`: exclusive locks between processes;
- :mod:`~aurora.common.sqlite`: what an SQLite error means, and the user's error for it;
- :mod:`~aurora.common.hints`: the pip command that installs a missing library.

Importing any of them loads the standard library only (``sqlite`` adds :mod:`aurora.errors`).
"""
