"""Publishing marts for BI tools: a new file, then an atomic rename; the last versions kept.

BI tools keep `cx_marts.duckdb` open read-only while the pipeline runs, so the published file is
never written in place: each publish builds a complete new file beside it and renames it over the
old one. A reader sees either the previous version or the new one, never a mix. A process killed
half-way leaves temporary files (cleared by the next publish) and the last good version in place.

Each publish is also kept, whole, under `published/versions/<version>/` (database, Parquet files,
manifest) so that `cx-pipeline rollback` can put a previous version back the same atomic way.
Versions are copies, not links: a BI user who opens the live file read-write cannot alter them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from cx_pipeline.paths import DataPaths

# DuckDB 2.x writes files that 1.x readers (many BI drivers) cannot open unless told otherwise.
PUBLISHED_STORAGE_VERSION = "v1.0.0"
WORKING_MARTS_SCHEMA = "marts"
MANIFEST = "manifest.json"
DATABASE = "cx_marts.duckdb"
TEMPORARY_SUFFIX = ".tmp"
# Bounded memory: DuckDB spills beyond this rather than taking 80 % of the machine (at 1 M people
# a publish peaked at 2.1 GiB unbounded, 1.0 GiB with 1GB, in the same time).
MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT = "CX_PUBLISH_MEMORY_LIMIT", "1GB"


class PublishError(RuntimeError):
    """Nothing was published or rolled back; the published files are as they were."""


@contextmanager
def _copying_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that copies marts, within the publish memory limit."""
    limit = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)
    # Row order is not part of a mart (the warehouse does not keep it either: profiles.yml), and not
    # keeping it lets DuckDB write Parquet on every thread (at 1 M people 11.6 s -> 7.8 s).
    try:
        with duckdb.connect(config={"preserve_insertion_order": False, "memory_limit": limit}) as con:
            yield con
    except duckdb.OutOfMemoryException as error:
        raise PublishError(f"the marts do not fit in {MEMORY_LIMIT_ENV}={limit}: raise it ({error})") from error


@dataclass(frozen=True)
class PublishResult:
    database: Path
    parquet_files: dict[str, Path]
    row_counts: dict[str, int]
    published_at: str
    version: str
    pruned: list[str]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@contextmanager
