"""Validation of configuration values against :class:`~aurora.host.contract.Option` declarations.

Used for the host's own settings and for every plugin's options, so that all errors
read the same: ``<file>: <key> = <value>: <what is wrong>; allowed: <what is allowed>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from aurora.errors import ConfigError
from aurora.host.contract import Option

_KIND_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string", list: "a list of strings"}


def describe_allowed(option: Option) -> str:
    """Say in words which values ``option`` accepts."""
    if option.choices is not None:
        return ", ".join(_format(c) for c in option.choices)
    if option.pattern is not None:
        return option.help
    text = _KIND_NAMES.get(option.kind, option.kind.__name__)
    if option.minimum is not None and option.maximum is not None:
        text += f" from {option.minimum:g} to {option.maximum:g}"
    elif option.minimum is not None:
        text += f" >= {option.minimum:g}"
    elif option.maximum is not None:
        text += f" <= {option.maximum:g}"
    return text


def check_value(key: str, value: Any, option: Option, source: str) -> Any:
    """Return ``value`` if ``option`` accepts it (ints widened to floats), else raise ConfigError."""
    checked = _coerce(value, option.kind)
    problem = None
    if checked is None:
        problem = f"expected {_KIND_NAMES.get(option.kind, option.kind.__name__)}"
    elif isinstance(checked, float) and not math.isfinite(checked):
        problem = "not a finite number"
    elif option.choices is not None and not any(type(c) is type(checked) and c == checked for c in option.choices):
        problem = "not an allowed value"
    elif option.minimum is not None and checked < option.minimum:
        problem = "too small"
    elif option.maximum is not None and checked > option.maximum:
        problem = "too large"
    elif option.pattern is not None and not re.fullmatch(option.pattern, checked):
        problem = "not an allowed value"
    if problem:
        raise ConfigError(f"{source}: {key} = {_format(value)}: {problem}; allowed: {describe_allowed(option)}")
    return checked


def resolve(prefix: str, declared: Mapping[str, Option], given: Mapping[str, tuple[Any, str]]) -> dict[str, Any]:
    """Validate ``given`` (key -> (value, source)) against ``declared`` and fill in defaults.

    ``prefix`` is the dotted table the keys live in, used in error messages.
    """
    resolved = {name: option.default for name, option in declared.items()}
    for name, (value, source) in given.items():
        key = f"{prefix}.{name}" if prefix else name
        if name not in declared:
            allowed = ", ".join(sorted(declared)) or "none"
            raise ConfigError(f"{source}: unknown key {key}; allowed here: {allowed}")
        resolved[name] = check_value(key, value, declared[name], source)
    return resolved


def _coerce(value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool):
        return None
    if kind is object:  # any of the choices, whatever their types
        return value
    if kind is list:
        return list(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else None
    return value if isinstance(value, kind) else None


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
