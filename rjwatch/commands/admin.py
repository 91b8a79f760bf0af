"""The commands around the database and the config: init, settings, and the demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from judge.identity import mask_url
from rjwatch import settings as settings_mod
from rjwatch.commands.common import Ctx, command, fail, handled
from rjwatch.commands.seeds import add_seed_from
from rjwatch.commands.sources import shown_setting
from rjwatch.output import safe


@command()
@click.pass_obj
@handled
def init(obj: Ctx) -> None:
    """Create or upgrade the database and load the seed and the topic profile. Safe to repeat.

    Example:

    \b
        rjwatch init
    """
    from rjwatch.bootstrap import initialise, register_config_sources

    created_now = not obj.path.exists()
    try:
        db = obj.db(create=True)
        done = initialise(db, obj.cfg["topic"] or None)
    except BaseException:
        if created_now:
            obj.discard_new_database()  # a full disk must not leave a 0-byte or half-made database behind
        raise
    applied, profile, art = done["applied"], done["profile"], done["seed"]
    seed_id, created = done["seed_id"], done["seed_created"]
    extra = [add_seed_from(obj, ref) for ref in obj.cfg["seeds"]]
    config_sources = register_config_sources(db, obj.cfg)
    click.echo(f"database {obj.path}: " + (f"applied {', '.join(applied)}" if applied else "schema up to date"))
    click.echo(f"topic: {profile.name} ({profile.source})")
    click.echo(f"seed #{seed_id}: {art['title']} ({art['published']})" + ("" if created else " [already loaded]"))
    for sid, title, made in extra:
        click.echo(f"seed #{sid}: {safe(title)}" + ("" if made else " [already loaded]"))
    if config_sources:
        new = sum(1 for _, _, made, _ in config_sources if made)
        click.echo(f"sources from the config: {len(config_sources)} ({new} new)")
    for sid, url, _, changes in config_sources:
        if changes:
            changed = ", ".join(f"{f} {shown_setting(f, old)} -> {shown_setting(f, new)}" for f, old, new in changes)
            click.echo(f"source #{sid} {safe(mask_url(url))}: {changed}")


@command("settings")
@click.option("--markdown", is_flag=True, help="Print the settings table as Markdown (docs/settings.md).")
@click.pass_obj
@handled
def settings_cmd(obj: Ctx, markdown: bool) -> None:
    """Show every setting with its current value and where it can be set.

    Example:

    \b
        rjwatch settings
    """
    if markdown:
        click.echo(settings_mod.markdown_table(), nl=False)
        return
    cfg = obj.cfg
    click.echo(f"config file: {cfg.path or '(none)'}")
    for s in settings_mod.SETTINGS:
        click.echo(f"{s.name} = {cfg[s.name]!r}    [{s.env}] {s.help}")


@command()
@click.option(
    "--dir",
    "folder",
    default="demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the demo's database, config and logs (a previous demo there is replaced).",
)
@click.option(
    "--duration",
    default="45s",
    show_default=True,
    metavar="DURATION",
    help="About how long the daemon runs (it ends sooner only if the demo fails).",
)
@click.option("--keep-running", is_flag=True, help="Leave the network and the daemon up after the summary.")
@click.option(
    "--port",
    type=click.IntRange(0, 65000),
    default=0,
    help="First of the consecutive ports the sites and the webhook use (default: any free ports).",
)
@click.option("--plain", is_flag=True, help="Plain status lines, even on a terminal.")
@click.pass_obj
@handled
def demo(obj: Ctx, folder: str, duration: str, keep_running: bool, port: int, plain: bool) -> None:
    """Watch a local demo network of blogs and a news feed with the real daemon, in about a minute.

    Serves five Blogger-style blogs and a news RSS feed on 127.0.0.1, runs `rjwatch run` on them
    with accelerated intervals, publishes two posts midway so that alerts fire live (console and a
    local webhook), then prints a summary. The database stays behind to query (`--db` names it;
    default DIR/rjwatch.db).

    Example:

    \b
        rjwatch demo
    """
    from rjwatch.demo.runner import DemoError, DemoOptions, run_demo

    opts = DemoOptions(
        folder=Path(folder),
        db=Path(obj.db_path) if obj.db_path else None,
        duration=settings_mod.parse_duration(duration),
        keep_running=keep_running,
        port=port,
        fancy=False if plain else None,
    )
    try:
        code = run_demo(opts)
    except DemoError as exc:
        fail(str(exc))
    sys.exit(code)


COMMANDS = [init, settings_cmd, demo]
