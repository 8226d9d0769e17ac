"""Commands that plugins contribute to the command line, imported only when they run.

A distribution contributes a command with an entry point in the ``aurora.command`` group
named ``GROUP.COMMAND``: ``models.distill`` adds ``aurora models distill`` to a group
built with :class:`PluginCommandGroup` (today ``aurora models``). The entry point's value
names a function that typer turns into a command (its parameters are the command's
arguments and options) or a ``typer.Typer`` app.

Such a group lists the commands contributed to it from entry-point metadata only (cached,
see :mod:`aurora.host.registry`), and imports one when it is invoked. So ``aurora --help``,
which does not list a group's commands, and every built-in command cost what they did
before, and no plugin module is imported until its command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from aurora.cli import console
from aurora.errors import EXIT_INTERRUPTED, AuroraError, PluginLoadError

if TYPE_CHECKING:
    from aurora.host.registry import PluginEntry

#: A typer command or group. Their classes derive from click's (vendored by typer 0.28): this
#: module does not import click, which alone would add ~10 ms to every command.
Command = Any


class PluginCommandGroup(TyperGroup):
    """A typer command group that also offers the commands plugins contribute to it.

    Use it with ``typer.Typer(cls=PluginCommandGroup)``. A built-in command wins over a
    contributed one of the same name. A contributed command's :class:`AuroraError` is
    reported like a built-in's: one line on stderr and its exit code.
    """

    def list_commands(self, ctx: typer.Context) -> list[str]:
        """Return the built-in commands, then the contributed ones (metadata only)."""
        builtin = super().list_commands(ctx)
        return builtin + sorted(name for name in contributed(ctx) if name not in self.commands)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Command | None:
        """Return the built-in command ``cmd_name``, or a stand-in for a contributed one (nothing imported)."""
        command = super().get_command(ctx, cmd_name)
        if command is None:
            entry = contributed(ctx).get(cmd_name)
            command = ContributedCommand(cmd_name, entry) if entry is not None else None
        return command

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        """Find the command being invoked, importing a contributed one."""
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, ContributedCommand):
            command = command.load()
        return name, command, rest

    def invoke(self, ctx: typer.Context) -> Any:
        """Run the group and its command; a user-fixable error is one line on stderr, never a traceback."""
        try:
            return super().invoke(ctx)
        except AuroraError as exc:
            console.error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            console.error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None


class ContributedCommand(TyperCommand):
    """Stands for a plugin's command in a group's listing, without importing the plugin."""

    def __init__(self, name: str, entry: PluginEntry) -> None:
        origin = f"{entry.distribution} {entry.version}" if entry.distribution else entry.value
        super().__init__(name, short_help=f"From {origin} (see --help).", add_help_option=False)
        self.entry = entry

    def load(self) -> Command:
        """Import the plugin's command and return it as a typer (click) command."""
        from aurora.host.registry import PluginHost

        target = PluginHost().load("command", self.entry.name).obj
        if isinstance(target, typer.Typer):
            return typer.main.get_command(target)
        if callable(target):
            app = typer.Typer(rich_markup_mode=None, add_completion=False)
            app.command(self.name)(target)
            return typer.main.get_command(app)
        raise PluginLoadError(
            f"command plugin '{self.entry.name}': {self.entry.value} is not a command",
            hint="the plugin's package is broken; reinstall or report it",
        )


def contributed(ctx: typer.Context) -> dict[str, PluginEntry]:
    """Return the installed commands contributed to the group of ``ctx``, by command name (metadata only)."""
    from aurora.host.registry import discover

    group = []
    while ctx.parent is not None:  # the root context is the program itself
        group.append(ctx.info_name or "")
        ctx = ctx.parent
    prefix = ".".join(reversed(group))
    found = {}
    for entry in discover("command"):
        parent, _, name = entry.name.rpartition(".")
        if parent == prefix and name:
            found[name] = entry
    return found
