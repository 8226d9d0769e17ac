"""The pip command that installs a missing library, for the hint under a "not installed" error.

Cheap to import (the client path imports :mod:`aurora.errors`, which uses it):
:func:`install_hint` reads distribution metadata, with :mod:`packaging`, only when called.
"""

from __future__ import annotations


def pip_install_extra(distribution: str, extra: str) -> str:
    """Return the command that installs ``distribution`` with its extra ``extra``: ``pip install 'dist[extra]'``."""
    return f"pip install '{distribution}[{extra}]'"


def install_hint(distribution: str | None, missing_module: str | None) -> str:
    """Say which pip command installs ``missing_module`` for ``distribution``, from the extras its metadata declares.

    The extra whose requirements name the module's top-level package when there is one,
    else the package itself; without a distribution, to reinstall the plugin's package.
    """
    if distribution is None or not missing_module:
        return "reinstall the package that provides this plugin"
    from importlib.metadata import PackageNotFoundError, metadata

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    top_level = missing_module.split(".")[0]
    try:
        meta = metadata(distribution)
    except PackageNotFoundError:
        return f"pip install {top_level}"
    wanted = canonicalize_name(top_level)
    for line in meta.get_all("Requires-Dist") or ():
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != wanted or requirement.marker is None:
            continue
        for extra in meta.get_all("Provides-Extra") or ():
            if requirement.marker.evaluate({"extra": extra}):
                return pip_install_extra(distribution, extra)
    return f"pip install {top_level}  (needed by {distribution})"