def _publish_lock(paths: DataPaths) -> Iterator[None]:
    """One publish or rollback at a time per data folder (released by the OS if the process dies)."""
    paths.published.mkdir(parents=True, exist_ok=True)
    with (paths.published / ".publish.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _clear_leftovers(paths)
        yield


def _staged_path(folder: Path, name: str, token: str) -> Path:
    """Where `name` is written in `folder` before it is renamed into place: hidden, and a leftover
    that _clear_leftovers recognises by its suffix."""
    return folder / f".{name}.{token}{TEMPORARY_SUFFIX}"


def _clear_leftovers(paths: DataPaths) -> None:
    """Temporary files of a publish that was killed: nobody reads them, the lock says nobody writes them."""
    for leftover in paths.published.glob(f".*{TEMPORARY_SUFFIX}"):
        leftover.unlink(missing_ok=True)
    if paths.versions.exists():
        for leftover in paths.versions.glob(f"*{TEMPORARY_SUFFIX}"):
            shutil.rmtree(leftover, ignore_errors=True)


def _new_version(paths: DataPaths, run_id: str, now: datetime) -> str:
    # Sorts by time (to the millisecond) and says which run it came from.
    version = f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z-{run_id[:8]}"
    while (paths.versions / version).exists():  # two publishes of one run within a millisecond
        version += "+"
    return version


def _swap_into_place(paths: DataPaths, staged: dict[str, Path], manifest: dict[str, Any], token: str) -> None:
    """Rename staged files over the live ones: Parquet files, then the database, then the manifest
    (which says which version is live, so it moves last)."""
    for name, staged_file in staged.items():
        if name != DATABASE:
            staged_file.replace(paths.published / name)
    staged[DATABASE].replace(paths.published_db)
    manifest_tmp = _staged_path(paths.published, MANIFEST, token)
    manifest_tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    manifest_tmp.replace(paths.published / MANIFEST)


class _BackgroundCopies:
    """Copies files of `source_dir` into `target_dir` under temporary names, one at a time on a
    thread of their own; `staged` maps each name to its copy."""

    def __init__(self, source_dir: Path, target_dir: Path, token: str, pool: ThreadPoolExecutor) -> None:
        self.source_dir, self.target_dir, self.token, self._pool = source_dir, target_dir, token, pool
        self.staged: dict[str, Path] = {}
        self._pending: list[Future] = []

    def copy(self, name: str) -> None:
        self.staged[name] = _staged_path(self.target_dir, name, self.token)
        self._pending.append(self._pool.submit(shutil.copyfile, self.source_dir / name, self.staged[name]))

    def wait(self) -> None:
        for copying in self._pending:
            copying.result()  # a copy that failed (disk full) fails the publish


@contextmanager
def _background_copies(source_dir: Path, target_dir: Path, token: str) -> Iterator[_BackgroundCopies]:
    """Every copy is finished (or has failed the publish) when the block ends, however it ends."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="publish-copy") as pool:
        copies = _BackgroundCopies(source_dir, target_dir, token, pool)
        yield copies
        copies.wait()


def _stage_copies(source_dir: Path, target_dir: Path, marts: list[str], token: str) -> dict[str, Path]:
    """Staged copies of a version's files (database and each mart's Parquet), all finished."""
    with _background_copies(source_dir, target_dir, token) as copies:
        for name in [DATABASE, *(f"{mart}.parquet" for mart in marts)]:
            copies.copy(name)
    return copies.staged


def publish_marts(
    paths: DataPaths,
    marts: list[str],
    run_id: str,
    checks: list[dict[str, Any]] | None = None,
    keep_versions: int = 5,
) -> PublishResult:
    """Copy `marts` from the working database into a new published version and swap it into place."""
    if keep_versions < 1:
        raise PublishError("keep_versions must be at least 1: the live version is always kept")
    with _publish_lock(paths):
        now = datetime.now(UTC)
        version = _new_version(paths, run_id, now)
        token = f"{run_id}.{os.getpid()}"
        building = paths.versions / f"{version}{TEMPORARY_SUFFIX}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)

        row_counts: dict[str, int] = {}
        # The live folder's copies of each finished file are made while the next ones are written
        # (copying is disk work, writing is CPU work): at 1 M people the 2.2 GB of copies took 5.6 s
        # after the build; overlapped, publish alone went from 31.0 s to 27.8 s.
        with _background_copies(building, paths.published, token) as live_copies:
            with _copying_connection() as con:
                con.execute(f"attach {_sql_string(paths.warehouse)} as work (read_only)")
                con.execute(
                    f"attach {_sql_string(building / DATABASE)} as pub "
                    f"(storage_version {_sql_string(PUBLISHED_STORAGE_VERSION)})"
                )
                for mart in marts:
                    source = f"work.{WORKING_MARTS_SCHEMA}.{_quote(mart)}"
                    con.execute(f"create table pub.main.{_quote(mart)} as select * from {source}")
                    row_counts[mart] = con.execute(f"select count(*) from pub.main.{_quote(mart)}").fetchall()[0][0]
                con.execute("detach pub")  # the database file is complete: copy it while Parquet is written
                live_copies.copy(DATABASE)
                con.execute(f"attach {_sql_string(building / DATABASE)} as pub (read_only)")
                for mart in marts:
                    con.execute(
                        f"copy pub.main.{_quote(mart)} to {_sql_string(building / f'{mart}.parquet')} (format parquet)"
                    )
                    live_copies.copy(f"{mart}.parquet")
                con.execute("detach pub")
                con.execute("detach work")
        staged = live_copies.staged

        published_at = now.isoformat(timespec="seconds")
        manifest = {
            "version": version,
            "run_id": run_id,
            "published_at": published_at,
            "row_counts": row_counts,
            "checks": checks or [],
        }
        (building / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        building.rename(paths.versions / version)  # the version exists whole or not at all
        _swap_into_place(paths, staged, manifest, token)
        pruned = _prune(paths, keep_versions, current=version)
    return PublishResult(
        database=paths.published_db,
        parquet_files={mart: paths.published / f"{mart}.parquet" for mart in marts},
        row_counts=row_counts,
        published_at=published_at,
        version=version,
        pruned=pruned,
    )


def _prune(paths: DataPaths, keep: int, current: str) -> list[str]:
    versions = list_versions(paths)
    doomed = [v for v in versions[:-keep] if v != current] if len(versions) > keep else []
    for version in doomed:
        # Out of the list first (atomic), then deleted: a kill mid-delete leaves a leftover, not a broken version.
        leftover = (paths.versions / version).rename(paths.versions / f"{version}{TEMPORARY_SUFFIX}")
        shutil.rmtree(leftover)
    return doomed


# --- versions and rollback ---------------------------------------------------------------------


def list_versions(paths: DataPaths) -> list[str]:
    """Kept versions, oldest first."""
    if not paths.versions.exists():
        return []
    return sorted(
        p.name
        for p in paths.versions.iterdir()
        if p.is_dir() and not p.name.endswith(TEMPORARY_SUFFIX) and (p / MANIFEST).exists()
    )


def read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def current_version(paths: DataPaths) -> str | None:
    manifest = read_manifest(paths.published)
    return manifest.get("version") if manifest else None


def rollback(paths: DataPaths, to: str | None = None) -> dict[str, Any]:
    """Put a kept version back as the live one (default: the version before the current one).

    The newer versions stay kept, so a rollback can itself be undone with `to=`.
    """
    with _publish_lock(paths):
        versions = list_versions(paths)
        current = current_version(paths)
        if to is None:
            older = [v for v in versions if current is None or v < current]
            if not older:
                raise PublishError(f"no kept version older than the current one ({current}); kept: {versions}")
            to = older[-1]
        if to not in versions:
            raise PublishError(f"version {to!r} is not kept; kept versions: {versions}")
        source = paths.versions / to
        manifest = read_manifest(source) or {}
        marts = list(manifest.get("row_counts", {}))
        token = f"rollback.{os.getpid()}"
        staged = _stage_copies(source, paths.published, marts, token)
        live = {
            **manifest,
            "rolled_back_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rolled_back_from": current,
        }
        _swap_into_place(paths, staged, live, token)
    return live


# --- rewriting kept versions (erasure) ---------------------------------------------------------


def rewrite_published(
    paths: DataPaths, prepare: Callable[[duckdb.DuckDBPyConnection], None], condition: Callable[[list[str]], str | None]
) -> dict[str, int]:
    """Delete rows from every kept version and the live files: for each table, `condition(columns)`
    is an SQL condition on the rows to delete (None keeps the table whole); `prepare(con)` sets up
    what it needs (functions, registered tables). Each version's database is written anew (so no
    deleted value survives in a free block) and its Parquet files rewritten from it; the live
    version is then swapped in again from its rewritten copy, atomically. Returns rows removed per
    version. Manifests keep their history and gain an `erasures` entry."""
    removed: dict[str, int] = {}
    with _publish_lock(paths):
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for version in list_versions(paths):
            removed[version] = _rewrite_folder(paths.versions / version, prepare, condition, now)
        current = current_version(paths)
        live = read_manifest(paths.published)
        if live is None:
            return removed
        token = f"erase.{os.getpid()}"
        if current in removed:
            kept = read_manifest(paths.versions / current) or {}
            marts = list(kept.get("row_counts", {}))
            staged = _stage_copies(paths.versions / current, paths.published, marts, token)
            _swap_into_place(paths, staged, {**live, "row_counts": kept["row_counts"], "erasures": kept["erasures"]}, token)
        else:  # a live version no longer kept: rewrite the live files themselves
            removed["live"] = _rewrite_folder(paths.published, prepare, condition, now)
    return removed


def _rewrite_folder(folder: Path, prepare, condition, when: str) -> int:
    manifest = read_manifest(folder) or {}
    marts = list(manifest.get("row_counts", {}))
    fresh = _staged_path(folder, DATABASE, "erase")
    fresh.unlink(missing_ok=True)
    counts, removed = {}, 0
    with _copying_connection() as con:
        prepare(con)
        con.execute(f"attach {_sql_string(folder / DATABASE)} as old (read_only)")
        con.execute(f"attach {_sql_string(fresh)} as pub (storage_version {_sql_string(PUBLISHED_STORAGE_VERSION)})")
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'old' and schema_name = 'main' order by 1"
        ).fetchall()]
        for table in tables:
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where database_name = 'old' and schema_name = 'main' "
                "and table_name = ? order by column_index", [table]
            ).fetchall()]
            where = condition(columns)
            keep = f" where not coalesce({where}, false)" if where else ""
            con.execute(f"create table pub.main.{_quote(table)} as select * from old.main.{_quote(table)}{keep}")
            counts[table] = con.execute(f"select count(*) from pub.main.{_quote(table)}").fetchall()[0][0]
            removed += con.execute(f"select count(*) from old.main.{_quote(table)}").fetchall()[0][0] - counts[table]
        for mart in marts:
            staged = _staged_path(folder, f"{mart}.parquet", "erase")
            con.execute(f"copy pub.main.{_quote(mart)} to {_sql_string(staged)} (format parquet)")
        con.execute("detach pub")
        con.execute("detach old")
    fresh.replace(folder / DATABASE)
    for mart in marts:
        _staged_path(folder, f"{mart}.parquet", "erase").replace(folder / f"{mart}.parquet")
    manifest["row_counts"] = {mart: counts.get(mart, 0) for mart in marts}
    manifest["erasures"] = [*manifest.get("erasures", []), {"erased_at": when, "rows_removed": removed}]
    staged_manifest = _staged_path(folder, MANIFEST, "erase")
    staged_manifest.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    staged_manifest.replace(folder / MANIFEST)
    return removed
