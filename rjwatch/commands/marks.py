"""`rjwatch mark`, `rjwatch marks` and `rjwatch learn`: analyst corrections and what they teach."""

from __future__ import annotations

import getpass
import json
import os

import click

from rjwatch.commands.common import Ctx, command, format_option, group, handled, limit_option, row_id
from rjwatch.output import emit

#: Columns of `rjwatch marks`.
MARK_COLUMNS = ("post_id", "status", "machine_status", "duplicate_of", "by", "at", "note", "title", "url")


def _user(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return os.environ.get("USER") or "unknown"


@command("mark")
@click.argument("post_id", type=row_id(), metavar="ID")
@click.argument("status", metavar="STATUS", required=False)
@click.option("--of", "duplicate_of", type=row_id(), metavar="ID", help="With `duplicate`: the post it duplicates.")
@click.option("--note", metavar="TEXT", help="Why (kept with the mark, shown by `show` and `marks`).")
@click.option("--by", metavar="NAME", help="Who says so (default: the OS user).")
@click.option("--clear", is_flag=True, help="Withdraw the post's mark: rjwatch's own verdict is in force again.")
@click.pass_obj
@handled
def mark(
    obj: Ctx, post_id: int, status: str | None, duplicate_of: int | None, note: str | None, by: str | None, clear: bool
) -> None:
    """Correct (or confirm) the verdict of post ID: STATUS is relevant, off_topic, copy, excerpt or duplicate.

    The analyst's verdict is in force at once (lists, searches, exports) and is never overwritten by
    re-judging or re-crawling; rjwatch's own verdict is kept beside it. Marks also teach the relevance
    score (`rjwatch learn`): confirming right verdicts teaches as much as correcting wrong ones.

    Example:

    \b
        rjwatch mark 42 off_topic --note "a sports result"
        rjwatch mark 43 duplicate --of 12
        rjwatch mark 42 --clear
    """
    from storage.marks import MarkError
    from storage.marks import clear as clear_mark
    from storage.marks import mark as make_mark

    db = obj.db()
    if clear:
        if status:
            raise MarkError("--clear takes no STATUS")
        m = clear_mark(db, post_id, by=_user(by), note=note)
        click.echo(f"post #{post_id}: mark cleared, {m.old} -> {m.new} (rjwatch's verdict)")
        return
    if not status:
        raise MarkError("give a STATUS (relevant, off_topic, copy, excerpt, duplicate) or --clear")
    m = make_mark(db, post_id, status, by=_user(by), note=note, duplicate_of=duplicate_of)
    what = f"{m.new} of #{duplicate_of}" if duplicate_of else m.new
    change = f"{m.old} -> {what}" if m.old != m.new or duplicate_of else f"{m.new} (confirmed)"
    click.echo(f"post #{post_id}: {change}; rjwatch said {m.machine}")


@group("marks", invoke_without_command=True)
@format_option()
@click.option(
    "--history", is_flag=True, help="Every mark ever made (cleared and replaced ones too), not only those in force."
)
@limit_option(default=None)
@click.pass_context
@handled
def marks(ctx: click.Context, fmt: str | None, history: bool, limit: int | None) -> None:
    """List analyst corrections (marks in force, newest first); export or import them.

    Example:

    \b
        rjwatch marks
        rjwatch marks export > marks.jsonl
        rjwatch marks import marks.jsonl
    """
    if ctx.invoked_subcommand is not None:
        return
    from storage.marks import list_marks

    obj: Ctx = ctx.obj
    emit(list_marks(obj.db(), history=history, limit=limit), MARK_COLUMNS, fmt)


@marks.command("export")
@click.argument("out", type=click.File("w", encoding="utf-8"), default="-", metavar="[FILE]")
@click.pass_obj
@handled
def marks_export(obj: Ctx, out) -> None:
    """Write every mark as JSONL (one object a line, keyed by the post's canonical URL) to FILE or stdout.

    Example:

    \b
        rjwatch marks export marks.jsonl
    """
    from storage.marks import export_marks

    n = 0
    for row in export_marks(obj.db()):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    click.echo(f"exported {n} mark(s)", err=True)


@marks.command("import")
@click.argument("src", type=click.File("r", encoding="utf-8"), metavar="FILE")
@click.pass_obj
@handled
def marks_import(obj: Ctx, src) -> None:
    """Add the marks of FILE, a JSONL file made by `marks export` (another installation's, or a backup).

    Marks are matched to posts by canonical URL (or Blogger blog and post ids); importing the same
    file twice changes nothing. Marks of posts this database does not hold are counted and skipped.

    Example:

    \b
        rjwatch marks import marks.jsonl
    """
    from storage.marks import MarkError, import_marks

    def rows():
        for n, line in enumerate(src, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as exc:
                raise MarkError(f"{src.name}: line {n} is not JSON ({exc.msg})") from None

    try:
        report = import_marks(obj.db(), rows())
    except UnicodeDecodeError:
        raise MarkError(f"{src.name}: not UTF-8 text") from None
    click.echo(
        f"imported {report.imported} mark(s); {report.already} already here; "
        f"{report.unmatched} for posts this database does not hold (skipped)"
    )
    if report.imported:
        click.echo("run `rjwatch learn` to learn from them")


@command("learn")
@click.option("--forget", is_flag=True, help="Stop using the learned model: the topic profile alone judges again.")
@click.pass_obj
@handled
def learn(obj: Ctx, forget: bool) -> None:
    """Train the relevance score's learned part from the analysts' marks (`rjwatch mark`).

    The model adds a contribution to the profile's points, listed by `rjwatch show`; with no model
    the profile alone judges. Stored posts keep their verdicts until `rjwatch rejudge`.

    Example:

    \b
        rjwatch learn
        rjwatch rejudge --dry-run
    """
    from storage.ingest import load_profile
    from storage.marks import forget as forget_model
    from storage.marks import learn as train
    from storage.rejudge import stale_count

    db = obj.db()
    if forget:
        click.echo("the learned model is no longer used" if forget_model(db) else "no learned model was in use")
    else:
        model, seconds = train(db, load_profile(db))
        s = model.stats
        click.echo(
            f"learned from {model.marks} mark(s) ({s['relevant']} relevant) in {seconds:.2f} s: "
            f"the profile alone agrees with {s['agree_profile']}, with the learned part {s['agree_learned']}"
        )
    n = stale_count(db)
    if n:
        click.echo(f"{n} stored post(s) were judged under other rules: run `rjwatch rejudge` to judge them again")


COMMANDS = [mark, marks, learn]
