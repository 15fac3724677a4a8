"""Which landing files arrived since a point in time, and what they ask to be ingested.

A file's arrival is the later of its modification and status-change times: a file moved or
copied in with its old modification time kept (`mv`, `cp -p`, rsync) still counts as new.
A file that changed less than `arrival.settle_seconds` ago may still be being written; it is
left for a later look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cx_pipeline.ingest.ingest import landing_files
from cx_pipeline.ingest.partitions import file_day
from cx_pipeline.ingest.readers import LandingFileError
from cx_pipeline.ingest.registry import Registry
from cx_pipeline.paths import DataPaths


@dataclass
class Arrivals:
    days: dict[str, list[str]] = field(default_factory=dict)  # event stream -> new days, in order
    snapshots: list[str] = field(default_factory=list)  # snapshot sources with a new file
    files: list[str] = field(default_factory=list)  # the new files, relative to the data folder
    cursor: int = 0  # the latest arrival taken (ns): the next look starts after it
    settling: list[str] = field(default_factory=list)  # new files still changing: next time
    unusable: list[str] = field(default_factory=list)  # new files no run could read, with why

    @property
    def all_days(self) -> list[str]:
        return sorted({d for days in self.days.values() for d in days})

    @property
    def sources(self) -> list[str]:
        return [*self.days, *self.snapshots]


def arrived_ns(path: Path) -> int:
    stat = path.stat()
    return max(stat.st_mtime_ns, stat.st_ctime_ns)


def new_arrivals(
    registry: Registry,
    paths: DataPaths,
    since_ns: int,
    now_ns: int,
    first_day: str,
    last_day: str,
) -> Arrivals:
    """Landing files that arrived after `since_ns` and have settled by `now_ns`; days of event
    streams outside [first_day, last_day] (the daily partitions that exist) are unusable."""
    settle_ns = int(registry.arrival.settle_seconds * 1e9)
    found = Arrivals(cursor=since_ns)
    for name, spec in registry.sources.items():
        days: set[str] = set()
        for path in landing_files(spec, paths):
            arrived = arrived_ns(path)
            if arrived <= since_ns:
                continue
            label = path.relative_to(paths.root).as_posix()
            if arrived > now_ns - settle_ns:
                found.settling.append(label)
                continue
            found.cursor = max(found.cursor, arrived)
            if not spec.partitioned:
                found.files.append(label)
                if name not in found.snapshots:
                    found.snapshots.append(name)
                continue
            try:
                day = file_day(path, spec)
            except LandingFileError as error:
                found.unusable.append(str(error))
                continue
            if not first_day <= day <= last_day:
                found.unusable.append(f"{label}: day {day} is outside the daily partitions {first_day}..{last_day}")
                continue
            found.files.append(label)
            days.add(day)
        if days:
            found.days[name] = sorted(days)
    # Files still settling arrived after every file taken (they are the youngest), so a cursor at
    # the latest file taken leaves them for the next look.
    return found
