"""Layered configuration: precedence, provenance, validation, and `aurora config show`."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write

from aurora.config import layers as config
from aurora.errors import ConfigError


@pytest.fixture
def layered(tmp_path: Path, isolated_env: Path) -> Path:
    """A project with a user file, [tool.aurora] in pyproject.toml and aurora.toml."""
    write(
        isolated_env / "config",
        {"aurora/config.toml": "[search]\nlimit = 7\nsnippet_lines = 5\n[index]\nhidden = true\n"},
    )
    root = tmp_path / "proj"
    write(
        root,
        {
            "pyproject.toml": (
                '[project]\nname = "x"\n[tool.aurora.search]\nlimit = 8\n[tool.aurora.index]\nexclude = ["gen/"]\n'
            ),
            "aurora.toml": '[search]\nlimit = 9\n[pipelines.default.lexical]\nplugin = "bm25s"\nk1 = 1.5\n',
        },
    )
    return root


def test_later_sources_override_single_keys(layered: Path) -> None:
    loaded = config.load(layered)
    assert loaded.get("search", "limit") == 9
    assert loaded.get("search", "snippet_lines") == 5
    assert loaded.get("index", "hidden") is True
    assert loaded.get("index", "exclude") == ["gen/"]
    assert loaded.get("index", "max_file_size") == 1_048_576


def test_every_value_knows_its_source(layered: Path, isolated_env: Path) -> None:
    loaded = config.load(layered)
    assert loaded.source("search", "limit") == str(layered / "aurora.toml")
    assert loaded.source("index", "exclude") == f"{layered / 'pyproject.toml'} [tool.aurora]"
    assert loaded.source("search", "snippet_lines") == str(isolated_env / "config" / "aurora" / "config.toml")
    assert loaded.source("index", "window_lines") == config.BUILTIN


def test_pipeline_role_shorthand_and_plugin_options(layered: Path) -> None:
    write(layered, {"aurora.toml": '[pipelines.fast]\nlexical = "bm25s"\nmode = "lexical"\n'})
    loaded = config.load(layered)
    assert loaded.pipeline_names() == ["default", "fast"]
    assert loaded.pipeline("fast").roles["lexical"].plugin == "bm25s"
    assert loaded.pipeline().name == "default"


def test_default_pipeline_must_exist(layered: Path) -> None:
    write(layered, {"aurora.toml": 'default_pipeline = "missing"\n'})
    with pytest.raises(ConfigError, match="unknown pipeline 'missing'; available: default"):
        config.load(layered).pipeline()


def test_window_overlap_must_be_smaller_than_window(layered: Path) -> None:
    write(layered, {"aurora.toml": "[index]\nwindow_lines = 10\nwindow_overlap = 10\n"})
    with pytest.raises(ConfigError, match="window_overlap must be smaller"):
        config.load(layered)


def test_options_without_plugin_are_refused(layered: Path) -> None:
    write(layered, {"aurora.toml": "[pipelines.other.lexical]\nk1 = 1.0\n"})
    with pytest.raises(ConfigError, match="has options but no plugin"):
        config.load(layered).pipeline("other")


def test_config_show_lists_values_with_sources(layered: Path, cli) -> None:
    done = cli("config", "show", cwd=layered)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("search.limit = 9") and line.endswith(f"# {layered / 'aurora.toml'}") for line in lines)
    assert any(
        line.startswith("pipelines.default.lexical.b = 0.75") and line.endswith("# default of plugin bm25s")
        for line in lines
    )
    document = cli.json("config", "show", cwd=layered)
    assert document["values"]["pipelines.default.lexical.k1"] == {
        "value": 1.5,
        "source": str(layered / "aurora.toml"),
    }


def test_config_show_with_backend_replaces_the_role(layered: Path, cli) -> None:
    document = cli.json("config", "show", "--backend", "fts5", cwd=layered)
    values = document["values"]
    assert values["pipelines.default.lexical.plugin"] == {"value": "fts5", "source": "command line"}
    assert "pipelines.default.lexical.k1" not in values
    assert values["pipelines.default.lexical.tokenizer"]["source"] == "default of plugin fts5"
