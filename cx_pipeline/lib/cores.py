"""How many cores this process may use: the workers' count for work split across processes."""

import os


def usable_cores() -> int:
    """The cores this process is allowed to run on (its CPU affinity), else the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
