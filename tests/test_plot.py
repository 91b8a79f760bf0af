"""The coverage picture (`rjwatch stats --plot`): bins chosen from the range, ISO week labels, whole-
number y ticks, the status colours of the terminal, a panel by language, and --since/--until zooming.

A backfilled corpus (posts published 2017-2026: the labelled articles of tests/fixtures/relevance in
eight languages, plus copies of the seed) is stored through the real write path, and drawn through
the real CLI; the checks read the figure object or the PNG's text chunks, never pixels.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from helpers import FIXTURES, SEED, one_line_error, q, run_cli

#: Articles stored: enough for every language and several posts a month, quick to judge.
ARTICLES = 240
#: The backfilled range: first and last publication days of the articles.
FIRST, LAST = date(2017, 1, 10), date(2026, 11, 20)
#: A post published on Friday 2020-01-03: ISO week 2020-W01 (strftime's %W calls it 2020-W00).
NEW_YEAR_POST = datetime(2020, 1, 3, 12, tzinfo=UTC)


def _articles() -> list[dict]:
    out = []
    for path in sorted((FIXTURES / "relevance").glob("*/*.txt")):
        head, _, body = path.read_text("utf-8").partition("\n---\n")
        fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
        if body.strip():
            out.append({"title": fields.get("title") or path.stem, "text": body.strip(), "key": path.stem})
    # Every language in turn, so that a prefix of the list holds all of them.
    by_lang: dict[str, list[dict]] = {}
    for a in out:
        by_lang.setdefault(a["key"].split("__")[0], []).append(a)
    mixed = [a for group in zip(*by_lang.values()) for a in group]
    return mixed[:ARTICLES]


@pytest.fixture(scope="module")
def backfill(tmp_path_factory):
    """A database of posts published 2017-2026, stored by `storage.ingest.ingest_many`."""
    from storage.db import connect
    from storage.ingest import ingest_many

    path = tmp_path_factory.mktemp("plot") / "rj.db"
    assert run_cli("--db", str(path), "init").exit_code == 0
    docs = _articles()
    span = (LAST - FIRST).days
    items = [
        {
            "url": f"https://backfill{i % 20}.blogspot.com/{i}/{doc['key'].replace('_', '-')}.html",
            "title": doc["title"],
            "text": doc["text"],
            "published": (
                datetime.combine(FIRST, datetime.min.time(), UTC) + timedelta(days=i * span // (len(docs) - 1))
            )
            .replace(hour=9)
            .isoformat(),
        }
        for i, doc in enumerate(docs)
    ]
    items[len(items) // 3]["published"] = NEW_YEAR_POST.isoformat()
    for k, day in enumerate(("2017-03-21", "2026-11-05")):
        items.append(
            {
                "url": f"https://reposts{k}.blogspot.com/{day[:4]}/what-russia-wants.html",
                "title": SEED["title"],
                "text": SEED["text"] + f"\n\nReposted for readers ({k}).",
                "published": f"{day}T08:00:00+00:00",
            }
        )
    db = connect(path)
    try:
        ingest_many(db, items)
    finally:
        db.conn.close()
    return path


def _plot(db, png, *args):
    result = run_cli("--db", str(db), "stats", *args, "--plot", str(png))
    assert result.exit_code == 0, result.output
    return Image.open(png).text


def test_bins_follow_the_range():
    """Days up to ~2 months, ISO weeks up to ~2 years, months up to ~15 years, years beyond."""
    from rjwatch import plot

    start = date(2020, 1, 1)
    for days, unit in [
        (1, "day"),
        (plot.DAY_BINS_MAX_DAYS, "day"),
        (plot.DAY_BINS_MAX_DAYS + 1, "week"),
        (plot.WEEK_BINS_MAX_DAYS, "week"),
        (plot.WEEK_BINS_MAX_DAYS + 1, "month"),
        (plot.MONTH_BINS_MAX_DAYS, "month"),
        (plot.MONTH_BINS_MAX_DAYS + 1, "year"),
    ]:
        assert plot.unit_for(start, start + timedelta(days=days - 1)) == unit, days
    # ISO weeks: 2019-12-30 to 2020-01-05 is 2020-W01, and 2020 has a week 53.
    unit, weeks = plot.bins(date(2019, 12, 20), date(2021, 1, 10), "week")
    labels = [b.label for b in weeks]
    assert labels[:3] == ["2019-W51", "2019-W52", "2020-W01"] and "2020-W53" in labels
    assert not any(lbl.endswith("-W00") for lbl in labels)
    assert len(labels) == len(set(labels))


@pytest.mark.slow
def test_a_backfilled_corpus_is_drawn_per_month_with_a_label_each_january(backfill, tmp_path):
    meta = _plot(backfill, tmp_path / "all.png")
    assert meta["rjwatch:unit"] == "month"
    assert meta["rjwatch:ticks"].split() == [f"{y}-01" for y in range(2017, 2027)]
    assert int(meta["rjwatch:total"]) == q(backfill, "SELECT count(*) FROM posts")
    assert "posts per month, 2017-01-10 to 2026-11-20" in meta["Title"]


@pytest.mark.slow
def test_the_figure_has_whole_number_ticks_iso_weeks_status_colours_and_languages(backfill):
    from rjwatch import plot
    from rjwatch.colours import STATUS_COLOURS
    from storage.db import connect
    from storage.queries import daily_counts

    since, until = "2019-10-01T00:00:00+00:00", "2020-04-01T00:00:00+00:00"
    db = connect(backfill)
    try:
        rows = daily_counts(db, since=since, until=until)
        everything = daily_counts(db)
    finally:
        db.conn.close()
    fig, facts = plot.figure(rows, *plot.day_range(rows, since, until))
    assert facts["unit"] == "week"
    assert facts["bins"][0] == "2019-W40" and facts["bins"][-1] == "2020-W14" and "2020-W01" in facts["bins"]
    top, bottom = fig.axes[:2]
    assert [t.get_text() for t in bottom.get_xticklabels()] == facts["ticks"] and "2020-W01" in facts["ticks"]
    for ax in (top, bottom):
        low, high = ax.get_ylim()
        shown = [t for t in ax.get_yticks() if low <= t <= high]
        assert len(shown) >= 2 and all(t == int(t) for t in shown), shown
    # One bar series per status present, in the status's colour (the same as on the terminal).
    from matplotlib.colors import to_hex

    drawn = {c.get_label(): to_hex(c.patches[0].get_facecolor()) for c in top.containers}
    assert drawn and all(drawn[s.replace("_", " ")] == STATUS_COLOURS[s].hex for s in facts["statuses"])
    # The lower panel stacks the same posts by language.
    heights = [sum(p.get_height() for c in bottom.containers for p in c.patches)]
    assert heights == [facts["total"]] == [sum(r["n"] for r in rows)]
    assert set(facts["languages"]) <= {r["lang"] for r in everything} | {"other", "unknown"}
    assert len(facts["languages"]) == min(plot.MAX_LANGUAGES + 1, len({r["lang"] for r in rows}))


@pytest.mark.slow
def test_since_and_until_zoom_to_days_and_weeks(backfill, tmp_path):
    meta = _plot(backfill, tmp_path / "days.png", "--since", "2019-12-20", "--until", "2020-01-20")
    assert meta["rjwatch:unit"] == "day"
    ticks = meta["rjwatch:ticks"].split()
    assert ticks[0].startswith("2019-12-") and all(len(t) == 10 for t in ticks)
    assert "2019-12-20 to 2020-01-19" in meta["Title"]
    assert int(meta["rjwatch:total"]) == q(
        backfill, "SELECT count(*) FROM posts WHERE published >= '2019-12-20' AND published < '2020-01-20'"
    )
    meta = _plot(backfill, tmp_path / "year.png", "--since", "2019-06-01", "--until", "2020-06-01")
    assert meta["rjwatch:unit"] == "week" and "2020-W01" in meta["rjwatch:ticks"].split()


@pytest.mark.slow
def test_the_week_table_uses_iso_weeks(backfill):
    import json

    result = run_cli(
        "--db", str(backfill), "stats", "--format", "json", "--since", "2019-12-01", "--until", "2020-02-01"
    )
    assert result.exit_code == 0, result.output
    weeks = {r["week"]: r["posts"] for r in json.loads(result.output)["by_week"]}
    assert weeks.get("2020-W01", 0) >= 1 and not any(w.endswith("-W00") for w in weeks)


def test_since_after_until_is_one_clear_error(db_path, tmp_path):
    res = run_cli("--db", str(db_path), "stats", "--since", "2021-01-01", "--until", "2020-01-01")
    one_line_error(res, "--since", "--until")
    res = run_cli("--db", str(db_path), "stats", "--until", "yesterday-ish", "--plot", str(tmp_path / "x.png"))
    one_line_error(res, "--until")
    assert not (tmp_path / "x.png").exists()


def test_an_empty_database_still_draws_a_picture(db_path, tmp_path):
    meta = _plot(db_path, tmp_path / "empty.png", "--since", "30d")
    assert meta["rjwatch:unit"] == "day" and meta["rjwatch:total"] == "0"


@pytest.mark.slow
def test_the_terminal_shows_a_status_in_its_plot_colour(backfill):
    import click
    from click.testing import CliRunner

    from rjwatch.colours import STATUS_COLOURS
    from rjwatch.commands import main

    copy_id = q(backfill, "SELECT id FROM posts WHERE status = 'copy' ORDER BY id LIMIT 1")
    result = CliRunner().invoke(main, ["--db", str(backfill), "show", str(copy_id)], color=True)
    assert result.exit_code == 0, result.output
    assert click.style("COPY", fg=STATUS_COLOURS["copy"].terminal, bold=True) in result.output
