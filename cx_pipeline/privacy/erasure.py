"""Erasure (GDPR Art. 17, APPI): a request names a person by any identifier; the pipeline removes
the whole customer it resolves to from everything it built, and keeps them from coming back.

`cx-pipeline erase` runs it:

1. read `data/privacy/erasure_requests.csv` (identifier_type, value, request_id): an identifier
   type of privacy.yml `erasure.request_identifier_types`, or customer_id;
2. resolve each request to customers in the working database (a guarded or shared identifier
   resolves nobody: it would erase other people), then to all records of those customers and
   every identifier on them;
3. add keyed hashes of the customers, records and the person's own identifiers (not those other
   customers share) to the suppression list (cx_pipeline/privacy/suppression.py);
4. apply the list: every kept published version and the live files are rewritten without the
   customers' rows; in the working database the kept-across-runs tables (incremental models,
   snapshots) lose their rows, every other dbt table is dropped (the next run rebuilds it), and
   the file is rewritten so no deleted value survives; the sources are ingested again, dropping
   the suppressed rows; the person's values are redacted from text files the runs left
   (check results, alerts, logs) and Dagster's SQLite event logs;
5. append to `data/privacy/erasure_log.jsonl` what was erased when, as counts and hashes only;
6. remove the processed requests from the request file.

Landing files are the source systems' deliveries: the erasure does not rewrite them (their owners
must), and the suppression list keeps their rows out of every later run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from cx_pipeline.ingest.ingest import ingest_all
from cx_pipeline.ingest.normalize import normalize_email, normalize_phone, normalize_string
from cx_pipeline.ingest.outputs import write_union
from cx_pipeline.ingest.registry import Registry, load_registry
from cx_pipeline.lib.sql import sql_identifier, sql_literal, sql_relation
from cx_pipeline.paths import DataPaths
from cx_pipeline.privacy.pseudonym import privacy_dir, pseudonym, register_duckdb_function
from cx_pipeline.privacy.settings import CUSTOMER_ID, PrivacySettings, load_privacy_settings
from cx_pipeline.privacy.suppression import (
    CUSTOMER,
    IDENTIFIER,
    RECORD,
    Suppression,
    add_to_suppression,
    customer_hash,
    identifier_hash,
    load_suppression,
    record_hash,
)
from cx_pipeline.publish import rewrite_published

REQUESTS_FILE = "erasure_requests.csv"
LOG_FILE = "erasure_log.jsonl"
REQUEST_COLUMNS = ("identifier_type", "value", "request_id")
CUSTOMER_COLUMNS = ("customer_id", "from_customer_id", "previous_customer_id")
REGISTRY_UNION_TABLES = ("identifiers", "touchpoints", "attributes")
# Text files a run leaves under the data folder that may quote a value (check samples, alerts, logs).
TEXT_SUFFIXES = {".json", ".jsonl", ".log", ".txt", ".md", ".html", ".csv", ".out", ".err", ".yml", ".sql"}
REDACTED = "[erased]"
# the sources' deliveries; the erasure's own files; `make bench`'s own data folders
SKIPPED_FOLDERS = ("landing", "privacy", "bench")


class ErasureError(RuntimeError):
    """Nothing was erased: the message says why and what to do."""


@dataclass(frozen=True)
class ErasureRequest:
    row: int  # line in the request file
    identifier_type: str
    value: str  # normalised as ingestion normalises it
    request_id: str


@dataclass
class Resolution:
    customer_ids: set[str] = field(default_factory=set)
    records: set[tuple[str, str]] = field(default_factory=set)
    identifiers: set[tuple[str, str]] = field(default_factory=set)  # the person's own: suppressed
    kept_shared: int = 0  # the person's identifiers others share or a guard flags: not suppressed
    unresolved: list[int] = field(default_factory=list)  # request rows that matched no customer


@dataclass
class ErasureReport:
    requests: int
    customers: int
    records_by_source: dict[str, int]
    identifiers_by_type: dict[str, int]
    identifiers_kept_shared: int
    unresolved_request_rows: list[int]
    suppression_entries_added: int
    published_rows_removed: dict[str, int]
    working_tables: dict[str, int]  # table -> rows deleted (kept tables) or -1 (dropped)
    rows_suppressed_at_ingestion: dict[str, int]
    text_files_redacted: int
    log_entry: dict


def requests_path(paths: DataPaths) -> Path:
    return privacy_dir(paths) / REQUESTS_FILE


def log_path(paths: DataPaths) -> Path:
    return privacy_dir(paths) / LOG_FILE


# --- 1. requests -----------------------------------------------------------------------------


def read_requests(path: Path, settings: PrivacySettings, registry: Registry) -> list[ErasureRequest]:
    """The requests in `path`; an error names the file, row and field (never the value: it is personal)."""
    if not path.exists():
        return []
    requests = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUEST_COLUMNS[:2] if c not in (reader.fieldnames or [])]
        if missing:
            raise ErasureError(f"{path}: row 1: missing column(s) {', '.join(missing)}; expected {', '.join(REQUEST_COLUMNS)}")
        for record in reader:
            row = reader.line_num
            kind = (record.get("identifier_type") or "").strip()
            if kind not in settings.request_types:
                raise ErasureError(
                    f"{path}: row {row}: field identifier_type: {kind!r} is not one of {', '.join(settings.request_types)}"
                )
            value = _normalised(kind, record.get("value") or "", registry)
            if value is None:
                raise ErasureError(f"{path}: row {row}: field value: empty or not a valid {kind}")
            requests.append(ErasureRequest(row, kind, value, (record.get("request_id") or "").strip() or f"row-{row}"))
    return requests


def _normalised(kind: str, raw: str, registry: Registry) -> str | None:
    if kind == "email":
        expr = normalize_email(pl.lit(raw))
    elif kind == "phone":
        expr = normalize_phone(pl.lit(raw), registry.defaults.phone_default_region)
    else:
        expr = normalize_string(pl.lit(raw))
    return pl.select(expr.alias("v")).item()


# --- 2. resolution ---------------------------------------------------------------------------


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchall()[0][0])


def resolve(paths: DataPaths, requests: list[ErasureRequest]) -> Resolution:
    """Customers, records and identifiers of the people the requests name (working database)."""
    resolution = Resolution()
    by_identifier = [r for r in requests if r.identifier_type != CUSTOMER_ID]
    if not paths.warehouse.exists():
        # Nothing built yet: suppress what the requests name, so it never gets in.
        resolution.identifiers = {(r.identifier_type, r.value) for r in by_identifier}
        resolution.unresolved = [r.row for r in requests]
        return resolution
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        for schema, table in (("intermediate", "int_identity__customer_ids"), ("intermediate", "int_identity__identifiers_guarded")):
            if not _has_table(con, schema, table):
                raise ErasureError(
                    f"{paths.warehouse}: no {schema}.{table} to resolve the requests with (a previous erase "
                    f"without a run drops the rebuildable tables): run `cx-pipeline run`, then erase again"
                )
        con.register("requested", pa.table({
            "request_row": [r.row for r in requests],
            "identifier_type": [r.identifier_type for r in requests],
            "value": [r.value for r in requests],
        }))
        # An identifier a guard flags (junk, shared by too many) names nobody for sure: it resolves no one.
        found = con.execute("""
            select distinct requested.request_row, ids.customer_id
            from requested
            inner join intermediate.int_identity__identifiers_guarded as guarded
                on guarded.identifier_type = requested.identifier_type
                and guarded.identifier_value = requested.value
                and guarded.guard is null
            inner join intermediate.int_identity__customer_ids as ids
                on ids.source = guarded.source and ids.source_record_id = guarded.source_record_id
            union
            select distinct requested.request_row, ids.customer_id
            from requested
            inner join intermediate.int_identity__customer_ids as ids
                on requested.identifier_type = 'customer_id'
                and requested.value in (ids.customer_id, ids.previous_customer_id)
        """).fetchall()
        resolution.customer_ids = {c for _, c in found}
        resolution.unresolved = sorted({r.row for r in requests} - {row for row, _ in found})
        resolution.records, resolution.customer_ids = _closure(con, resolution.customer_ids)
        con.register("erased_records", pa.table({
            "source": [s for s, _ in resolution.records], "source_record_id": [r for _, r in resolution.records],
        }))
        # The person's identifiers: suppressed unless a guard flags them or a record of someone else carries them.
        rows = con.execute("""
            with theirs as (
                select guarded.identifier_type, guarded.identifier_value, guarded.guard
                from intermediate.int_identity__identifiers_guarded as guarded
                semi join erased_records using (source, source_record_id)
            ),
            elsewhere as (
                select distinct guarded.identifier_type, guarded.identifier_value
                from intermediate.int_identity__identifiers_guarded as guarded
                anti join erased_records using (source, source_record_id)
            )
            select distinct
                theirs.identifier_type, theirs.identifier_value,
                theirs.guard is null and elsewhere.identifier_value is null as own
            from theirs
            left join elsewhere using (identifier_type, identifier_value)
        """).fetchall()
    own = {(t, v) for t, v, is_own in rows if is_own}
    shared = {(t, v) for t, v, is_own in rows if not is_own} - own
    # What the requests name is suppressed too when it is theirs alone or names nobody at all.
    requested = {(r.identifier_type, r.value) for r in by_identifier}
    resolution.identifiers = own | (requested - shared)
    resolution.kept_shared = len(shared)
    return resolution


def _closure(con: duckdb.DuckDBPyConnection, customers: set[str]) -> tuple[set[tuple[str, str]], set[str]]:
    """All records the customers hold or held, and every id those records carried (merged-away ids)."""
    records: set[tuple[str, str]] = set()
    while True:
        rows = con.execute(
            "select source, source_record_id, customer_id, previous_customer_id "
            "from intermediate.int_identity__customer_ids "
            "where customer_id in (select unnest(?)) or previous_customer_id in (select unnest(?))",
            [sorted(customers), sorted(customers)],
        ).fetchall()
        more = {c for _, _, *ids in rows for c in ids if c}
        records = {(s, r) for s, r, *_ in rows}
        if more <= customers:
            return records, customers
        customers = customers | more


# --- 4. applying the suppression list ----------------------------------------------------------


def _register_erased(con: duckdb.DuckDBPyConnection, suppression: Suppression) -> None:
    register_duckdb_function(con, suppression.key)
    con.register("erased_customers", pa.table({"hash": sorted(suppression.customers)}, schema=pa.schema([("hash", pa.string())])))
    con.register("erased_records", pa.table({"hash": sorted(suppression.records)}, schema=pa.schema([("hash", pa.string())])))


def erased_row_condition(columns: list[str]) -> str | None:
    """SQL that is true on a row of an erased customer or record, given the table's columns."""
    parts = [
        f"cx_pseudonym('{CUSTOMER}:' || {sql_identifier(c)}) in (select hash from erased_customers)"
        for c in CUSTOMER_COLUMNS
        if c in columns
    ]
    if "source" in columns and "source_record_id" in columns:
        parts.append(
            f"cx_pseudonym('{RECORD}:' || \"source\" || ':' || \"source_record_id\") in (select hash from erased_records)"
        )
    return " or ".join(parts) or None


