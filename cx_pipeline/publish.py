"""Publishing marts for BI tools: a new file, then an atomic rename.

BI tools keep `cx_marts.duckdb` open read-only while the pipeline runs, so the published file is
never written in place: each publish builds a complete new file beside it and renames it over the
old one. A reader sees either the previous version or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from cx_pipeline.paths import DataPaths

# DuckDB 2.x writes files that 1.x readers (many BI drivers) cannot open unless told otherwise.
PUBLISHED_STORAGE_VERSION = "v1.0.0"
WORKING_MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class PublishResult:
    database: Path
    parquet_files: dict[str, Path]
    row_counts: dict[str, int]
    published_at: str


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def publish_marts(paths: DataPaths, marts: list[str], run_id: str) -> PublishResult:
    """Copy `marts` from the working database into a new published file and swap it into place."""
    paths.published.mkdir(parents=True, exist_ok=True)
    token = f"{run_id}.{os.getpid()}"
    staging_db = paths.published / f".cx_marts.{token}.duckdb.tmp"
    staging_db.unlink(missing_ok=True)

    row_counts: dict[str, int] = {}
    staged_parquet: dict[str, Path] = {}
    with duckdb.connect() as con:
        con.execute(f"attach {_sql_string(paths.warehouse)} as work (read_only)")
        con.execute(
            f"attach {_sql_string(staging_db)} as pub (storage_version {_sql_string(PUBLISHED_STORAGE_VERSION)})"
        )
        for mart in marts:
            source = f"work.{WORKING_MARTS_SCHEMA}.{_quote(mart)}"
            con.execute(f"create table pub.main.{_quote(mart)} as select * from {source}")
            row_counts[mart] = con.execute(f"select count(*) from pub.main.{_quote(mart)}").fetchall()[0][0]
            staged = paths.published / f".{mart}.{token}.parquet.tmp"
            con.execute(f"copy pub.main.{_quote(mart)} to {_sql_string(staged)} (format parquet)")
            staged_parquet[mart] = staged
        con.execute("detach pub")
        con.execute("detach work")

    # Swap into place: each rename is atomic on one filesystem.
    published_parquet = {}
    for mart, staged in staged_parquet.items():
        target = paths.published / f"{mart}.parquet"
        staged.replace(target)
        published_parquet[mart] = target
    staging_db.replace(paths.published_db)

    published_at = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = {"run_id": run_id, "published_at": published_at, "row_counts": row_counts}
    manifest_tmp = paths.published / f".manifest.{token}.json.tmp"
    manifest_tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    manifest_tmp.replace(paths.published / "manifest.json")
    return PublishResult(paths.published_db, published_parquet, row_counts, published_at)
