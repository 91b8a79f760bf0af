"""`rjwatch demo`: the whole product, working on a local demo network, in about a minute.

This module owns the demo's choreography, nothing else: it serves the curated demo network
(`rjwatch.demo.network.demo_network`: five Blogger-style blogs in five templates and languages and
one news site's RSS feed) on 127.0.0.1, starts a local webhook (`rjwatch.demo.hook`), writes a
config with accelerated intervals, creates the demo database with those sources, and runs the
real daemon (`rjwatch run`) as a subprocess. Once the first collection is done it publishes two
more posts (`demo_late_posts`: a new copy of the seed and a new article), so the next poll picks
them up and the alerts fire live: on the console and, through Apprise, at the webhook. At the end
it prints what was collected and the commands to try next. All the judging, storing, scheduling
and alerting is the daemon's; the demo only watches the database (read-only) and the daemon's
console output.

Files, all in the demo folder (default `./demo`): `rjwatch.db` (left behind to query),
`rjwatch.toml` (the demo's config), `daemon.log` (the daemon's log) and `webhook.jsonl` (what the
webhook received).

Why one module of this size: `rjwatch demo` end to end (servers, config, daemon, terminal view,
clean stop), one user-facing command.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from judge.errors import RjwatchError
from judge.pool import die_with_parent
from rjwatch.colours import terminal_style
from rjwatch.demo.hook import WebhookReceiver
from rjwatch.demo.network import demo_late_posts, demo_network
from rjwatch.demo.server import ServerGroup, SiteServer
from storage import progress

#: Folder the demo writes to when none is given.
DEFAULT_DIR = "demo"
#: Target length of a demo run. Collecting the network takes about ten seconds on a 2-core machine
#: and the two late posts arrive within a few more; the rest shows the daemon idling politely
#: (conditional GETs answered 304, incremental re-crawls that ask only for what is new).
DEFAULT_DURATION_S = 45.0
#: When the two late posts are published, as a share of the duration (never before the first
#: collection is complete: a post that arrives during a source's first, silent collection would
#: not alert, and the point is to see it alert).
PUBLISH_AT_FRACTION = 0.4
#: Longest wait for the first collection (every feed polled once, every blog's backfill crawl
#: finished). Five Scrapy processes start at once; on a loaded 2-core machine that can take a
#: minute, so this is generous.
COLLECT_TIMEOUT_S = 180.0
#: Longest wait, after publishing, for both late posts to be stored and their alerts sent.
#: Feeds are polled every few seconds in the demo, so this only runs out when something is wrong.
PICKUP_TIMEOUT_S = 90.0
#: Quiet time kept after the last expected delivery, so that a repeated delivery would be seen.
SETTLE_S = 3.0
#: How often the demo looks at the database and the webhook.
WATCH_EVERY_S = 0.5
#: Least time between two status lines in plain (non-terminal) output.
PLAIN_STATUS_EVERY_S = 5.0
#: Grace the daemon gets to stop after SIGTERM before it is killed.
DAEMON_STOP_S = 30.0
#: Characters of a post title in the summary (one line per post on an 100-column terminal).
TITLE_CHARS = 64
#: Status lines of the daemon's log quoted when it fails.
LOG_TAIL_LINES = 3

#: The demo's accelerated schedule (the defaults are minutes and hours; see docs/settings.md).
#: Feeds are looked at every second and due every 2-5 s, so a new post is alerted within seconds;
#: blogs are re-crawled every 20 s, so an incremental re-crawl shows up within the minute.
#: Politeness delays are lifted only because every site is local.
DEMO_SETTINGS = {
    "poll_tick": "1s",
    "alert_tick": "1s",
    "alert_retry": "1s",
    "poll_interval": "2s",
    "min_interval": "2s",
    "max_interval": "5s",
    "crawl_interval": "20s",
    "crawl_timeout": "2m",
    "crawl_settings": ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False"],
}
#: Alert kinds the webhook receives: posts only (source summaries stay on the console).
WEBHOOK_KINDS = ("copy", "excerpt", "new")
#: The meta row that marks a database as the demo's own, so that the demo never replaces any other.
DEMO_MARK = "demo"

_ALERT_PREFIX = "[rjwatch alert] "
_LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


class DemoError(RuntimeError, RjwatchError):
    """A demo that cannot start or did not work, explained in one line."""


@dataclass
class DemoOptions:
    folder: Path = Path(DEFAULT_DIR)
    db: Path | None = None
    duration: float = DEFAULT_DURATION_S
    keep_running: bool = False
    port: int = 0
    fancy: bool | None = None  # rich progress; None: when stdout is a terminal

    @property
    def db_path(self) -> Path:
        return (self.db or self.folder / "rjwatch.db").absolute()


# --- output ------------------------------------------------------------------------------------
class Screen:
    """Progress and events: rich progress bars on a terminal, plain timestamped lines otherwise."""

    def __init__(self, fancy: bool | None):
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=False)
        self.fancy = self.console.is_terminal if fancy is None else fancy
        self.started = time.monotonic()
        self.lock = threading.RLock()
        self.progress = None
        self.task = None
        self._last_plain = ("", 0.0)

    def _stamp(self) -> str:
        return f"[{time.monotonic() - self.started:5.1f}s]"

    def line(self, text: str = "", style: str | None = None) -> None:
        """A line of the demo's own output (no web text in it unless passed through `safe`)."""
        from rich.text import Text

        with self.lock:
            if self.fancy:
                self.console.print(Text(text, style=style or ""))
            else:
                print(text, flush=True)

    def event(self, text: str, style: str | None = None, detail: list[str] | None = None) -> None:
        """Something that happened, with the time since the demo started."""
        from rich.text import Text

        with self.lock:
            if self.fancy:
                out = Text(self._stamp() + " ", style="dim")
                out.append(text, style=style or "")
                for d in detail or []:
                    out.append("\n" + " " * 9 + d, style="dim")
                self.console.print(out)
            else:
                print(f"{self._stamp()} {text}", flush=True)
                for d in detail or []:
                    print(" " * 9 + d, flush=True)

    def begin(self, description: str, total: int | None = None) -> None:
        """A phase: a progress bar of `total` steps, or a spinner with a status text when None."""
        with self.lock:
            self.end()
            if self.fancy:
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    SpinnerColumn,
                    TextColumn,
                    TimeElapsedColumn,
                )

                bar = [BarColumn(), MofNCompleteColumn()] if total is not None else []
                self.progress = Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    *bar,
                    TextColumn("{task.fields[detail]}", style="dim"),
                    TimeElapsedColumn(),
                    console=self.console,
                    transient=True,
                )
                self.progress.start()
                self.task = self.progress.add_task(description, total=total, detail="")
            else:
                self._last_plain = ("", 0.0)
                self.event(f"{description} ...")
            self._description, self._total = description, total

    def update(self, completed: int, detail: str = "") -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.update(self.task, completed=completed, detail=detail)
                return
            if self._total is None:
                text = f"{self._description}: {detail}"
            else:
                text = f"{self._description}: {completed}/{self._total}" + (f" ({detail})" if detail else "")
            last, when = self._last_plain
            final = self._total is not None and completed >= self._total
            if text != last and (time.monotonic() - when >= PLAIN_STATUS_EVERY_S or final):
                self.event(text)
                self._last_plain = (text, time.monotonic())

    def end(self) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.stop()
                self.progress = self.task = None