def _persistent_relations() -> set[tuple[str, str]]:
    """(schema, table) of the dbt relations kept across runs: incremental models and snapshots."""
    from cx_pipeline.dbt_project import cx_dbt_project

    manifest = json.loads(cx_dbt_project.manifest_path.read_text(encoding="utf-8"))
    return {
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "snapshot"
        or (node["resource_type"] == "model" and node["config"].get("materialized") == "incremental")
    }


def scrub_working_database(paths: DataPaths, suppression: Suppression) -> dict[str, int]:
    """Rows deleted from the kept-across-runs tables; other dbt tables dropped (-1); seeds kept.
    The file is then rewritten whole (COPY FROM DATABASE) so deleted values leave no bytes behind."""
    if not paths.warehouse.exists():
        return {}
    persistent = _persistent_relations()
    done: dict[str, int] = {}
    try:
        con = duckdb.connect(str(paths.warehouse))
    except duckdb.IOException as error:
        raise ErasureError(f"{paths.warehouse} is in use (a run?): {error}; erase when no run is building it") from None
    with con:
        _register_erased(con, suppression)
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            relation = sql_relation(schema, table)
            if (schema, table) in persistent:
                columns = [r[0] for r in con.execute(
                    "select column_name from duckdb_columns() where database_name = current_database() "
                    "and schema_name = ? and table_name = ?", [schema, table]
                ).fetchall()]
                condition = erased_row_condition(columns)
                if condition is None:
                    raise ErasureError(
                        f"{schema}.{table} is kept across runs but has no customer id or (source, source_record_id) "
                        f"column to erase by: add one, or teach cx_pipeline/privacy/erasure.py how to erase from it"
                    )
                done[f"{schema}.{table}"] = con.execute(f"delete from {relation} where {condition}").fetchall()[0][0]
            elif schema != "reference":  # seeds hold no one; everything else is rebuilt by dbt
                con.execute(f"drop table {relation}")
                done[f"{schema}.{table}"] = -1
        con.execute("checkpoint")
    _rewrite_database(paths.warehouse)
    return done


