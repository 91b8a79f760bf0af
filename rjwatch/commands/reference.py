"""The command-line reference (docs/cli.md), generated from the `--help` of every command.

    python -m rjwatch.commands.reference > docs/cli.md

A test compares docs/cli.md with `reference()`, so the reference cannot drift from the commands.
The help is rendered at a fixed width (`HELP_WIDTH`), whatever the terminal.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from rjwatch.commands.common import HELP_WIDTH

REGENERATE = "python -m rjwatch.commands.reference > docs/cli.md"
HEADER = f"""# Command-line reference

Generated from the `--help` of every command by `{REGENERATE}`; do not edit by hand.
Every command also takes `--db PATH` and `--config PATH`, before or after its name
(`rjwatch --db x search Kuril` is `rjwatch search Kuril --db x`).
"""


def _contexts(command: click.Command, parent: click.Context | None, name: str) -> Iterator[click.Context]:
    """A context for this command and, depth first in name order, for each of its subcommands."""
    settings = {**command.context_settings, "terminal_width": HELP_WIDTH, "max_content_width": HELP_WIDTH}
    ctx = click.Context(command, parent=parent, info_name=name, **settings)
    yield ctx
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            yield from _contexts(command.get_command(ctx, sub), ctx, sub)


def reference() -> str:
    """docs/cli.md: one section per command, each with the command's help as `--help` prints it."""
    from rjwatch.commands import main

    parts = [HEADER]
    for ctx in _contexts(main, None, "rjwatch"):
        parts.append(f"\n## {ctx.command_path}\n\n```\n{ctx.get_help()}\n```\n")
    return "".join(parts)


if __name__ == "__main__":  # pragma: no cover
    click.echo(reference(), nl=False)
