"""The suppression list: what erased people were known by, as keyed hashes only, and the filter
ingestion applies so that they never come back.

`data/privacy/suppression.parquet` holds one row per suppressed identifier (`identifier`:
HMAC of `identifier:<type>:<normalised value>`), source record (`record`: HMAC of
`record:<source>:<source_record_id>`) or customer id (`customer`: HMAC of `customer:<id>`), with
when and for which request it was added. The record and customer hashes let the erasure find the
person's rows in the working database and every published version again at any time, without
keeping who they were. The raw
values are never written anywhere. Ingestion hashes each landing row's identifiers (as normalised)
and record id and drops the matches before they are accepted or quarantined; the rows dropped are
counted per source in `ingested/<source>/suppressed.json` and in the asset's metadata, and the
row reconciliation reads in = accepted + quarantined + suppressed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from cx_pipeline.paths import DataPaths
from cx_pipeline.privacy.pseudonym import privacy_dir, pseudonym

SUPPRESSION_FILE = "suppression.parquet"
SUPPRESSED_COUNTS = "suppressed.json"  # per source, beside accepted.parquet
IDENTIFIER, RECORD, CUSTOMER = "identifier", "record", "customer"
KINDS = (IDENTIFIER, RECORD, CUSTOMER)
SCHEMA = pl.Schema(
    {"kind": pl.String, "hash": pl.String, "added_at": pl.Datetime("us", "UTC"), "request_id": pl.String}
)
# Emails in rows too broken to parse (malformed records): found by shape, compared normalised.
EMAIL_IN_TEXT = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"


def suppression_path(paths: DataPaths) -> Path:
    return privacy_dir(paths) / SUPPRESSION_FILE


def identifier_hash(identifier_type: str, value: str, key: bytes) -> str:
    return pseudonym(f"{IDENTIFIER}:{identifier_type}:{value}", key)


def record_hash(source: str, source_record_id: str, key: bytes) -> str:
    return pseudonym(f"{RECORD}:{source}:{source_record_id}", key)


def customer_hash(customer_id: str, key: bytes) -> str:
    return pseudonym(f"{CUSTOMER}:{customer_id}", key)


@dataclass
class Suppression:
    """The loaded list, and the key to hash incoming values with (None when the list is empty)."""

    key: bytes | None = None
    identifiers: frozenset[str] = frozenset()
    records: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.identifiers and not self.records and not self.customers

    def identifier_matches(self, identifier_type: str, values: pl.Series) -> pl.Series:
        """True where the (normalised) value is suppressed; hashes each distinct value once."""
        return self._matches(values, self.identifiers, lambda v: identifier_hash(identifier_type, v, self.key))

    def record_matches(self, source: str, record_ids: pl.Series) -> pl.Series:
        return self._matches(record_ids, self.records, lambda v: record_hash(source, v, self.key))

    def _matches(self, values: pl.Series, hashes: frozenset[str], hasher) -> pl.Series:
        if not hashes or values.len() == 0:
            return pl.Series(values.name, [False] * values.len(), pl.Boolean)
        distinct = values.drop_nulls().unique()
        hit = {v for v in distinct.to_list() if hasher(v) in hashes}
        return values.is_in(list(hit)).fill_null(False) if hit else pl.Series(values.name, [False] * values.len())


def load_suppression(paths: DataPaths, key_provider) -> Suppression:
    """The suppression list of the data folder; `key_provider()` is asked for the key only when
    the list is not empty (a folder without erasures needs no key to ingest)."""
    path = suppression_path(paths)
    if not path.exists():
        return Suppression()
    frame = pl.read_parquet(path)
    if frame.is_empty():
        return Suppression()
    by_kind = {kind: frozenset(frame.filter(pl.col.kind == kind)["hash"].to_list()) for kind in KINDS}
    return Suppression(
        key=key_provider(), identifiers=by_kind[IDENTIFIER], records=by_kind[RECORD], customers=by_kind[CUSTOMER]
    )


def add_to_suppression(paths: DataPaths, hashes: dict[str, set[str]], request_id: str, when: datetime) -> int:
    """Append hashes (kind -> set) not yet listed; returns how many were new. Atomic rewrite."""
    path = suppression_path(paths)
    existing = pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=SCHEMA)
    rows = [
        {"kind": kind, "hash": h, "added_at": when.astimezone(UTC), "request_id": request_id}
        for kind, values in hashes.items()
        for h in sorted(values)
    ]
    new = pl.DataFrame(rows, schema=SCHEMA).join(existing.select("kind", "hash"), on=["kind", "hash"], how="anti")
    if new.is_empty():
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".parquet.tmp")
    pl.concat([existing, new]).write_parquet(staging)
    os.replace(staging, path)
    return new.height


@dataclass
class SuppressedCounts:
    """What ingestion dropped for one source, by why: never silently."""

    rows: int = 0
    by_identifier: dict[str, int] = field(default_factory=dict)  # identifier type (or `record`) -> rows

    def add(self, reason: str, rows: int) -> None:
        if rows:
            self.rows += rows
            self.by_identifier[reason] = self.by_identifier.get(reason, 0) + rows

    def merge(self, other: SuppressedCounts) -> None:
        for reason, rows in other.by_identifier.items():
            self.add(reason, rows)

    @classmethod
    def read(cls, folder: Path) -> SuppressedCounts:
        """The counts written beside a source's (or a day's) outputs; none when it dropped nothing."""
        path = folder / SUPPRESSED_COUNTS
        if not path.exists():
            return cls()
        doc = json.loads(path.read_text(encoding="utf-8"))
        return cls(rows=doc["rows"], by_identifier=dict(doc["by_identifier"]))

    def write(self, folder: Path) -> None:
        """Beside the source's outputs when it dropped rows; a stale file from an earlier run goes."""
        if not self.rows:
            (folder / SUPPRESSED_COUNTS).unlink(missing_ok=True)
            return
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SUPPRESSED_COUNTS).write_text(
            json.dumps({"rows": self.rows, "by_identifier": self.by_identifier}, indent=2) + "\n", encoding="utf-8"
        )


def suppressed_rows(folder: Path) -> int:
    """Rows ingestion suppressed for a source on its last run (0 when it never suppressed any)."""
    return SuppressedCounts.read(folder).rows
