"""``python -m aurora``: the same as the ``aurora`` command."""

from aurora.cli import main

main()
