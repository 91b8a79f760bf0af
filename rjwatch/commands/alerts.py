"""`rjwatch alerts`: the alert outbox (what was sent, what waits, what failed), test messages, retries."""

from __future__ import annotations

import json
import re
import sys

import click

from rjwatch.commands.common import (
    EXIT_FAILED,
    CommandError,
    Ctx,
    Output,
    group,
    handled,
    limit_option,
    output_options,
    row_id,
    status_option,
)
from rjwatch.output import safe

#: The states of an alert in the outbox.
ALERT_STATUSES = ("pending", "sent", "failed", "suppressed")
#: The columns `alerts` prints, in every format.
ALERT_COLUMNS = ("id", "kind", "status", "created_at", "sent_at", "title", "deliveries", "key", "post_id", "last_error")
#: The `[kind] ` a message title starts with: the list has a kind column of its own.
_KIND_PREFIX = re.compile(r"^\[[^\]]*\]\s*")


@group(invoke_without_command=True)
@status_option(ALERT_STATUSES, what="alerts")
@limit_option(50, help_text="At most this many alerts (newest first).")
@output_options(ALERT_COLUMNS)
@click.pass_context
def alerts(ctx: click.Context, status: str | None, limit: int, out: Output) -> None:
    """The alert outbox: what was sent, what waits, what failed (and why).

    Example:

    \b
        rjwatch alerts --status failed
    """
    if ctx.invoked_subcommand is not None:
        return
    obj: Ctx = ctx.obj

    @handled
    def body():
        from storage.outbox import list_alerts

        rows = list_alerts(obj.db(), status=status, limit=limit)
        for r in rows:
            payload = r.pop("payload")
            if not r["title"]:
                r["title"] = _derived_title(obj.db(), r, payload)
        out.emit(rows)

    body()


def _derived_title(db, alert: dict, payload: str) -> str:
    """The title of an alert about no post (a backfill, an anomaly, a failing source): the one its
    message carries, without the `[kind]` the list shows in its own column."""
    from scheduler.alerts import render

    try:
        title, _ = render(db, {**alert, "payload": json.loads(payload or "{}")})
    except (ValueError, TypeError, KeyError, AttributeError):
        return f"({alert['kind']})"
    return _KIND_PREFIX.sub("", title) or f"({alert['kind']})"


@alerts.command("test")
@click.option("--channel", metavar="NAME", help="Only this channel (by name).")
@click.pass_obj
@handled
def alerts_test(obj: Ctx, channel: str | None) -> None:
    """Send a test message to every configured channel (or one).

    Example:

    \b
        rjwatch alerts test --channel team
    """
    from scheduler.alerts import AlertConfigError, channels_from_config, install_log_masking

    install_log_masking()
    try:
        chans = channels_from_config(obj.cfg)
    except AlertConfigError as exc:
        raise CommandError(str(exc)) from None
    if channel:
        chans = [c for c in chans if c.name == channel]
        if not chans:
            raise CommandError(f"no channel named {channel!r} (see [[alerts.channels]] in the config)")
    failed = False
    for c in chans:
        try:
            c.send("rjwatch test message", "If you can read this, alerts reach this channel.", f"test-{c.name}")
            click.echo(f"{c.name} ({c.masked}): sent")
        except Exception as exc:
            failed = True
            click.echo(f"{c.name} ({c.masked}): FAILED: {safe(str(exc))}", err=True)
    if failed:
        sys.exit(EXIT_FAILED)


@alerts.command("retry")
@click.argument("alert_id", type=row_id())
@click.pass_obj
@handled
def alerts_retry(obj: Ctx, alert_id: int) -> None:
    """Put the failed alert ALERT_ID back in the queue (the daemon delivers it on its next pass).

    Example:

    \b
        rjwatch alerts retry 12
    """
    from storage.outbox import requeue_failed

    outcome = requeue_failed(obj.db(), alert_id)
    if outcome is None:
        raise CommandError(f"no alert #{alert_id}")
    if outcome != "queued":
        raise CommandError(f"alert #{alert_id} is {outcome}, not failed: nothing to retry")
    click.echo(f"alert #{alert_id} queued again")


COMMANDS = [alerts]
