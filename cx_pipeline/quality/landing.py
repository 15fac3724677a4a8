"""What a source's landing files hold, read independently of the ingestion code.

The schema-drift and row-reconciliation checks must not trust the code they audit, so they read
the files with the plainest tools: the csv module, line counts, Parquet footers.
"""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from cx_pipeline.ingest.registry import SourceSpec

# NDJSON has no header: the keys of this many objects stand for the file's columns.
NDJSON_SAMPLE_LINES = 10_000


def _text_encoding(encoding: str) -> str:
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding  # Excel writes a BOM


def landing_columns(path: Path, spec: SourceSpec) -> list[str]:
    """The columns (CSV header, Parquet schema, NDJSON keys seen) of one landing file."""
    if spec.format == "parquet":
        return list(pl.read_parquet_schema(path))
    with path.open(encoding=_text_encoding(spec.encoding), newline="") as handle:
        if spec.format == "csv":
            return next(csv.reader(handle), [])
        keys: dict[str, None] = {}
        for number, line in enumerate(handle):
            if number >= NDJSON_SAMPLE_LINES:
                break
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a broken line is the quarantine's business, not a schema change
            if isinstance(record, dict):
                keys.update(dict.fromkeys(record))
        return list(keys)


def count_records(path: Path, spec: SourceSpec) -> int:
    """Records in one landing file: data rows that carry at least one value (blank lines are not records)."""
    if spec.format == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    with path.open(encoding=_text_encoding(spec.encoding), newline="") as handle:
        if spec.format == "csv":
            rows = csv.reader(handle)
            next(rows, None)  # the header
            return sum(map(any, rows))  # a row counts when any value is not "" (C-level: 1.8 -> 1.2 s a million rows)
        return sum(1 for line in handle if line.strip())


def parquet_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0
