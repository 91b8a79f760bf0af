"""`rjwatch run`: the APScheduler 3 daemon that decides when to poll, crawl, alert and tidy up.

Jobs are rebuilt from the config and the database at every start (an in-memory job store: nothing
pickled, nothing lost to lock contention); the state that matters (when each source is due, when a
blog was last crawled, the last digest, the heartbeat) lives in our own tables. Every job has an
explicit id, max_instances=1 and coalesce=True, so a job never overlaps itself and runs once to
catch up after downtime.

- poll: every `poll_tick`, polls the feeds that are due (crawler.poller; intervals adapt per source);
- crawl:<id>: every `crawl_interval` per enabled blogger source, as a subprocess (`rjwatch crawl`),
  because a Twisted reactor cannot be restarted here; it has a hard timeout (`crawl_timeout`). With
  `cluster.redis_url` set it pushes the blog's start URL to the cluster instead (docs/cluster.md);
- alerts: every minute, delivers the outbox (scheduler.alerts);
- digest: daily at `digest_time` in `timezone`;
- recheck: every `recheck_tick`, checks the pages of stored copies that are due (crawler.recheck:
  removed, revised) and submits copies to the web archive when `archive_submit_url` is set;
- housekeeping: daily WAL checkpoint, optional backup (SQLite's backup API), pruning of old runs;
- heartbeat: every minute, `meta.heartbeat`; reload: every minute and on SIGHUP, picks up added or
  removed sources and changed intervals.

One daemon per database (an OS file lock, removed on a clean exit). SIGTERM/SIGINT stop cleanly: no
new job starts, the child crawl gets SIGTERM (Scrapy stops gracefully, its run ends as `shutdown` and
the next run resumes), the current write finishes, the last heartbeat records the stop, exit 0. A
second signal forces the stop.

Runs record their process (pid and start time): a run whose process is gone (kill -9 of a crawl or
of the daemon) is marked `died` at the next start, by housekeeping, by the blog's next crawl and by
`status`/`runs` (storage.sources.mark_dead_runs). `status` says the daemon is not running when the
heartbeat's process is gone or the heartbeat is older than STALE_TICKS ticks.

Why one module of this size: the jobs share one scheduler, one database connection, one lock and
the stop signal, and each job is short; split apart they would pass that state around.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_SUBMITTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.schedule import next_crawl_at
from judge import dates
from judge.durations import ConfigError, parse_duration
from judge.errors import RjwatchError
from judge.pool import die_with_parent
from scheduler import alerts as alerts_mod
from scheduler.crawl_log import ChildLog, child_log_level
from storage import meta, pidlock
from storage.bootstrap import ensure_initialised, register_sources
from storage.db import DatabaseError, backup_to, checkpoint, connect, write_tx
from storage.ingest import AnalysisPool
from storage.rejudge import current_rules, stale_count, stored_profile_text
from storage.sources import (
    add_failed_crawl_run,
    blog_crawl_schedule,
    blog_crawls,
    latest_run,
    mark_dead_runs,
    prune_runs,
    settle_child_run,
)

log = logging.getLogger("rjwatch.daemon")

#: How often the daemon looks at its own state: heartbeat, alert dispatch and config reload.
TICK_S = 60
#: Grace a stopping child crawl gets after SIGTERM before it is killed.
CHILD_STOP_GRACE_S = 20
#: Runs kept by housekeeping (older ones are pruned; their posts stay).
KEEP_RUNS_DAYS = 90
#: The first re-check of copies' pages waits this long after a start, so the first poll and the
#: alerts pending from before go first.
RECHECK_FIRST_DELAY_S = 5
#: Jitter added to blog crawl intervals, so that many blogs do not start at once.
CRAWL_JITTER_S = 120
#: Job threads. A crawl job only waits for its subprocess, so threads are cheap; with too few, five
#: long crawls held every thread and the heartbeat and the poll tick started late (measured 1.6 s
#: with 4 threads and 5 blogs in bench/daemon_bench.py).
JOB_THREADS = 16
#: Scheduling-lag samples kept (actual minus planned start of each job run), for `status`.
LAG_SAMPLES = 1000
#: Heartbeat ticks without a beat after which `status` calls the daemon not running (hung, or its
#: pid now belongs to another process): a few, so that one slow tick on a loaded machine is not a stop.
STALE_TICKS = 5
#: Least heartbeat age called stale, whatever the tick: with second-scale ticks (tests, the demo) a
#: busy machine can delay a beat by several seconds.
STALE_MIN_S = 30


#: In a crawl child: get SIGTERM (a graceful Scrapy stop) if the daemon dies, even by kill -9.
_die_with_parent_by_sigterm = functools.partial(die_with_parent, signal.SIGTERM)


class AlreadyRunning(RuntimeError, RjwatchError):
    """Another daemon holds the database's lock."""


