"""Worker processes that run judge.analyze, the database-free half of storing a post.

This module owns the one process pool of the project (`AnalysisPool`) and what runs in its workers
(`worker_init`, `worker_analyze`), and `die_with_parent`, which ties a child process's life to the
process that started it. storage.ingest (batch and stream ingests, the poller's big feeds), the
crawl's item pipeline (crawler.pipelines) and the daemon all use them; nothing here touches the
database: a pool is handed an object with a `profile` (judge.relevance.TopicProfile) and `seed_rows`
((id, title, text) tuples), such as storage.ingest.Ingestor.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from judge.analyze import Analysis

#: What a worker imports to analyse (numpy, the language and fingerprint models: about a second).
#: It is imported there, not here, so that a process using only `die_with_parent` (the demo) stays
#: light; a fork server imports it once for all its workers.
ANALYSIS_MODULE = "judge.analyze"

#: Posts handed to a worker process at a time. Big enough that pickling overhead is small, small
#: enough that both workers stay busy on a 200-post batch.
WORKER_CHUNK = 25
#: Posts per piece when a batch is shared between the pool and the writing process: the workers
#: take pieces from the head of the batch, the writing process writes what they finish and, while
#: it waits, takes the unstarted pieces from the tail and analyses them itself. Small pieces keep
#: both sides busy to the end (a piece is ~10 ms of analysis); each costs one pickling round trip.
SHARED_CHUNK = 10
#: Starting worker processes costs about a second (imports, models); below this many posts it is
#: cheaper to analyse in the writing process.
PARALLEL_MIN_ITEMS = 1000
#: More analysis workers than this only fight the writer for CPU on small machines.
MAX_WORKERS = 2

#: Linux prctl option that sends a child a signal when its parent dies (PR_SET_PDEATHSIG).
_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL, *, exit_if_orphaned: bool = False) -> None:
    """Linux: have this process get `sig` when the process that started it dies, even by kill -9.

    Analysis workers take SIGKILL (no orphaned analysis process outlives a killed crawl) and, with
    `exit_if_orphaned`, leave at once when their parent died before the call took effect (init
    adopted them). A crawl started by the daemon, or the daemon started by the demo, takes SIGTERM
    instead: a graceful stop. Elsewhere it does nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        return
    if exit_if_orphaned and os.getppid() == 1:
        os._exit(0)


_WORKER: dict = {}


def worker_init(
    profile_raw: str | None, profile_source: str, seeds: list[tuple[int, str, str]], learned: str | None = None
) -> None:
    die_with_parent(signal.SIGKILL, exit_if_orphaned=True)
    from judge.analyze import prepare_seed
    from judge.learned import LearnedModel
    from judge.relevance import TopicProfile

    _WORKER["profile"] = TopicProfile.from_text(profile_raw, profile_source) if profile_raw else TopicProfile.load()
    _WORKER["profile"].learned = LearnedModel.from_json(learned) if learned else None
    _WORKER["seeds"] = [prepare_seed(*s) for s in seeds]


def worker_state() -> tuple:
    """(profile, prepared seeds) of this worker, for other pure jobs run in the pool (judge.rejudge)."""
    return _WORKER["profile"], _WORKER["seeds"]


def worker_analyze(item: dict) -> tuple[Analysis | None, str | None]:
    from judge.analyze import BadPost, analyze

    try:
        return analyze(item, _WORKER["seeds"], _WORKER["profile"]), None
    except BadPost as exc:
        return None, str(exc)


def worker_analyze_many(items: list[dict]) -> list[tuple[Analysis | None, str | None]]:
    return [worker_analyze(it) for it in items]


