"""`rjwatch recheck`: check the pages of stored copies again (removed? revised?) and, when it is on,
submit copies to the web archive; the daemon's `recheck` job does the same on its schedule."""

from __future__ import annotations

import json
import sys

import click

from rjwatch.commands.common import EXIT_FAILED, CommandError, Ctx, command, handled, record_format_option, row_id
from rjwatch.output import safe


@command("recheck")
@click.argument("ids", type=row_id(), nargs=-1, metavar="[ID]...")
@click.option(
    "--all", "every", is_flag=True, help="Check every post of `recheck_statuses` now, due or not, however old."
)
@record_format_option()
@click.pass_obj
@handled
def recheck(obj: Ctx, ids: tuple[int, ...], every: bool, fmt: str) -> None:
    """Check the pages of stored copies that are due (daily for a week after a copy was first seen,
    then weekly until a month), or of the posts ID... whatever their status and schedule.

    A page answering 404/410 marks its post removed, a page that changed substantially (or no longer
    carries the seed as before) marks it revised and keeps the earlier version; each sends one alert.
    A page that did not answer is a failed check and changes nothing. With `archive_submit_url` set,
    copies not yet archived are submitted too. The exit code is non-zero when every check failed.

    Example:

    \b
        rjwatch recheck
        rjwatch recheck 42 57
        rjwatch recheck --all --format json
    """
    from crawler.recheck import Rechecker
    from storage.checks import missing_ids

    db = obj.db()
    if ids and every:
        raise CommandError("give post ids or --all, not both")
    missing = missing_ids(db, ids) if ids else []
    if missing:
        raise CommandError(f"no post #{missing[0]} (see `rjwatch posts`)")
    summary = Rechecker(db, obj.cfg).run(ids=ids, every=every)
    if fmt == "json":
        click.echo(json.dumps(safe(summary.as_dict()), ensure_ascii=False))
    else:
        click.echo(summary.line())
    if summary.checked and summary.failed == summary.checked:
        sys.exit(EXIT_FAILED)  # nothing answered: the causes are in each post's checks (rjwatch show)


COMMANDS = [recheck]
