"""`rjwatch rejudge`: judge stored posts again under the current profile, seeds and thresholds."""

from __future__ import annotations

import json
import sys

import click

from rjwatch.commands.common import (
    POST_STATUSES,
    Ctx,
    command,
    format_option,
    handled,
    row_id,
    since_option,
    source_option,
    status_option,
    when,
)
from rjwatch.output import safe

#: Changed posts listed one by one under the from -> to table (the counts cover them all).
SHOWN_POSTS = 50


@command("rejudge")
@source_option()
@since_option()
@click.option("--until", metavar="WHEN", help="Published (else first seen) before this.")
@status_option(POST_STATUSES, multiple=True, what="posts whose current status is this")
@click.option("--id", "ids", type=row_id(), multiple=True, metavar="ID", help="Only this post (repeatable).")
@click.option(
    "--force",
    is_flag=True,
    help="Judge every selected post again from its text, even those judged under the current rules already.",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--alert", is_flag=True, help="Queue one alert for each post that newly qualifies (new, copy, excerpt).")
@click.option("--workers", type=click.IntRange(0, 8), help="Analysis worker processes (default: by size and cores).")
@format_option(("table", "json"), default="table")
@click.pass_obj
@handled
def rejudge(
    obj: Ctx,
    source_ref: str | None,
    since: str | None,
    until: str | None,
    status: tuple[str, ...],
    ids: tuple[int, ...],
    force: bool,
    dry_run: bool,
    alert: bool,
    workers: int | None,
    fmt: str,
) -> None:
    """Judge stored posts again under the current topic profile, seeds and thresholds.

    Run it after `seed add`, `seed remove`, a new topic profile (`init --topic`) or new analyst
    marks (it learns from them first, as `rjwatch learn`): posts judged under other rules are
    re-judged from their stored text (nothing is fetched); posts with a mark keep it. Each batch is
    committed on its own, so an interrupted run is resumed by running it again. Posts that stop
    qualifying send nothing; posts that newly qualify alert only with --alert, once each.

    Example:

    \b
        rjwatch rejudge --dry-run
        rjwatch rejudge --since 30d --alert
    """
    from storage.rejudge import Filters, Rejudger

    db = obj.db()
    source_id = None
    if source_ref:
        from storage.sources import get_source

        source_id = get_source(db, source_ref)["id"]
    filters = Filters(
        source_id=source_id,
        since=when(since, "--since"),
        until=when(until, "--until"),
        statuses=tuple(status),
        ids=tuple(ids),
        force=force,
    )
    from storage.ingest import load_profile
    from storage.marks import marks_after_model, relearn_if_marked

    if dry_run and marks_after_model(db):
        click.echo("analyst marks were made since the last learning: `rjwatch learn` first to judge with them")
    elif not dry_run:
        model = relearn_if_marked(db, load_profile(db))
        if model is not None:
            click.echo(f"learned from {model.marks} analyst mark(s) first (see `rjwatch learn`)")
    judge = Rejudger(db, workers=workers)
    if sys.stderr.isatty():
        from storage.rejudge import select_ids

        total = len(select_ids(db, filters, judge.rules))
        with click.progressbar(length=total, label="re-judging", file=sys.stderr) as bar:
            report = judge.run(filters, dry_run=dry_run, alert=alert, progress=bar.update)
    else:
        report = judge.run(filters, dry_run=dry_run, alert=alert)
    if fmt == "json":
        click.echo(
            json.dumps(
                safe(
                    {
                        "judged": report.judged,
                        "changed": len(report.changes),
                        "dry_run": dry_run,
                        "alerts": report.alerts,
                        "rules": report.rules,
                        "transitions": report.transitions(),
                        "posts": [c.__dict__ for c in report.changes],
                    }
                ),
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    verb = "would change" if dry_run else "changed"
    click.echo(f"re-judged {report.judged} post(s): {len(report.changes)} {verb}" + (" (dry run)" if dry_run else ""))
    if report.skipped_corrected:
        click.echo(f"{report.skipped_corrected} post(s) corrected by an analyst left as they are")
    if report.changes:
        click.echo(f"{'from':<10} {'to':<10} {'posts':>7}")
        for t in report.transitions():
            click.echo(f"{t['from']:<10} {t['to']:<10} {t['posts']:>7}")
        click.echo("")
        click.echo(f"{'id':>7}  {'from':<10} {'to':<10} title")
        for c in report.changes[:SHOWN_POSTS]:
            click.echo(f"{c.post_id:>7}  {c.old:<10} {c.new:<10} {safe((c.title or c.url)[:70])}")
        if len(report.changes) > SHOWN_POSTS:
            click.echo(f"... and {len(report.changes) - SHOWN_POSTS} more (--format json lists them all)")
    if alert and not dry_run:
        click.echo(f"{report.alerts} alert(s) queued")


COMMANDS = [rejudge]
