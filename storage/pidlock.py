"""Lock files beside the database, and whether a recorded process is still the one that was recorded.

A lock file (`rjwatch.db.daemon.lock`, `rjwatch.db.crawl-<id>.lock`) holds an OS lock (flock, released
by the kernel even on kill -9) and the holder's pid as text, for the message another process shows.
The holder removes the file when it exits cleanly; it unlinks it while still holding the lock, and a
process that locked a file checks that the path still names that file, so a process racing with the
removal never holds a lock on a file nobody else can find.

A pid alone does not identify a process: after a crash the kernel may give the same pid to another
one. A process is identified by its pid and its start time (`/proc/<pid>/stat`, clock ticks since
boot); `running(pid, started)` is true only while that very process exists.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

#: Attempts to lock a lock file that keeps being removed by the holders before us (each removal
#: means the previous holder has just exited, so a few tries always suffice).
LOCK_ATTEMPTS = 20


class Busy(RuntimeError):
    """Another process holds the lock; `pid` is what it wrote in the file ("?" if nothing)."""

    def __init__(self, pid: str):
        super().__init__(pid)
        self.pid = pid


class PidLock:
    """An exclusive, non-blocking lock file holding the owner's pid; `release()` removes the file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fh = None

    def acquire(self) -> PidLock:
        """Take the lock or raise Busy with the holder's pid."""
        for _ in range(LOCK_ATTEMPTS):
            fh = open(self.path, "a+")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                other = fh.read().strip() or "?"
                fh.close()
                raise Busy(other) from None
            try:
                same = os.fstat(fh.fileno()).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the previous holder removed the file between our open and our lock
                fh.close()
                continue
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            self.fh = fh
            return self
        raise Busy("?")

    def release(self) -> None:
        """Remove the file (while still holding the lock), then let the lock go."""
        if self.fh is None:
            return
        try:
            if os.fstat(self.fh.fileno()).st_ino == os.stat(self.path).st_ino:
                self.path.unlink()
        except OSError:
            pass
        self.fh.close()
        self.fh = None


def remove_stale(paths) -> list[Path]:
    """Remove the lock files nobody holds (left by a process killed with SIGKILL); returns them."""
    removed = []
    for path in paths:
        lock = PidLock(path)
        try:
            lock.acquire()
        except (Busy, OSError):
            continue
        lock.release()
        removed.append(Path(path))
    return removed


def process_start(pid: int | None) -> str | None:
    """The start time of process `pid` (clock ticks since boot, as text), or None if there is none.

    Where /proc is missing, "?" for any live pid (only the pid can be checked there)."""
    if not pid or pid <= 0:
        return None
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] in ("Z", "X"):  # a zombie: it has exited, only its exit status is left
            return None
        return fields[19]  # field 22 of proc(5), counted after the command name
    except FileNotFoundError:
        return None
    except (OSError, ValueError, IndexError):
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"


def running(pid: int | None, started: str | None) -> bool:
    """Is the process recorded as (pid, start time) still running? Without a recorded start time,
    only the pid is checked."""
    now = process_start(pid)
    if now is None:
        return False
    return started is None or now == "?" or started == "?" or now == str(started)
