"""Privacy end to end, on a copy of the session's pipeline run: a consent change in the landing data
reaches the published marts, names with quotes, emoji and Japanese pass through untouched, an
erased person leaves no trace anywhere under the data folder, and a raw email in a mart stops the
publish."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import phonenumbers
import polars as pl
import pytest

from cx_pipeline.paths import DataPaths
from cx_pipeline.privacy.erasure import erase, log_path, requests_path
from cx_pipeline.privacy.pseudonym import pseudonym
from tests.conftest import TEST_PSEUDONYM_KEY
from tests.gate_helpers import evaluations, execute, published_digests, quality_checks_of, warehouse

pytestmark = pytest.mark.e2e

KEY = TEST_PSEUDONYM_KEY.encode()
STRANGE_FIRST = 'O\'Brien "Bob"; drop table x; --'
STRANGE_LAST = "山田 太郎 😀 ﾔﾏﾀﾞ"
# Ingestion folds half-width kana to full-width (NFKC, docs/ingestion.md); quotes, SQL and emoji stay.
STRANGE_LAST_PUBLISHED = "山田 太郎 😀 ヤマダ"


def _full_run(paths: DataPaths):
    import dagster as dg

    from cx_pipeline.definitions import defs

    with dg.DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        return defs.resolve_job_def("cx_full_run").execute_in_process(instance=instance, raise_on_error=False)


def _query(database: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# --- consent, and strange names ----------------------------------------------------------------


def _email_reachable_customer(paths: DataPaths) -> tuple[str, str]:
    """A customer the next action reaches by email, and the raw address (working database)."""
    customer_id, email = _query(
        paths.warehouse,
        """
        select lifecycle.customer_id, golden.attribute_value
        from marts.customer_lifecycle as lifecycle
        inner join intermediate.int_identity__golden_attributes as golden
            on golden.customer_id = lifecycle.customer_id and golden.attribute = 'email'
        inner join marts.customer_consent as consent
            on consent.customer_id = lifecycle.customer_id and consent.channel = 'email'
        where lifecycle.next_action_channel = 'email' and consent.consent_status = 'no_choice'
        order by lifecycle.customer_id limit 1
        """,
    )[0]
    return customer_id, email


def test_a_consent_change_and_strange_names_in_the_landing_data_reach_the_published_marts(run_copy):
    paths = run_copy
    customer_id, email = _email_reachable_customer(paths)
    # marketing: the customer unsubscribes
    pl.DataFrame(
        {
            "event_id": ["em-consent-test-1"],
            "subscriber_email": [email.upper()],
            "campaign_id": [None],
            "event_type": ["unsubscribe"],
            "event_ts": ["2026-06-30 01:00:00"],
        }
    ).write_csv(paths.landing_dir("email_events") / "2026-06-30-consent-change.csv")  # a second file of that day
    # sales: a new contact with a name full of quotes, SQL, emoji and Japanese, who asked not to be contacted
    crm = pl.read_csv(next(paths.landing_dir("crm_contacts").glob("*.csv")), infer_schema=False, n_rows=1)
    crm = crm.with_columns(
        pl.lit("CRM-9999999").alias("crm_id"),
        pl.lit(STRANGE_FIRST).alias("first_name"),
        pl.lit(STRANGE_LAST).alias("last_name"),
        pl.lit("strange.name.test@example-corp.co.jp").alias("email"),
        pl.lit("+81355550123").alias("phone"),
        pl.lit("true").alias("do_not_contact"),
    )
    crm.write_csv(paths.landing_dir("crm_contacts") / "zz_strange_names.csv")

    result = _full_run(paths)
    assert result.success

    published = paths.published_db
    consent = _query(
        published,
        "select consent_status, may_contact, decided_by_signal from customer_consent where customer_id = ? and channel = 'email'",
        [customer_id],
    )
    assert consent == [("opted_out", False, "email_unsubscribe")]
    channel, status, action = _query(
        published,
        "select next_action_channel, contact_status, next_action_en from customer_lifecycle where customer_id = ?",
        [customer_id],
    )[0]
    assert channel != "email" and status in ("contactable", "do_not_contact")
    assert (channel == "phone") == (status == "contactable")

    # the strange names come out exactly as they went in, in the database and in Parquet
    customer = _query(
        published, "select customer_id, first_name, last_name from dim_customers where first_name = ?", [STRANGE_FIRST]
    )
    assert [(first, last) for _, first, last in customer] == [(STRANGE_FIRST, STRANGE_LAST_PUBLISHED)]
    parquet = pl.read_parquet(paths.published / "dim_customers.parquet").filter(pl.col.customer_id == customer[0][0])
    assert parquet["last_name"].to_list() == [STRANGE_LAST_PUBLISHED]
    # ... and the CRM's do-not-contact flag is obeyed: no channel, the do-not-contact action
    lifecycle = _query(
        published,
        "select contact_status, next_action_channel, next_action_en, next_action_ja from customer_lifecycle where customer_id = ?",
        [customer[0][0]],
    )
    assert lifecycle[0][:2] == ("do_not_contact", None)
    assert lifecycle[0][2].startswith("Do not contact") and lifecycle[0][3].startswith("連絡しない")
    # and its email and phone are published as their pseudonyms only
    assert _query(published, "select email, phone from dim_customers where customer_id = ?", [customer[0][0]]) == [
        (pseudonym("strange.name.test@example-corp.co.jp", KEY), pseudonym("+81355550123", KEY))
    ]


# --- erasure -------------------------------------------------------------------------------------


def _erasable_customer(paths: DataPaths) -> str:
    """A customer in three or more sources with an email, a phone and a CRM id of their own."""
    return _query(
        paths.warehouse,
        """
        with theirs as (
            select links.customer_id, ids.identifier_type, ids.identifier_value, ids.guard,
                count(distinct links.customer_id) over (partition by ids.identifier_type, ids.identifier_value) as owners
            from intermediate.int_identity__identifiers_guarded as ids
            inner join marts.customer_identity_links as links using (source, source_record_id)
        )
        select theirs.customer_id
        from theirs
        inner join marts.dim_customers using (customer_id)
        where dim_customers.source_count >= 3
        group by theirs.customer_id
        having count(distinct identifier_type) filter (where identifier_type in ('email', 'phone', 'crm_id')) = 3
            and max(owners) = 1 and count(guard) = 0
        order by theirs.customer_id limit 1
        """,
    )[0][0]


def _traces(paths: DataPaths, customer_id: str) -> tuple[set[str], str]:
    """Everything that identifies the customer: ids, record ids, identifier values, the pseudonyms
    of their emails and phones; and their phone, written nationally (for the request)."""
    records = _query(
        paths.warehouse, "select source, source_record_id from marts.customer_identity_links where customer_id = ?", [customer_id]
    )
    identifiers = _query(
        paths.warehouse,
        "select distinct ids.identifier_type, ids.identifier_value from staging.stg_cx__identifiers as ids "
        "inner join marts.customer_identity_links as links using (source, source_record_id) where links.customer_id = ?",
        [customer_id],
    )
    values = {customer_id} | {r for _, r in records} | {v for _, v in identifiers}
    values |= {pseudonym(v, KEY) for t, v in identifiers if t in ("email", "phone")}
    phone = next(v for t, v in identifiers if t == "phone")
    national = phonenumbers.format_number(phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL)
    return values, national


def _text_columns(con: duckdb.DuckDBPyConnection, relation_filter: str = "") -> list[tuple[str, str, str]]:
    return con.execute(
        "select database_name, schema_name, table_name, column_name from duckdb_columns() "
        f"where data_type = 'VARCHAR' and not internal {relation_filter}"
    ).fetchall()


def _found_in_duckdb(path: Path, values: set[str]) -> list[str]:
    found = []
    with duckdb.connect(str(path), read_only=True) as con:
        for database, schema, table, column in _text_columns(con, "and database_name = current_database()"):
            hits = con.execute(
                f'select count(*) from "{database}"."{schema}"."{table}" '
                f'where len(list_filter(?, lambda v: contains("{column}", v))) > 0',
                [sorted(values)],
            ).fetchall()[0][0]
            if hits:
                found.append(f"{path.name}: {schema}.{table}.{column} ({hits})")
    return found


def _found_in_parquet(path: Path, values: set[str]) -> list[str]:
    frame = pl.read_parquet(path)
    found = []
    for column in frame.columns:
        if frame.schema[column] == pl.String:
            hits = frame.filter(pl.col(column).str.contains_any(sorted(values))).height
            if hits:
                found.append(f"{path}: {column} ({hits})")
    return found


def test_an_erased_person_leaves_no_trace_in_any_table_file_or_published_version(run_copy):
    paths = run_copy
    customer_id = _erasable_customer(paths)
    values, national_phone = _traces(paths, customer_id)
    assert len(values) >= 6
    # the searches below do find the person before the erasure
    assert _found_in_duckdb(paths.published_db, values) and _found_in_duckdb(paths.warehouse, values)
    assert any(v.encode() in paths.warehouse.read_bytes() for v in values)

    requests = requests_path(paths)
    requests.parent.mkdir(parents=True, exist_ok=True)
    requests.write_text(f"identifier_type,value,request_id\nphone,{national_phone},DSR-2026-001\n", encoding="utf-8")
    report = erase(paths, KEY)
    assert report is not None and report.customers == 1 and report.unresolved_request_rows == []
    assert report.working_tables["intermediate.int_identity__customer_ids"] > 0
    assert report.working_tables["snapshots.customer_lifecycle_snapshot"] == 1
    assert sum(report.published_rows_removed.values()) > 0

    # the next run reads the same landing files: the person stays out, counted, never silently
    result = _full_run(paths)
    assert result.success
    suppressed = {
        "/".join(e.asset_key.path): e.step_materialization_data.materialization.metadata["rows_suppressed"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "ingested" and "rows_suppressed" in e.step_materialization_data.materialization.metadata
    }
    assert sum(suppressed.values()) >= len(report.records_by_source)
    versions = sorted(p for p in paths.versions.iterdir() if p.is_dir())
    assert len(versions) >= 2  # the one published before the erasure, rewritten, and the new one

    # every file under the data folder but the sources' own deliveries: raw bytes ...
    searched = [p for p in paths.root.rglob("*") if p.is_file() and p.relative_to(paths.root).parts[0] != "landing"]
    encoded = {v: v.encode() for v in values}
    raw_hits = [f"{p}: {v}" for p in searched for v, b in encoded.items() if b in p.read_bytes()]
    assert raw_hits == []
    # ... and through DuckDB and Parquet readers, which see past compression
    assert [h for p in searched if p.suffix == ".duckdb" for h in _found_in_duckdb(p, values)] == []
    assert [h for p in searched if p.suffix == ".parquet" for h in _found_in_parquet(p, values)] == []
    assert any(p.suffix == ".parquet" and "versions" in p.parts for p in searched)

    # the audit log says what was erased and when, with hashes and counts only
    entry = json.loads(log_path(paths).read_text(encoding="utf-8").splitlines()[-1])
    assert entry["request_ids"] == ["DSR-2026-001"] and entry["customers"] == 1
    assert dt.datetime.fromisoformat(entry["erased_at"]) <= dt.datetime.now(dt.UTC)
    assert requests.read_text(encoding="utf-8").strip() == "identifier_type,value,request_id"


# --- the PII scan blocks ---------------------------------------------------------------------------


def test_a_raw_email_planted_in_a_mart_fails_the_pii_scan_and_blocks_publishing(run_copy):
    from tests.gate_helpers import publish

    paths = run_copy
    before = published_digests(paths)
    warehouse(
        paths,
        "update marts.customer_traits set preferred_channel = 'write to hana.sato@example.co.jp' "
        "where customer_id = (select min(customer_id) from marts.customer_traits)",
    )
    result = execute(paths, quality_checks_of("marts/customer_traits"))
    evaluation = evaluations(result)[("marts/customer_traits", "pii_scan")]
    assert not evaluation.passed
    assert "preferred_channel (email)" in evaluation.description
    assert "hana.sato@example.co.jp" not in json.dumps({k: str(v.value) for k, v in evaluation.metadata.items()})
    assert not publish(paths).success
    assert published_digests(paths) == before