# --- the demo ----------------------------------------------------------------------------------
#: In the daemon child: get SIGTERM (a clean stop) if the demo itself dies, even by kill -9.
_die_with_parent_by_sigterm = functools.partial(die_with_parent, signal.SIGTERM)


def _cut(text: str) -> str:
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "\u2026"


def _toml(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON strings and lists of strings are valid TOML


@dataclass
class Demo:
    opts: DemoOptions
    screen: Screen = None
    network: object = None
    servers: ServerGroup = field(default_factory=ServerGroup)
    hook: WebhookReceiver | None = None
    daemon: subprocess.Popen | None = None
    late: list = field(default_factory=list)
    alerts_seen: list = field(default_factory=list)

    def __post_init__(self):
        self.screen = self.screen or Screen(self.opts.fancy)
        self.folder = self.opts.folder.absolute()
        self.db_path = self.opts.db_path
        self.config_path = self.folder / "rjwatch.toml"
        self.log_path = self.folder / "daemon.log"
        self.hook_log = self.folder / "webhook.jsonl"
        self._reader: threading.Thread | None = None
        self._hook_seen = 0

    # -- setting up ---------------------------------------------------------------------------
    def prepare_folder(self) -> None:
        """Make the folder and clear a previous demo's files; refuse to touch any other database."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DemoError(f"cannot create {self.folder}: {exc.strerror}") from None
        if self.db_path.exists() and self.db_path.stat().st_size > 0:
            if progress.meta_value(self.db_path, DEMO_MARK) is None:
                raise DemoError(
                    f"{self.db_path} exists and is not a demo database; the demo will not replace it "
                    f"(choose another --dir or --db)"
                )
            self._check_no_daemon()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        for path in (self.log_path, self.hook_log):
            path.unlink(missing_ok=True)

    def _check_no_daemon(self) -> None:
        lock = self.db_path.with_name(self.db_path.name + ".daemon.lock")
        if not lock.exists():
            return
        with open(lock, "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                pid = fh.read().strip() or "?"
                raise DemoError(
                    f"a demo daemon (pid {pid}) is still running on {self.db_path}; stop it first "
                    f"(Ctrl-C in its terminal)"
                ) from None
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def start_network(self) -> None:
        self.network = demo_network()
        port = self.opts.port
        try:
            for i, (key, app) in enumerate(self.network.apps().items()):
                self.servers[key] = SiteServer(app, port=port + i if port else 0).start()
            hook_port = port + len(self.servers) if port else 0
            self.hook = WebhookReceiver(self.hook_log, port=hook_port).start()
        except OSError as exc:
            self.servers.stop()
            raise DemoError(
                f"cannot serve the demo network on 127.0.0.1"
                f"{f' from port {port}' if port else ''}: {exc.strerror or exc}"
            ) from None

    def sources(self) -> list[dict]:
        """The demo's `[[sources]]`: each blog crawled and its feed polled, and the news site's RSS."""
        out = []
        for key, server in self.servers.items():
            app = server.app
            if key in self.network.blogs:
                name = f"{app.title} ({app.locale}, {app.template} template)"
                out.append({"url": server.base_url + "/", "kind": "blogger", "name": name})
                out.append({"url": server.base_url + "/feeds/posts/default", "kind": "feed", "name": name + " feed"})
            else:
                out.append({"url": server.base_url + "/rss.xml", "kind": "feed", "name": f"{app.title} (news RSS)"})
        return out

    def write_config(self) -> None:
        lines = [
            "# Written by `rjwatch demo` for a one-minute tour: intervals are seconds here, minutes and",
            "# hours by default (docs/settings.md). Copy rjwatch.toml.example for real use.",
            "",
        ]
        lines += [f"{k} = {_toml(v)}" for k, v in DEMO_SETTINGS.items()]
        for s in self.sources():
            lines += ["", "[[sources]]"] + [f"{k} = {_toml(v)}" for k, v in s.items()]
        lines += [
            "",
            "# Every alert is printed on the console; posts also go to a local webhook through Apprise.",
            "[[alerts.channels]]",
            'name = "console"',
            'url = "console"',
            "",
            "[[alerts.channels]]",
            'name = "webhook"',
            f"url = {_toml(self.hook.apprise_url)}",
            "[alerts.channels.rule]",
            f"kinds = {_toml(list(WEBHOOK_KINDS))}",
            "",
        ]
        self.config_path.write_text("\n".join(lines), encoding="utf-8")

    def create_database(self) -> int:
        from rjwatch import settings as settings_mod
        from rjwatch.bootstrap import initialise, register_config_sources
        from storage import meta
        from storage.db import connect

        cfg = settings_mod.load(self.config_path)
        db = connect(self.db_path)
        try:
            initialise(db)
            added = register_config_sources(db, cfg)
            mark = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "sites": self.servers.urls}
            meta.put(db, DEMO_MARK, json.dumps(mark))
        finally:
            db.conn.close()
        return len(added)

    # -- the daemon ----------------------------------------------------------------------------
    def start_daemon(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RJWATCH_")}  # the demo's config rules
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "rjwatch", "--db", str(self.db_path), "--config", str(self.config_path), "run"]
        self.daemon = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent_by_sigterm,
        )
        self._reader = threading.Thread(target=self._read_daemon, name="demo-daemon-output", daemon=True)
        self._reader.start()

    def _read_daemon(self) -> None:
        """Copy the daemon's stderr to daemon.log and show its console alerts as they are printed."""
        from rjwatch.output import safe

        block: list[str] | None = None

        def flush():
            if block:
                title, body = block[0], block[1:]
                detail = [ln for ln in body if ln.startswith(("Why:", "Source:", "http://", "https://"))]
                self.alerts_seen.append(title)
                status = title[1 : title.find("]")] if title.startswith("[") else ""
                style = terminal_style(status, bold=True) if status in ("copy", "excerpt", "new") else None
                self.screen.event("alert  " + title, style=style, detail=detail)

        with open(self.log_path, "a", encoding="utf-8") as log:
            for raw in self.daemon.stderr:
                log.write(raw)
                log.flush()
                text = safe(raw.rstrip("\n"))
                if text.startswith(_ALERT_PREFIX):
                    flush()
                    block = [text[len(_ALERT_PREFIX) :]]
                elif _LOG_LINE_RE.match(text):
                    flush()
                    block = None
                elif block is not None and text.strip():
                    block.append(text.strip())
            flush()

    def daemon_failed(self) -> str | None:
        if self.daemon is None or self.daemon.poll() is None:
            return None
        if self._reader is not None:
            self._reader.join(5)
        tail = []
        try:
            lines = [ln.strip() for ln in self.log_path.read_text("utf-8").splitlines() if ln.strip()]
            tail = lines[-LOG_TAIL_LINES:]
        except OSError:
            pass
        return (
            f"the daemon stopped unexpectedly (exit {self.daemon.returncode})"
            + (f": {tail[-1]}" if tail else "")
            + f"; see {self._show(self.log_path)}"
        )

    def stop_daemon(self) -> int | None:
        if self.daemon is None or self.daemon.poll() is not None:
            return None if self.daemon is None else self.daemon.returncode
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(DAEMON_STOP_S)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
        if self._reader is not None:
            self._reader.join(5)
        return self.daemon.returncode

    # -- watching ------------------------------------------------------------------------------
    def collected(self) -> tuple[int, int, int]:
        """(sources done, sources, posts): a feed is done once polled, a blog once its backfill crawl ends."""
        feeds_done, blogs_done, total, posts = progress.collected(self.db_path)
        return feeds_done + blogs_done, total, posts

    def late_progress(self) -> tuple[int, int]:
        """(late posts stored, their alerts delivered on every channel)."""
        stored, sent = progress.stored_and_alerted(self.db_path, [p.post_id for _, p in self.late])
        return stored, sent

    def activity(self) -> str:
        polls, crawls, not_modified = progress.activity(self.db_path)
        return f"{polls} poll passes, {not_modified} feeds answered 304, {crawls} crawls"

    def watch_hook(self) -> None:
        from rjwatch.output import safe

        got = self.hook.deliveries()
        for d in got[self._hook_seen :]:
            self.screen.event(
                f"webhook received {safe(d.get('title') or '(no title)')}",
                style="cyan",
                detail=[f"X-Rjwatch-Key: {safe(d.get('key') or '-')}"],
            )
        self._hook_seen = len(got)

    def wait(self, until: float, check) -> bool:
        """Watch until `check()` is true or the monotonic time `until`; raise if the daemon dies."""
        while True:
            self.watch_hook()
            failed = self.daemon_failed()
            if failed:
                raise DemoError(failed)
            if check():
                return True
            if time.monotonic() >= until:
                return False
            time.sleep(WATCH_EVERY_S)

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> int:
        s = self.screen
        started = time.monotonic()
        s.line("rjwatch demo: a local network of blogs and a news feed, watched by the real daemon.", style="bold")
        self.prepare_folder()
        self.start_network()
        blogs = [srv.app for k, srv in self.servers.items() if k in self.network.blogs]
        s.event(
            f"demo network up on 127.0.0.1: {len(blogs)} Blogger-style blogs "
            f"({', '.join(f'{b.locale}/{b.template}' for b in blogs)}) and a news RSS feed"
        )
        self.write_config()
        n_sources = self.create_database()
        s.event(
            f"database {self._show(self.db_path)} created with the seed article and {n_sources} sources "
            f"(config {self._show(self.config_path)})"
        )
        self.start_daemon()
        s.event(f"daemon started: rjwatch run (pid {self.daemon.pid}), log in {self._show(self.log_path)}")

        # 1. The first collection: every source once, silently (one summary alert per source).
        s.begin("first collection", n_sources)
        done = self.wait(time.monotonic() + COLLECT_TIMEOUT_S, lambda: self._collect_step(s))
        s.end()
        if not done:
            raise DemoError(
                f"the first collection did not finish within {COLLECT_TIMEOUT_S:.0f} s; see {self._show(self.log_path)}"
            )
        done_n, total, posts = self.collected()
        s.event(f"first collection done: {posts} posts from {total} sources, stored without per-post alerts")

        # 2. Idle until it is time to publish (the daemon keeps polling: 304s, incremental re-crawls).
        publish_at = started + self.opts.duration * PUBLISH_AT_FRACTION
        if time.monotonic() < publish_at:
            s.begin("daemon polling")
            self.wait(publish_at, lambda: self._activity_step(s))
            s.end()

        # 3. Two new posts appear on the blogs; the next poll picks them up and alerts fire.
        self.late = demo_late_posts()
        for key, post in self.late:
            self.network.blogs[key].publish(post)
            s.event(f"published on {self.network.blogs[key].title}: {post.title}", style="yellow")
        s.begin("waiting for the daemon to find them", 2 * len(self.late))
        picked = self.wait(time.monotonic() + PICKUP_TIMEOUT_S, lambda: self._late_step(s))
        s.end()
        if not picked:
            raise DemoError(
                f"the two new posts were not collected and alerted within {PICKUP_TIMEOUT_S:.0f} s; "
                f"see {self._show(self.log_path)}"
            )

        # 4. Let it run to the end of the duration (and a quiet moment, to show nothing repeats).
        end_at = max(started + self.opts.duration, time.monotonic() + SETTLE_S)
        s.begin("daemon running")
        self.wait(end_at, lambda: self._activity_step(s))
        s.end()
        self.watch_hook()
        if self.opts.keep_running:
            self.summary(running=True)
            return self.keep_running()
        code = self.stop_daemon()
        s.event(f"daemon stopped (exit {code})")
        self.summary(running=False)
        return 0 if code == 0 else 1

    def _collect_step(self, s: Screen) -> bool:
        done, total, posts = self.collected()
        s.update(done, f"{posts} posts")
        return done >= total

    def _activity_step(self, s: Screen) -> bool:
        s.update(0, self.activity())
        return False  # a phase that only ends with its time

    def _late_step(self, s: Screen) -> bool:
        stored, sent = self.late_progress()
        s.update(stored + sent, f"{stored} stored, {sent} alerted")
        return stored >= len(self.late) and sent >= len(self.late)

    def keep_running(self) -> int:
        s = self.screen
        s.line()
        s.line("The network and the daemon keep running; press Ctrl-C to stop them.", style="bold")
        for key, srv in self.servers.items():
            s.line(f"  {srv.base_url}/  {key}")
        s.line(f"  {self.hook.apprise_url}  (the webhook)")
        try:
            while True:
                self.watch_hook()
                failed = self.daemon_failed()
                if failed:
                    raise DemoError(failed)
                time.sleep(WATCH_EVERY_S)
        except KeyboardInterrupt:
            code = self.stop_daemon()
            s.line(f"stopped (daemon exit {code})")
            return 0 if code == 0 else 1

    def close(self) -> None:
        self.screen.end()
        self.stop_daemon()
        self.servers.stop()
        if self.hook is not None:
            self.hook.stop()

    # -- the summary ---------------------------------------------------------------------------
    def _show(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def summary(self, running: bool) -> None:
        from rjwatch.output import safe

        s = self.screen
        s.line()
        s.line(f"Summary of {self._show(self.db_path)}", style="bold")
        by_status = progress.posts_by_status(self.db_path)
        order = ["copy", "excerpt", "new", "duplicate", "off_topic"]
        s.line(
            "  posts by status: "
            + ", ".join(f"{k} {by_status.get(k, 0)}" for k in order)
            + f" ({sum(by_status.values())} posts)"
        )
        spread = progress.seed_spread(self.db_path)
        s.line(f"  the seed's spread: {by_status.get('copy', 0)} copies and {by_status.get('excerpt', 0)} excerpts")
        for pid, status, title, share, source, url in spread:
            s.line(f"    #{pid:<3} {status:<8} {share:4.0%} of the seed  {_cut(safe(title or ''))}")
            s.line(f"         {safe(source or '-')}")
            s.line(f"         {safe(url)}")
        for pid, title, orig in progress.duplicates(self.db_path):
            s.line(f"  syndicated duplicate: #{pid} {_cut(safe(title or ''))} (same story as #{orig})")
        sent = progress.alerts_sent_by_kind(self.db_path)
        silent = progress.alerts_suppressed(self.db_path)
        s.line(
            f"  alerts sent: {sum(sent.values())} ("
            + ", ".join(f"{k} {v}" for k, v in sorted(sent.items()))
            + f"); {silent} more were held back "
            "during the first collection (one summary per source instead)"
        )
        for title in self._late_titles():
            s.line(f"    live: {safe(title)}")
        per_channel = progress.deliveries_sent_by_channel(self.db_path)
        hook = self.hook.deliveries()
        keys = {d.get("key") for d in hook}
        s.line(
            f"  deliveries: console {per_channel.get('console', 0)}, webhook {per_channel.get('webhook', 0)}; "
            f"the local webhook (Apprise json://) received {len(hook)} with {len(keys)} distinct "
            f"idempotency keys ({self._show(self.hook_log)})"
        )
        s.line()
        s.line("Next, try:" if not running else "Next, in another terminal, try:", style="bold")
        db = shlex.quote(self._show(self.db_path))
        for cmd in (
            f"rjwatch --db {db} search Kuril",
            f"rjwatch --db {db} copies",
            f"rjwatch --db {db} serve",
            f"rjwatch --db {db} posts --status new",
            f"rjwatch --db {db} show {self._late_post_row()}",
        ):
            s.line(f"  {cmd}")
        bin_dir = Path(sys.executable).parent
        if shutil.which("rjwatch") is None or Path(shutil.which("rjwatch")).parent != bin_dir:
            s.line(
                f"  (rjwatch is in {self._show(bin_dir)}/: `source {self._show(bin_dir)}/activate` puts it on "
                f"your PATH)"
            )

    def _late_titles(self) -> list[str]:
        ids = [p.post_id for _, p in self.late]
        if not ids:
            return []
        return [f"[{kind}] {title}" for kind, title in progress.sent_alerts_of(self.db_path, ids)]

    def _late_post_row(self) -> int:
        ids = [p.post_id for _, p in self.late]
        row = progress.post_row_id(self.db_path, ids[0]) if ids else None
        return row if row is not None else 1


def run_demo(opts: DemoOptions) -> int:
    """Run the demo; returns the exit code. Raises DemoError with a one-line reason when it fails."""
    demo = Demo(opts)
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        return demo.run()
    except KeyboardInterrupt:
        demo.screen.end()
        demo.screen.line("interrupted; stopping the daemon and the network")
        return 130
    finally:
        demo.close()
        signal.signal(signal.SIGTERM, previous)
