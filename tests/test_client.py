"""The client path's own argument reader agrees with the typer command it stands in for."""

from __future__ import annotations

import pytest
import typer.main

from aurora.cli.app import app
from aurora.serve.client import OPTIONS, parse_search


def typer_search_options() -> set[str]:
    command = typer.main.get_command(app).commands["search"]  # type: ignore[attr-defined]
    names = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    return {name for name in names if name.startswith("-")} - {"-h", "--help"}


def test_the_reader_knows_every_option_of_aurora_search_and_no_other() -> None:
    assert OPTIONS == typer_search_options()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["parse config"], {"query": "parse config", "color": "auto"}),
        (
            ["-n", "5", "--mode=hybrid", "x", "--json", "-b", "fastembed", "--no-wait", "--wait-timeout", "2.5"],
            {
                "query": "x",
                "limit": 5,
                "mode": "hybrid",
                "json": True,
                "backend": "fastembed",
                "wait": False,
                "wait_timeout": 2.5,
                "color": "auto",
            },
        ),
        (["--", "-starts-with-a-dash"], {"query": "-starts-with-a-dash", "color": "auto"}),
        (
            ["-l", "--explain", "-C", "/srv", "--color", "never", "q"],
            {"query": "q", "files": True, "explain": True, "root": "/srv", "color": "never"},
        ),
    ],
)
def test_plain_arguments_are_read(argv: list[str], expected: dict) -> None:
    assert parse_search(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no query
        ["a", "b"],  # two queries
        ["-h"],
        ["--help"],
        ["x", "--limit", "0"],
        ["x", "-n", "ten"],
        ["x", "-n5"],
        ["x", "--mode", "fuzzy"],
        ["x", "--color", "sometimes"],
        ["x", "--wait-timeout", "soon"],
        ["x", "--frobnicate"],
        ["x", "--json=yes"],
        ["x", "--limit"],  # a value is missing
    ],
)
def test_anything_unusual_is_left_to_typer(argv: list[str]) -> None:
    assert parse_search(argv) is None
