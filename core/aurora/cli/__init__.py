"""The ``aurora`` command line: the typer app and what it prints (console lines, progress, results, stats)."""