class Daemon:
    def __init__(self, db_path: Path, cfg, *, config_loader=None):
        self.db_path = Path(db_path)
        self.cfg = cfg
        self.config_loader = config_loader
        self.lock: pidlock.PidLock | None = None
        self.tick_s = min(TICK_S, parse_duration(cfg["poll_tick"]))
        self.stopping = threading.Event()
        # Jobs under way, so that a stop waits for them to end before it shuts the scheduler down:
        # APScheduler 3's shutdown(wait=True) holds the job-store lock while it waits for running jobs,
        # and a job asking the scheduler for its jobs then (reload, heartbeat) would wait for it forever.
        self.jobs_done = threading.Condition()
        self.jobs_running = 0
        self.children: set[subprocess.Popen] = set()
        self.children_lock = threading.Lock()
        self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(JOB_THREADS)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=str(cfg["timezone"]),
        )
        self._local = threading.local()
        # Analysis worker processes for big polled batches; started on the first one, kept until exit.
        self.analysis_pool = AnalysisPool.from_setting(int(cfg["ingest_workers"]))
        # Publisher sites' robots.txt, kept across polling passes (each for its own expiry).
        from crawler.publishers import RobotsCache

        self.robots = RobotsCache()
        self.signals = 0
        self.stopper: threading.Thread | None = None
        self.lags: list[float] = []
        self._rules: str | None = None  # the rules hash last noticed (notice_rules)
        self._topic_said: str | None = None  # the config's topic text last warned about (notice_topic)
        self.scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)

    def _on_submitted(self, event) -> None:
        now = datetime.now(UTC)
        for planned in event.scheduled_run_times:
            self.lags.append(max(0.0, (now - planned).total_seconds()))
        del self.lags[:-LAG_SAMPLES]

    def lag_summary(self) -> dict | None:
        if not self.lags:
            return None
        ordered = sorted(self.lags)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 4)

        return {"samples": len(ordered), "p50_s": pct(0.5), "p99_s": pct(0.99), "max_s": round(ordered[-1], 4)}

    @property
    def db(self):
        """This thread's own connection. Jobs run in several threads at once, and one SQLite connection
        shared between them interleaves their transactions and savepoints ("no such savepoint",
        "cannot start a transaction within a transaction"); a connection per thread keeps each job's
        transaction its own, and BEGIN IMMEDIATE serialises the writers."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = self._local.db = connect(self.db_path)
        return conn

    # -- single instance ---------------------------------------------------------------------
    def acquire_lock(self) -> None:
        path = self.db_path.with_name(self.db_path.name + ".daemon.lock")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.lock = pidlock.PidLock(path).acquire()
        except pidlock.Busy as exc:
            raise AlreadyRunning(f"another `rjwatch run` (pid {exc.pid}) is already using {self.db_path}") from None
        except OSError as exc:
            raise DatabaseError(f"cannot write the daemon's lock file {path}: {exc.strerror}") from None

    def tidy_locks(self) -> None:
        """Remove the crawl lock files left by crawls killed with SIGKILL (nobody holds them)."""
        for path in pidlock.remove_stale(sorted(self.db_path.parent.glob(self.db_path.name + ".crawl-*.lock"))):
            log.info("removed the stale lock file %s", path.name)

    # -- jobs ------------------------------------------------------------------------------------
    def setup(self) -> None:
        ensure_initialised(self.db)
        self._register_config_sources()
        died = mark_dead_runs(self.db)  # runs of a daemon or crawl killed before this start
        if died:
            log.info("runs %s were left unfinished by a process that is gone: marked died", died)
        self.tidy_locks()
        tick = IntervalTrigger(seconds=self.tick_s)
        now = datetime.now(UTC)
        self.scheduler.add_job(self.heartbeat, tick, id="heartbeat", next_run_time=now)
        self.scheduler.add_job(
            self.poll, IntervalTrigger(seconds=parse_duration(self.cfg["poll_tick"])), id="poll", next_run_time=now
        )
        self.scheduler.add_job(
            self.dispatch,
            IntervalTrigger(seconds=parse_duration(self.cfg["alert_tick"])),
            id="alerts",
            next_run_time=now + timedelta(seconds=2),
        )
        hour, minute = (int(x) for x in str(self.cfg["digest_time"]).split(":"))
        self.scheduler.add_job(
            self.digest,
            CronTrigger(hour=hour, minute=minute, timezone=str(self.cfg["timezone"])),
            id="digest",
            next_run_time=self._digest_catch_up(),
        )
        self.scheduler.add_job(
            self.housekeeping, IntervalTrigger(hours=24), id="housekeeping", next_run_time=now + timedelta(minutes=5)
        )
        self.scheduler.add_job(
            self.recheck,
            IntervalTrigger(seconds=parse_duration(self.cfg["recheck_tick"])),
            id="recheck",
            next_run_time=now + timedelta(seconds=RECHECK_FIRST_DELAY_S),
        )
        self.scheduler.add_job(self.reload, tick, id="reload")
        self.sync_crawl_jobs()

    def _digest_catch_up(self) -> datetime | None:
        """Run the digest at start if its last slot passed while the daemon was down."""
        last_digest = meta.get(self.db, meta.LAST_DIGEST)
        trigger = CronTrigger(
            hour=int(str(self.cfg["digest_time"]).split(":")[0]),
            minute=int(str(self.cfg["digest_time"]).split(":")[1]),
            timezone=str(self.cfg["timezone"]),
        )
        now = datetime.now(UTC)
        last = dates.parse(last_digest) if last_digest is not None else None
        if last is None:
            return None  # never run: wait for the first slot
        due = trigger.get_next_fire_time(None, last)
        return now if due and due <= now else None

    def sync_crawl_jobs(self) -> None:
        """One job per enabled blogger source; added/removed sources and interval changes apply live."""
        interval = parse_duration(self.cfg["crawl_interval"])
        wanted = {}
        for sid, settings, last, reason, complete in blog_crawl_schedule(self.db):
            every = json.loads(settings or "{}").get("every") or interval
            try:
                parse_duration(every)  # NaN, infinite or huge (stored by an older version): the default
            except ConfigError:
                every = interval
            # An interrupted crawl (killed, stopped, unfinished backfill) resumes at once.
            wanted[f"crawl:{sid}"] = (sid, float(every), last, reason == "finished" and bool(complete))
        for job in self.scheduler.get_jobs():
            if job.id.startswith("crawl:") and job.id not in wanted:
                job.remove()
                log.info("crawl job %s removed", job.id)
        for job_id, (sid, every, last, completed) in wanted.items():
            job = self.scheduler.get_job(job_id)
            if job is not None and getattr(job.trigger, "interval", None) == timedelta(seconds=every):
                continue
            first = next_crawl_at(dates.parse(last), completed=completed, every_s=every, now=datetime.now(UTC))
            if job is not None:
                job.remove()
            self.scheduler.add_job(
                self.crawl,
                IntervalTrigger(seconds=every, jitter=min(CRAWL_JITTER_S, every / 10)),
                id=job_id,
                args=[sid],
                next_run_time=first,
            )
            log.info("crawl job %s every %.0f s, next at %s", job_id, every, first.isoformat(timespec="seconds"))

    # -- job bodies --------------------------------------------------------------------------------
    @contextmanager
    def _job(self):
        """A job's turn: yields False once the daemon is stopping (the job then does nothing), else
        counts the job as under way until it ends (`_shutdown` waits for that count to reach 0)."""
        with self.jobs_done:
            go = not self.stopping.is_set()
            self.jobs_running += go
        if not go:
            yield False
            return
        try:
            yield True
        finally:
            with self.jobs_done:
                self.jobs_running -= 1
                self.jobs_done.notify_all()

    def _guard(self, name: str, fn) -> None:
        with self._job() as go:
            if not go:
                return
            started = dates.now_iso()
            try:
                result = fn()
                outcome = "ok"
                if isinstance(result, dict) and "outcome" in result:  # a job that knows better than "it returned"
                    outcome = result.pop("outcome")
                self._job_state(name, started, outcome, result)
            except Exception as exc:  # a failing job is recorded and retried next time, never fatal
                log.exception("job %s failed", name)
                self._job_state(name, started, f"error: {type(exc).__name__}: {exc}"[:300], None)

    def _job_state(self, name: str, started: str, outcome: str, result) -> None:
        meta.set_job_state(
            self.db, name, {"started": started, "finished": dates.now_iso(), "outcome": outcome, "result": result}
        )

    def heartbeat(self, *, stopped: bool = False) -> None:
        if stopped:  # the last beat, once the scheduler has stopped
            self._beat(stopped=True)
            return
        with self._job() as go:
            if go:
                self._beat()

    def _beat(self, *, stopped: bool = False) -> None:
        import resource

        jobs = {}
        for j in self.scheduler.get_jobs():
            nxt = getattr(j, "next_run_time", None)  # absent while the scheduler is not started yet
            jobs[j.id] = nxt.isoformat(timespec="seconds") if nxt else None
        beat = {
            "at": dates.now_iso(),
            "pid": os.getpid(),
            "pid_started": pidlock.process_start(os.getpid()),
            "tick_s": self.tick_s,
            "lag": self.lag_summary(),
            "next_runs": {} if stopped else jobs,
            "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_now_mb": _rss_now_mb(),
        }
        if stopped:
            beat["stopped"] = beat["at"]
        meta.beat(self.db, beat)

    def poll(self) -> None:
        def body():
            from crawler.config import PollSettings
            from crawler.poller import Poller
            from storage import health

            due = health.due_sources(self.db)
            if not due:
                return {"polled": 0}
            settings = PollSettings.from_config(self.cfg)  # built per pass: a reloaded config applies
            s = Poller(self.db, settings, pool=self.analysis_pool, robots=self.robots).poll(due, stop=self.stopping)
            return {"polled": s.polled, "not_modified": s.not_modified, "failed": s.failed, "new": s.new_by_status}

        self._guard("poll", body)

    def recheck(self) -> None:
        def body():
            from crawler.config import RecheckSettings
            from crawler.recheck import Rechecker

            settings = RecheckSettings.from_config(self.cfg)  # built per pass: a reloaded config applies
            return Rechecker(self.db, settings).run(stop=self.stopping).as_dict()

        self._guard("recheck", body)

    def crawl(self, source_id: int) -> None:
        self._guard(f"crawl:{source_id}", lambda: self._run_crawl(source_id))

    def _run_crawl(self, source_id: int) -> dict:
        if self.cfg["cluster.redis_url"]:
            return self._seed_cluster(source_id)
        cmd = [sys.executable, "-m", "rjwatch", "--db", str(self.db_path)]
        if self.cfg.path:
            cmd += ["--config", str(self.cfg.path)]
        cmd += ["crawl", "--source", str(source_id)]
        level = child_log_level(self.cfg["crawl_settings"], log)  # Scrapy's log, in full, into ours
        if level:
            cmd += ["--log-level", level]
        for item in self.cfg["crawl_settings"]:
            cmd += ["--set", item]
        timeout = parse_duration(self.cfg["crawl_timeout"])
        started = dates.now_iso()
        with self.children_lock:  # the stop handler takes this lock too: no child starts after it looked
            if self.stopping.is_set():
                return {"skipped": "stopping"}
            proc = subprocess.Popen(
                cmd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
                preexec_fn=_die_with_parent_by_sigterm,
            )
            self.children.add(proc)
        child_log = ChildLog(proc.stderr, source_id)
        try:
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("crawl of source %s exceeded %s s; stopping it", source_id, timeout)
                timed_out = True
                self._stop_child(proc)
                proc.wait()
        finally:
            with self.children_lock:
                self.children.discard(proc)
            tail = child_log.finish()
            proc.stderr.close()
        if proc.returncode < 0:
            self.tidy_locks()  # a child killed by a signal could not remove its lock file
        stopped = self.stopping.is_set()  # stopped by us, as the daemon stops: not a failure
        run_id, reason = self._record_exit(source_id, proc.pid, started, proc.returncode, timed_out, stopped, tail)
        if proc.returncode not in (0, -signal.SIGINT, -signal.SIGTERM, 130) and not stopped:
            log.warning("crawl of source %s exited %s: %s", source_id, proc.returncode, " | ".join(tail))
        # The job's outcome is the run's: `status` and `runs` must agree.
        if reason is None:
            outcome = "stopped before it began" if stopped else ("skipped: blog busy" if proc.returncode == 0 else "ok")
        else:
            outcome = "ok" if reason == "finished" else reason
        return {"exit": proc.returncode, "run": run_id, "finish_reason": reason, "outcome": outcome}

    def _seed_cluster(self, source_id: int) -> dict:
        """Cluster mode: push the blog's start URL to the shared frontier; the cluster's workers crawl
        it and the ingest worker ends the round (docs/cluster.md)."""
        from crawler.cluster import redis_client
        from crawler.cluster_control import seed
        from storage.sources import get_source

        out = seed(self.db, redis_client(self.cfg["cluster.redis_url"]), [get_source(self.db, source_id)])
        return {"cluster": out[0]}

    def _record_exit(
        self, source_id: int, pid: int, started: str, code: int, timed_out: bool, stopped: bool, tail: list[str]
    ) -> tuple[int | None, str | None]:
        """The crawl's exit code lands in its `runs` row (or in a row of its own if it died before one).

        Returns (run id, finish reason); (None, None) when there is no run: the blog was busy, or the
        daemon stopped the crawl before it began."""
        extra = {"exit_code": code, "timed_out": timed_out}
        with write_tx(self.db):
            # The child's own run (by its pid): a manual crawl of the same blog meanwhile has a row too.
            reason = "killed" if timed_out else ("shutdown" if stopped else "died")
            settled = settle_child_run(self.db, source_id, pid=pid, started=started, extra=extra, reason=reason)
            if settled:
                return settled
            elif code == 0:
                # No run and a clean exit: another process (a manual `rjwatch crawl`) holds the blog.
                log.info("crawl of source %s skipped: %s", source_id, " | ".join(tail)[-300:])
            elif stopped:
                log.info("crawl of source %s stopped before it began", source_id)
            else:
                extra["error"] = " | ".join(tail)[-500:]
                return add_failed_crawl_run(self.db, source_id, started=started, stats=extra), "failed"
        return None, None

    def _stop_child(self, proc: subprocess.Popen) -> None:
        if proc.poll() is not None:
            return
        try:
            # Scrapy: graceful stop, buffered posts are written. SIGTERM, not SIGINT: a child still
            # starting up (before Scrapy's handlers) ends quietly instead of with a KeyboardInterrupt.
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(CHILD_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def dispatch(self) -> None:
        self._guard(
            "alerts",
            lambda: alerts_mod.dispatch(
                self.db, alerts_mod.channels_from_config(self.cfg), retry_base=parse_duration(self.cfg["alert_retry"])
            ),
        )

    def digest(self) -> None:
        def body():
            out = alerts_mod.send_digest(self.db, alerts_mod.channels_from_config(self.cfg))
            meta.put(self.db, meta.LAST_DIGEST, dates.now_iso())
            return out

        self._guard("digest", body)

    def housekeeping(self) -> None:
        def body():
            checkpoint(self.db)
            cutoff = (datetime.now(UTC) - timedelta(days=KEEP_RUNS_DAYS)).isoformat(timespec="seconds")
            pruned = prune_runs(self.db, cutoff)
            backup = None
            if self.cfg["backup_dir"]:
                backup = self._backup(Path(self.cfg["backup_dir"]))
            return {"pruned_runs": pruned, "died_runs": len(mark_dead_runs(self.db)), "backup": backup}

        self._guard("housekeeping", body)

    def _backup(self, folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"rjwatch-{datetime.now(UTC).strftime('%Y%m%d')}.db"
        backup_to(self.db, target)
        return str(target)

    def _register_config_sources(self) -> None:
        """The config's `[[sources]]`: new ones added, edited ones applied (logged)."""
        for sid, _url, _created, changes in register_sources(self.db, self.cfg.section("sources")):
            for field, old, new in changes:
                log.info("source #%s: %s %s -> %s (config)", sid, field, old, new)

    def reload(self) -> None:
        def body():
            if self.config_loader is not None:
                self.cfg = self.config_loader()
            self._register_config_sources()
            self.sync_crawl_jobs()
            self.notice_rules()
            self.notice_topic()
            return {"crawl_jobs": sum(1 for j in self.scheduler.get_jobs() if j.id.startswith("crawl:"))}

        self._guard("reload", body)

    def notice_rules(self) -> None:
        """Log it once when the topic profile or the seeds change: new posts are judged under the new
        rules at once, stored ones keep their verdicts until `rjwatch rejudge` (which can change
        verdicts and alerts, so an analyst runs it; `status` shows how many posts wait for it)."""
        rules = current_rules(self.db)
        if rules == self._rules:
            return
        if self._rules is not None or stale_count(self.db, rules):
            log.warning(
                "the topic profile or the seeds changed: %s stored post(s) were judged under other rules; "
                "run `rjwatch rejudge` to judge them again",
                stale_count(self.db, rules),
            )
        self._rules = rules

    def notice_topic(self) -> None:
        """Say once when the config's `topic` names a profile other than the stored one: the daemon
        judges under the stored profile until `rjwatch init` stores the new one (a reload alone does
        not change what is watched, so an edit must not look as if it had)."""
        try:
            path = self.cfg["topic"] if self.cfg is not None else None
        except (KeyError, TypeError):
            return
        if not path:
            return
        try:
            raw = Path(path).read_text("utf-8")
        except OSError as exc:
            raw = f"<unreadable: {exc.strerror}>"
        if raw == stored_profile_text(self.db) or raw == self._topic_said:
            return
        self._topic_said = raw
        log.warning(
            "the config's topic %s is not the stored topic profile: run `rjwatch init` to store it "
            "(then `rjwatch rejudge`); until then posts are judged under the stored one",
            path,
        )

    # -- running ---------------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        self.signals += 1
        if signum == signal.SIGHUP:
            threading.Thread(target=self.reload, daemon=True).start()
            self.signals -= 1
            return
        if self.signals > 1:
            log.warning("second signal: forcing the stop")
            with self.children_lock:
                for proc in list(self.children):
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            os._exit(1)
        log.info("stopping (signal %s): finishing current work", signum)
        self.stopping.set()
        self.stopper = threading.Thread(target=self._shutdown, daemon=True)
        self.stopper.start()

    def _shutdown(self) -> None:
        with self.children_lock:  # `stopping` is set: no new child can start after this
            procs = list(self.children)
        for proc in procs:
            self._stop_child(proc)
        with self.jobs_done:  # running jobs see `stopping` and end early; no new one starts
            while self.jobs_running:
                self.jobs_done.wait()
        self.scheduler.shutdown(wait=True)
        if self.analysis_pool is not None:
            self.analysis_pool.close()

    def run(self) -> None:
        self.acquire_lock()
        try:
            self.setup()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, self._on_signal)
            log.info("rjwatch daemon started on %s (pid %s)", self.db_path, os.getpid())
            self.scheduler.start()  # blocks until shutdown
            if self.stopper is not None:
                self.stopper.join()  # the running jobs have ended and recorded their runs
            try:
                self.heartbeat(stopped=True)  # `status`: not running, since when
            except Exception:  # the database may be what failed; the stop itself must still be clean
                log.exception("could not record the stop")
        finally:
            self.tidy_locks()
            self.lock.release()
        log.info("rjwatch daemon stopped")


