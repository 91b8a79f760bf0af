"""`rjwatch cluster`: distributed crawling on scrapy-redis (seed, worker, ingest, status).

The commands share a Redis URL: `--redis URL`, else the `cluster.redis_url` setting (`[cluster]
redis_url` in rjwatch.toml, or $RJWATCH_CLUSTER_REDIS_URL). See docs/cluster.md.
"""

from __future__ import annotations

import json
import logging
import sys

import click

from rjwatch.commands.common import (
    CommandError,
    Ctx,
    blogger_sources,
    group,
    handled,
    record_format_option,
    source_option,
)
from rjwatch.output import safe
from rjwatch.settings import MAX_BATCH

redis_option = click.option(
    "--redis", "redis_url", metavar="URL", help="Redis of the cluster (default: the cluster.redis_url setting)."
)


def cluster_url(obj: Ctx, given: str | None) -> str:
    url = given or obj.cfg["cluster.redis_url"]
    if not url:
        raise CommandError("no Redis for the cluster: give --redis redis://HOST:PORT/DB or set [cluster] redis_url")
    return url


def connect_redis(url: str):
    from crawler.cluster import ClusterError, redis_client

    try:
        return redis_client(url)
    except ClusterError as exc:
        raise CommandError(str(exc)) from None


def seed_sources(obj: Ctx, url: str, sources: list[dict], *, full: bool) -> list[dict]:
    """Push start messages for these blogs (used by `cluster seed` and `crawl --cluster`)."""
    from crawler.cluster_control import seed

    out = seed(obj.db(), connect_redis(url), sources, full=full)
    for r in out:
        if r["seeded"]:
            click.echo(f"run #{r['run_id']} {safe(r['url'])}: seeded ({r['mode']})")
        else:
            click.echo(f"run #{r['run_id']} {safe(r['url'])}: not seeded, {r['why']}")
    return out


@group()
def cluster() -> None:
    """Distributed crawling: many crawler processes share one frontier in Redis; one ingest worker
    writes their posts to the database.

    Example:

    \b
        rjwatch cluster seed --redis redis://10.0.0.5:6379/0
    """


@cluster.command("seed")
@redis_option
@source_option("One blog (default: every enabled blogger source).")
@click.option("--full", is_flag=True, help="Walk the whole blog again instead of asking only for what is new.")
@click.pass_obj
@handled
def seed_cmd(obj: Ctx, redis_url: str | None, source_ref: str | None, full: bool) -> None:
    """Open a crawl round for each enabled blogger source and push its start URL to Redis.

    A blog whose previous round is still open is skipped.

    Example:

    \b
        rjwatch cluster seed
    """
    url = cluster_url(obj, redis_url)
    chosen = blogger_sources(obj.db(), source_ref)
    if not chosen:
        click.echo("no blogger sources to crawl (add one: rjwatch source add URL --kind blogger)")
        return
    seed_sources(obj, url, chosen, full=full)


@cluster.command("worker")
@redis_option
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="Stop after this long without a start message or a fetched page (0: run until stopped).",
)
@click.option("--set", "-s", "scrapy_set", multiple=True, metavar="KEY=VALUE", help="A Scrapy setting.")
@click.pass_obj
@handled
def worker_cmd(obj: Ctx, redis_url: str | None, idle_exit: float, scrapy_set: tuple[str, ...]) -> None:
    """Run one crawler process of the cluster (any number, on any machine; no database needed).

    SIGTERM/SIGINT stop it gracefully; a request it held when it was killed is fetched again by
    the blog's next round.

    Example:

    \b
        rjwatch cluster worker --redis redis://10.0.0.5:6379/0
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.cluster import ClusterBloggerSpider, apply_overlay
    from rjwatch.crawling import scrapy_settings

    url = cluster_url(obj, redis_url)
    connect_redis(url)  # a clear error now rather than a traceback from the scheduler
    settings = scrapy_settings(obj.path, obj.cfg, {"_pairs": list(scrapy_set)})
    apply_overlay(settings, url, idle_exit=idle_exit)
    process = CrawlerProcess(settings)
    process.crawl(ClusterBloggerSpider)
    process.start()


@cluster.command("ingest")
@redis_option
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="Stop after this long with nothing to store and no open round (0: run until stopped).",
)
@click.option(
    "--batch-size", type=click.IntRange(1, MAX_BATCH), help="Posts per transaction (default: cluster.ingest_batch)."
)
@click.option("--consumer", metavar="NAME", help="Consumer name in the stream's group (default: ingest@HOSTNAME).")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING"]),
    default="INFO",
    show_default=True,
    help="Log messages of this level and above (to stderr).",
)
@click.pass_obj
@handled
def ingest_cmd(
    obj: Ctx, redis_url: str | None, idle_exit: float, batch_size: int | None, consumer: str | None, log_level: str
) -> None:
    """Run the cluster's one writer: store the crawled posts from Redis into the database, and close
    finished rounds. Run exactly one per database.

    Example:

    \b
        rjwatch cluster ingest
    """
    from crawler.cluster_control import IngestWorker

    logging.basicConfig(level=log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = cluster_url(obj, redis_url)
    server = connect_redis(url)
    worker = IngestWorker(
        obj.db(create=True), server, batch_size=batch_size or int(obj.cfg["cluster.ingest_batch"]), consumer=consumer
    )
    worker.run(idle_exit=idle_exit)
    click.echo(f"stored {worker.stored} post(s); {worker.bad} unreadable stream entr(ies) dropped")


@cluster.command("status")
@redis_option
@record_format_option()
@click.pass_obj
@handled
def status_cmd(obj: Ctx, redis_url: str | None, fmt: str) -> None:
    """Queue length, live crawler processes, ingest lag and rate, open rounds.

    Example:

    \b
        rjwatch cluster status --format json
    """
    from crawler.cluster_control import status

    st = safe(status(connect_redis(cluster_url(obj, redis_url))))
    if fmt == "json":
        click.echo(json.dumps(st, ensure_ascii=False, indent=2))
        return
    click.echo(f"frontier: {st['queued_requests']} queued request(s), {st['start_messages']} start message(s)")
    click.echo(
        f"crawler workers: {st['workers']} alive"
        + (f", {len(st['dead_workers'])} gone silent" if st["dead_workers"] else "")
    )
    for w in st["worker_detail"]:
        click.echo(
            f"  {w['id']}: {w['pages']} pages ({w['pages_per_s']}/s), {w['in_flight']} in flight, "
            f"beat {w['beat_age_s']} s ago"
        )
    lag = "none" if st["ingest_lag_s"] is None else f"{st['ingest_lag_s']} s (oldest waiting post)"
    click.echo(
        f"ingest: {st['stream_entries']} post(s) waiting, {st['unacknowledged']} being stored, lag {lag}, "
        f"{st['ingest_items_per_s']} posts/s, {st['ingest_stored']} stored"
        + (f", beat {st['ingest_beat_age_s']} s ago" if st["ingest_beat_age_s"] is not None else ", not running")
    )
    for r in st["open_rounds"]:
        click.echo(
            f"open round: run #{r['run_id']} source #{r['source_id']} ({r['mode']})"
            + ("  a worker died during it" if r.get("lost_worker") else "")
        )


COMMANDS = [cluster]
