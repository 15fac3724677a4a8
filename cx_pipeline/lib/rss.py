"""Resident memory and CPU time of a process tree, sampled from /proc (Linux) in a background thread.

The pipeline's memory is not all in one process: dbt runs as a subprocess of the Dagster run,
and DuckDB inside it. The tree's RSS is the sum over the process and all its descendants
(pages shared between them are counted once per process, so it errs high, never low).

Its CPU time is the user and system time of every process in the tree, plus that of the
children each has waited for: a dbt process that has ended stays counted, in its parent.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: str) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # the process ended between listing and reading
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return stat[stat.rindex(")") + 2 :].split()


def tree_usage(root: int) -> tuple[int, float]:
    """RSS (bytes) and CPU time (seconds) of `root` plus every descendant."""
    children: dict[int, list[int]] = {}
    usage: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry.name)
        if fields is None:
            continue
        pid = int(entry.name)
        # After the name: state, ppid, ... ; of the full line, utime, stime, cutime and cstime
        # (clock ticks) are fields 14 to 17 and rss (pages) is field 24.
        children.setdefault(int(fields[1]), []).append(pid)
        usage[pid] = (int(fields[21]) * PAGE_SIZE, sum(int(f) for f in fields[11:15]))
    rss, ticks, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        pid_rss, pid_ticks = usage.get(pid, (0, 0))
        rss, ticks = rss + pid_rss, ticks + pid_ticks
        todo.extend(children.get(pid, ()))
    return rss, ticks / CLOCK_TICKS


class RssSampler:
    """`with RssSampler() as sampler:` records (unix time, tree RSS bytes) in `samples` and
    (unix time, tree CPU seconds) in `cpu_samples`, every `interval` s."""

    def __init__(self, root: int | None = None, interval: float = 0.1) -> None:
        self.root = root or os.getpid()
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.cpu_samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        now = time.time()
        rss, cpu = tree_usage(self.root)
        self.samples.append((now, rss))
        self.cpu_samples.append((now, cpu))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
