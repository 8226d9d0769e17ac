"""``python -m aurora``: the same as the ``aurora`` command."""

from aurora.entry import main

main()
