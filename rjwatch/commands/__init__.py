"""The `rjwatch` command line: the root group, with one module per group of commands.

    common.py     the context, the one error handler, the shared options (--db, --config, --format, ...)
    admin.py      init, settings, demo
    seeds.py      seed add / list / remove
    collect.py    classify, ingest, crawl, poll, runs
    sources.py    source add / list / show / candidates / approve / disable / enable / remove /
                  discover / import / export
    query.py      posts, show, search, copies, stats
    evidence.py   evidence (a post's kept raw responses, written out and checked)
    export.py     export, serve
    saved.py      saved add / list / run / remove
    daemon.py     run, status
    alerts.py     alerts (list), alerts test / retry
    cluster.py    cluster seed / worker / ingest / status
    rejudge.py    rejudge (stored posts under the current profile and seeds)
    recheck.py    recheck (the pages of stored copies: removed, revised; the web archive)
    marks.py      mark, marks (list / export / import), learn: analyst corrections and what they teach
    reference.py  docs/cli.md, generated from every command's --help

The command modules import only `common` (and `query` for printing search hits), never this
package's root, so there are no cycles. Errors that users can cause (every `RjwatchError`) are
printed as one line on stderr with a non-zero exit code; they never show a traceback. Each
command's docstring ends with an example.
"""

from __future__ import annotations

import click

from rjwatch.commands import (
    admin,
    alerts,
    cluster,
    collect,
    daemon,
    evidence,
    export,
    marks,
    query,
    recheck,
    rejudge,
    saved,
    seeds,
    sources,
)
from rjwatch.commands.common import CONTEXT_SETTINGS, Ctx, Group

__all__ = ["main"]


@click.group(cls=Group, root=True, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="rjwatch", help="Show the version and exit.")
@click.pass_context
def main(ctx: click.Context) -> None:
    """rjwatch: find new coverage of Russia–Japan relations on blogs and feeds.

    It collects posts from Blogger blogs and RSS/Atom feeds, judges each one against the seed
    article and the topic profile (copy, excerpt, new, duplicate or off_topic), and keeps
    everything in one SQLite database.

    --db and --config are taken by every command too: `rjwatch search Kuril --db x` is
    `rjwatch --db x search Kuril`.
    """
    ctx.ensure_object(Ctx)


for _module in (
    admin,
    seeds,
    collect,
    query,
    evidence,
    sources,
    daemon,
    alerts,
    export,
    saved,
    cluster,
    rejudge,
    recheck,
    marks,
):
    for _command in _module.COMMANDS:
        main.add_command(_command)
