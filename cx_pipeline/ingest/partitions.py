"""Daily partitions of an event stream: which landing files carry which day, and where each day's
ingestion outputs live.

A source with `partitioned_by: day` lands files named for the day they carry
(`landing/<source>/2026-07-01.ndjson`, or `2026-07-01-part2.ndjson` for several files a day).
Each day is ingested into `ingested/<source>/days/<YYYY-MM-DD>/` on its own, so a new day costs
one day of parsing and validation; the source's usual outputs (`ingested/<source>/accepted.parquet`
and the rest) are then streamed together from every day, so everything downstream reads one file
per output as it does for snapshot sources.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from cx_pipeline.ingest.readers import LandingFileError
from cx_pipeline.ingest.registry import SourceSpec
from cx_pipeline.paths import DataPaths

DAYS_DIR = "days"
_DAY_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def file_day(path: Path, spec: SourceSpec) -> str:
    """The day (YYYY-MM-DD) a partitioned source's landing file carries, from its name."""
    match = _DAY_PREFIX.match(path.name)
    try:
        return date.fromisoformat(match.group(1)).isoformat() if match else _misnamed(path, spec)
    except ValueError:
        return _misnamed(path, spec)


def _misnamed(path: Path, spec: SourceSpec) -> str:
    raise LandingFileError(
        f"{path}: source '{spec.name}' is partitioned by day, so its landing files must be named "
        f"<YYYY-MM-DD>...{path.suffix} for the day they carry (e.g. 2026-07-01{path.suffix}); "
        "rename the file or move it out of the landing folder"
    )


def files_by_day(files: Iterable[Path], spec: SourceSpec) -> dict[str, list[Path]]:
    """Landing files grouped by day, days in order, files in their read order within a day."""
    grouped: dict[str, list[Path]] = {}
    for path in files:
        grouped.setdefault(file_day(path, spec), []).append(path)
    return dict(sorted(grouped.items()))


def days_root(paths: DataPaths, source: str) -> Path:
    return paths.ingested_dir(source) / DAYS_DIR


def day_dir(paths: DataPaths, source: str, day: str) -> Path:
    return days_root(paths, source) / day


def ingested_days(paths: DataPaths, source: str) -> list[str]:
    """Days that have ingestion outputs, in order."""
    root = days_root(paths, source)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _DAY_PREFIX.fullmatch(p.name))


def drop_day(paths: DataPaths, source: str, day: str) -> None:
    """Forget a day whose landing files are gone."""
    shutil.rmtree(day_dir(paths, source, day), ignore_errors=True)
