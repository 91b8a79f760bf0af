"""The daemon's commands: run it in the foreground, and read its health (status)."""

from __future__ import annotations

import json
import sys

import click

from judge.identity import mask_url
from rjwatch import settings as settings_mod
from rjwatch.commands.common import CommandError, Ctx, command, fail, handled, record_format_option
from rjwatch.output import safe


@command("run")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING"]),
    default="INFO",
    show_default=True,
    help="Log messages of this level and above (to stderr).",
)
@click.pass_obj
@handled
def run_daemon(obj: Ctx, log_level: str) -> None:
    """Run the monitoring daemon in the foreground: polls, crawls, alerts, digest, housekeeping.

    Logs go to stderr. One daemon per database; SIGTERM/SIGINT stop it cleanly (a second signal
    forces), SIGHUP reloads the config and the sources. See docs/rjwatch.service for systemd.

    Example:

    \b
        rjwatch run
    """
    import logging

    from scheduler.alerts import AlertConfigError, channels_from_config, install_log_masking
    from scheduler.daemon import AlreadyRunning, Daemon
    from storage.schema import migrate

    logging.basicConfig(level=log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()  # channel secrets never reach the log, whatever the level
    # "skipped: maximum number of running instances reached" is the no-overlap rule working, not news.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    try:
        channels_from_config(obj.cfg)
    except AlertConfigError as exc:
        raise CommandError(str(exc)) from None
    obj.db(create=True)
    migrate(obj.db())
    daemon = Daemon(obj.path, obj.cfg, config_loader=lambda: settings_mod.load(obj.config_path, {"db": obj.db_path}))
    try:
        daemon.run()
    except AlreadyRunning as exc:
        fail(str(exc))


@command()
@record_format_option()
@click.pass_obj
@handled
def status(obj: Ctx, fmt: str) -> None:
    """The daemon's health: heartbeat age, last result of each job, failing sources, alerts.

    Example:

    \b
        rjwatch status
    """
    from scheduler.daemon import status as daemon_status
    from storage.queries import counts_by_status

    st = daemon_status(obj.db())
    st["posts"] = counts_by_status(obj.db())
    for c in st["crawls"]:
        c["url"] = mask_url(c["url"])
    st = safe(st)
    if fmt == "json":
        click.echo(json.dumps(st, ensure_ascii=False, indent=2, default=str))
        return
    hb, dm = st["heartbeat"], st["daemon"]
    if dm["running"]:
        click.echo(f"daemon: running, heartbeat {hb['age_s']} s ago (pid {hb['pid']})")
    elif hb:
        click.echo(f"daemon: not running (last seen {dm['last_seen']}, {dm['why']})")
    else:
        click.echo("daemon: never ran on this database")
    click.echo("posts: " + (", ".join(f"{k} {v}" for k, v in sorted(st["posts"].items())) or "none"))
    click.echo(
        "alerts: "
        + (", ".join(f"{k} {v}" for k, v in sorted(st["alerts"].items())) or "none")
        + "; deliveries: "
        + (", ".join(f"{k} {v}" for k, v in sorted(st["deliveries"].items())) or "none")
    )
    next_runs = (hb or {}).get("next_runs") or {}
    for name in sorted(set(st["jobs"]) | set(next_runs)):
        job = st["jobs"].get(name) or {}
        if job.get("outcome") == "running":
            click.echo(f"job {name}: next {next_runs.get(name) or '-'}; running (run #{job.get('run')})")
            continue
        click.echo(
            f"job {name}: next {next_runs.get(name) or '-'}; last {job.get('finished') or 'never'} "
            f"{job.get('outcome') or ''}"
        )
    click.echo(f"next feed poll due: {st['next_poll_due'] or 'now'}")
    for c in st["crawls"]:
        click.echo(
            f"blog #{c['id']} {c['url']}: last crawl {c['last_crawl'] or 'never'}, backfill "
            f"{'complete' if c['backfill_complete'] else 'not complete'}"
        )
    if st.get("rejudge_needed"):
        click.echo(
            f"rejudge: {st['rejudge_needed']} post(s) were judged under another topic profile or other seeds; "
            "run `rjwatch rejudge` (`--dry-run` shows what would change)"
        )
    for f in st["failing_sources"]:
        click.echo(
            f"FAILING source #{f['id']} {f['url']}: {f['consecutive_failures']} in a row, "
            f"last error {f['last_error'] or f['disabled_reason']}"
        )


COMMANDS = [run_daemon, status]