def _rewrite_database(path: Path) -> None:
    fresh = path.with_name(f".{path.name}.erase.tmp")
    fresh.unlink(missing_ok=True)
    with duckdb.connect() as con:
        con.execute(f"attach {sql_literal(str(path))} as old (read_only)")
        con.execute(f"attach {sql_literal(str(fresh))} as fresh")
        con.execute("copy from database old to fresh")
        con.execute("detach old")
        con.execute("detach fresh")
    # dbt names the database after the file: the copy goes back under the same name.
    fresh.replace(path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + ".tmp"), ignore_errors=True)  # DuckDB's spill folder


def reingest(paths: DataPaths, registry: Registry, suppression: Suppression) -> dict[str, int]:
    """Every source ingested again with the suppression list: the ingested Parquet without them."""
    results = ingest_all(registry, paths, suppression=suppression)
    for table in REGISTRY_UNION_TABLES:
        write_union(paths.ingested, table, list(registry.sources))
    return {name: result.rows_suppressed for name, result in results.items()}


def redact_text_files(paths: DataPaths, values: set[str]) -> int:
    """Replace the person's values in text files the runs left (check results, alerts, dbt and
    Dagster logs) and in Dagster's SQLite storage; returns the files changed."""
    values = {v for v in values if len(v) >= 4}  # a 3-character value would redact unrelated text
    if not values:
        return 0
    changed = 0
    for path in sorted(paths.root.rglob("*")):
        if not path.is_file() or path.relative_to(paths.root).parts[0] in SKIPPED_FOLDERS:
            continue
        if path.suffix in TEXT_SUFFIXES:
            changed += _redact_text(path, values)
        elif path.suffix == ".db" and path.read_bytes()[:16] == b"SQLite format 3\x00":
            changed += _redact_sqlite(path, values)
    return changed


