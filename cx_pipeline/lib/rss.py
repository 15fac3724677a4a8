"""Resident memory of a process tree, sampled from /proc (Linux) in a background thread.

The pipeline's memory is not all in one process: dbt runs as a subprocess of the Dagster run,
and DuckDB inside it. The tree's RSS is the sum over the process and all its descendants
(pages shared between them are counted once per process, so it errs high, never low).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: str) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # the process ended between listing and reading
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return stat[stat.rindex(")") + 2 :].split()


def tree_rss_bytes(root: int) -> int:
    """RSS of `root` plus every descendant, in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry.name)
        if fields is None:
            continue
        pid = int(entry.name)
        # After the name: state, ppid, ... ; rss (pages) is field 24 of the full line.
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE_SIZE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


class RssSampler:
    """`with RssSampler() as sampler:` records (unix time, tree RSS bytes) every `interval` s."""

    def __init__(self, root: int | None = None, interval: float = 0.1) -> None:
        self.root = root or os.getpid()
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        self.samples.append((time.time(), tree_rss_bytes(self.root)))

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