def _rss_now_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def daemon_state(beat: dict | None, now: datetime | None = None) -> dict:
    """Is the daemon of this heartbeat running? {"running", "pid", "last_seen", "why"}: not running when
    it recorded its stop, when its process is gone (or the pid now names another process), or when its
    heartbeat is older than STALE_TICKS ticks (a hung daemon)."""
    if not beat:
        return {"running": False, "pid": None, "last_seen": None, "why": "never ran on this database"}
    now = now or datetime.now(UTC)
    pid = beat.get("pid")
    at = dates.parse(beat.get("at"))
    age = (now - at).total_seconds() if at else None
    stale_after = max(STALE_MIN_S, STALE_TICKS * float(beat.get("tick_s") or TICK_S))
    alive = pidlock.running(pid, beat.get("pid_started"))
    out = {"running": False, "pid": pid, "last_seen": beat.get("at"), "age_s": round(age) if age is not None else None}
    if not alive:
        out["why"] = f"pid {pid} gone"
    elif beat.get("stopped"):
        out["why"] = f"pid {pid} stopping"
    elif age is None or age > stale_after:
        out["why"] = f"pid {pid} silent for more than {stale_after:.0f} s"
    else:
        out["running"] = True
    return out


def status(db) -> dict:
    """What `rjwatch status` shows: whether the daemon runs, heartbeat age, jobs' last results (a crawl
    job's is its blog's latest run, as `runs` shows it), failing sources, alert counts."""
    from storage import health, outbox

    mark_dead_runs(db)  # a run whose process is gone is not running
    out: dict = {}
    hb = meta.heartbeat(db)
    out["daemon"] = daemon_state(hb)
    if hb:
        at = dates.parse(hb["at"])
        out["heartbeat"] = {
            "at": hb["at"],
            "pid": hb.get("pid"),
            "lag": hb.get("lag"),
            "rss_now_mb": hb.get("rss_now_mb"),
            "next_runs": (hb.get("next_runs") or {}) if out["daemon"]["running"] else {},
            "stopped": hb.get("stopped"),
            "age_s": round((datetime.now(UTC) - at).total_seconds()) if at else None,
        }
    else:
        out["heartbeat"] = None
    out["jobs"] = meta.job_states(db)
    if hb:  # the heartbeat job records itself in `heartbeat`, not in a job row
        out["jobs"]["heartbeat"] = {"finished": hb["at"], "outcome": "stopped" if hb.get("stopped") else "ok"}
    crawl_jobs = {
        n
        for n in set(out["jobs"]) | set((out["heartbeat"] or {}).get("next_runs") or {})
        if n.startswith("crawl:") and n[6:].isdigit()
    }
    for name in crawl_jobs:
        job = out["jobs"].setdefault(name, {})
        run = latest_run(db, "crawl", int(name[6:]))
        if run is not None and run["started_at"] >= (job.get("started") or ""):
            reason = run["finish_reason"]
            job.update(
                {
                    "run": run["id"],
                    "finished": run["finished_at"] or job.get("finished"),
                    "outcome": "running" if reason is None else ("ok" if reason == "finished" else reason),
                }
            )
    out["failing_sources"] = health.failing(db)
    out["alerts"] = outbox.alert_counts(db)
    out["deliveries"] = outbox.delivery_counts(db)
    out["next_poll_due"] = health.next_poll_due(db)
    out["crawls"] = blog_crawls(db)
    out["rejudge_needed"] = stale_count(db)
    return out