def _redact_text(path: Path, values: set[str]) -> int:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return 0
    redacted = text
    for value in values:
        redacted = redacted.replace(value, REDACTED).replace(json.dumps(value)[1:-1], REDACTED)
    if redacted == text:
        return 0
    staging = path.with_name(f".{path.name}.erase.tmp")
    staging.write_text(redacted, encoding="utf-8")
    os.replace(staging, path)
    return 1


def _redact_sqlite(path: Path, values: set[str]) -> int:
    changed = 0
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            columns = [
                r[0] for r in db.execute("select name, type from pragma_table_info(?)", [table])
                if r[1].upper() in ("TEXT", "VARCHAR", "")
            ]
            for column in columns:
                target, col = sql_identifier(table), sql_identifier(column)
                for value in values:
                    for form in {value, json.dumps(value)[1:-1]}:
                        cursor = db.execute(
                            f"update {target} set {col} = replace({col}, ?, ?) where instr({col}, ?) > 0",
                            [form, REDACTED, form],
                        )
                        changed += cursor.rowcount
    if changed:
        with sqlite3.connect(path) as db:
            db.execute("vacuum")  # the old values stay in free pages otherwise
    return 1 if changed else 0


# --- the whole erasure ------------------------------------------------------------------------


def erase(
    paths: DataPaths,
    key: bytes,
    requests_file: Path | None = None,
    registry: Registry | None = None,
    settings: PrivacySettings | None = None,
) -> ErasureReport | None:
    """Process the request file (None when it holds no request). See the module docstring."""
    registry = registry or load_registry()
    settings = settings or load_privacy_settings(registry=registry)
    source = requests_file or requests_path(paths)
    requests = read_requests(source, settings, registry)
    if not requests:
        return None
    started = datetime.now(UTC)
    resolution = resolve(paths, requests)
    request_ids = sorted({r.request_id for r in requests})
    added = add_to_suppression(
        paths,
        {
            IDENTIFIER: {identifier_hash(t, v, key) for t, v in resolution.identifiers},
            RECORD: {record_hash(s, r, key) for s, r in resolution.records},
            CUSTOMER: {customer_hash(c, key) for c in resolution.customer_ids},
        },
        request_id=",".join(request_ids),
        when=started,
    )
    suppression = load_suppression(paths, lambda: key)

    published = rewrite_published(paths, lambda con: _register_erased(con, suppression), erased_row_condition)
    working = scrub_working_database(paths, suppression)
    suppressed = reingest(paths, registry, suppression)
    values = {v for _, v in resolution.identifiers} | resolution.customer_ids | {r for _, r in resolution.records}
    values |= {r.value for r in requests}
    redacted = redact_text_files(paths, values)

    entry = {
        "erased_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "request_ids": request_ids,
        # hashes, not values: an auditor holding a value can check it was erased, nobody can read it back
        "requested": [
            {"identifier_type": r.identifier_type, "hash": identifier_hash(r.identifier_type, r.value, key)}
            for r in requests
        ],
        "unresolved_request_rows": resolution.unresolved,
        "customers": len(resolution.customer_ids),
        "records_by_source": dict(sorted(Counter(s for s, _ in resolution.records).items())),
        "identifiers_suppressed_by_type": dict(sorted(Counter(t for t, _ in resolution.identifiers).items())),
        "identifiers_kept_shared": resolution.kept_shared,
        "suppression_entries_added": added,
        "published_rows_removed": published,
        "working_tables": working,
        "rows_suppressed_at_ingestion": {s: n for s, n in suppressed.items() if n},
        "text_files_redacted": redacted,
    }
    log = log_path(paths)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    _remove_processed(source, {r.row for r in requests})
    return ErasureReport(
        requests=len(requests),
        customers=entry["customers"],
        records_by_source=entry["records_by_source"],
        identifiers_by_type=entry["identifiers_suppressed_by_type"],
        identifiers_kept_shared=resolution.kept_shared,
        unresolved_request_rows=resolution.unresolved,
        suppression_entries_added=added,
        published_rows_removed=published,
        working_tables=working,
        rows_suppressed_at_ingestion=entry["rows_suppressed_at_ingestion"],
        text_files_redacted=redacted,
        log_entry=entry,
    )


def _remove_processed(path: Path, rows: set[int]) -> None:
    """The request file without the processed rows (the header stays): raw values are not kept."""
    kept = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        for line in reader:
            if line and (reader.line_num == 1 or reader.line_num not in rows):
                kept.append(line)
    staging = path.with_name(f".{path.name}.tmp")
    with staging.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(kept)
    os.replace(staging, path)


def pseudonymised_values(values: set[str], key: bytes) -> set[str]:
    """The pseudonyms the marts carry for values (emails, phones): for tests and audits."""
    return {pseudonym(v, key) for v in values}
