"""Memory of a process from /proc: the one reader the benchmarks share."""

from __future__ import annotations


def proc_kb(pid: int, field: str, path: str = "status") -> int | None:
    """A `Field:  N kB` value of /proc/<pid>/<path> (status: VmHWM, VmRSS; smaps_rollup: Pss), or None."""
    try:
        with open(f"/proc/{pid}/{path}") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def pss_kb(pid: int) -> int:
    """Proportional set size in kB (0 once the process is gone)."""
    return proc_kb(pid, "Pss", "smaps_rollup") or 0


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren: a fork server's workers too)."""
    import os

    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out