class AnalysisPool:
    """Worker processes that run judge.analyze, the database-free half of ingest.

    Started on first use and kept until `close()`, so a daemon or a polling pass pays the start
    once. The workers come from a fork server (multiprocessing's `forkserver`, which has imported
    this module once): each starts in a fraction of a second and inherits none of the threads or
    locks of the process that uses the pool. A change of topic profile or seeds restarts them.
    """

    def __init__(self, workers: int = MAX_WORKERS, *, method: str = "forkserver"):
        """`method`: how workers start. "fork" shares the parent's pages (less memory) and is safe
        only in a process with no other threads, such as `rjwatch ingest`; "spawn" starts each
        from scratch (a crawl's process, whose reactor threads a fork would copy)."""
        self.workers = max(1, workers)
        self.method = method
        self._executor: ProcessPoolExecutor | None = None
        self._key: tuple | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._executor is not None

    def _executor_for(self, ingestor) -> ProcessPoolExecutor:
        profile = ingestor.profile
        learned = profile.learned.to_json() if profile.learned is not None else None
        key = (profile.rules_text, profile.source, tuple(ingestor.seed_rows))
        with self._lock:
            if self._executor is None or key != self._key:
                self._shutdown()
                ctx = multiprocessing.get_context(self.method)
                if self.method == "forkserver":
                    ctx.set_forkserver_preload([__name__, ANALYSIS_MODULE])
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=ctx,
                    initializer=worker_init,
                    initargs=(profile.raw, profile.source, list(ingestor.seed_rows), learned),
                )
                self._key = key
            return self._executor

    def map(self, ingestor, items: list[dict]) -> Iterator[tuple[Analysis | None, str | None]]:
        """(Analysis | None, error) per item, in order, as the workers finish them."""
        executor = self._executor_for(ingestor)
        chunk = max(1, min(WORKER_CHUNK, len(items) // (2 * self.workers) or 1))
        return iter(executor.map(worker_analyze, items, chunksize=chunk))

    def shared(self, ingestor, items: list[dict], analyze_here) -> Iterator[tuple[Analysis | None, str | None]]:
        """Like `map`, but the calling process works too: while the piece it needs next is not
        done, it takes the last piece no worker has started and runs `analyze_here` on it.

        Whatever the cost of analysis against the caller's own work (writing), neither side idles
        while there is work left, and results still come out in order."""
        executor = self._executor_for(ingestor)
        pieces = [items[i : i + SHARED_CHUNK] for i in range(0, len(items), SHARED_CHUNK)]
        futures = [executor.submit(worker_analyze_many, piece) for piece in pieces]
        done_here: dict[int, list] = {}
        tail = len(pieces) - 1  # pieces after `tail` have been started by a worker or taken here
        try:
            for k, fut in enumerate(futures):
                while k not in done_here and not fut.done() and tail >= k:
                    # cancel() succeeds only for a piece no worker has picked up yet
                    if futures[tail].cancel():
                        done_here[tail] = [analyze_here(it) for it in pieces[tail]]
                    tail -= 1
                yield from done_here.pop(k) if k in done_here else fut.result()
        finally:  # the writer gave up (an error, a rollback): drop the pieces nobody has started
            for fut in futures:
                fut.cancel()

    def analyze_later(self, ingestor, item: dict) -> Future:
        """One post's (Analysis | None, error), as a Future; the workers start on the first call.
        A lost worker shows as BrokenProcessPool from the Future (or from this call)."""
        return self._executor_for(ingestor).submit(worker_analyze, item)

    def start(self, ingestor) -> None:
        """Start the workers now rather than on the first big batch (a daemon at start-up)."""
        self._executor_for(ingestor)

    def submit(self, fn, *args):
        """Run `fn(*args)` in a worker; a concurrent Future, or None while no workers run (they are
        started by the first big batch, so a small job is never worth a start)."""
        with self._lock:
            executor = self._executor
        if executor is None:
            return None
        try:
            return executor.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):  # a lost worker, or shut down meanwhile
            return None

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
            self._key = None

    def close(self) -> None:
        with self._lock:
            self._shutdown()

    @classmethod
    def from_setting(cls, workers: int) -> AnalysisPool | None:
        """The pool for the `ingest_workers` setting: -1 picks by cores (none on one core), 0 none.

        Automatically, one worker fewer than cores: the writing process analyses part of every
        pooled batch itself (see `shared`), and a process more than cores only slows it down."""
        if workers < 0:
            cores = os.cpu_count() or 1
            workers = 0 if cores < 2 else min(cores - 1, MAX_WORKERS)
        return cls(workers) if workers > 0 else None

    def __enter__(self) -> AnalysisPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def default_workers(expected_items: int) -> int:
    """Worker processes worth starting for a stream of about this many posts (0: analyse inline)."""
    cores = os.cpu_count() or 1
    return 0 if cores < 2 or expected_items < PARALLEL_MIN_ITEMS else min(cores, MAX_WORKERS)
