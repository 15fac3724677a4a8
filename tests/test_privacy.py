"""Privacy building blocks: the settings, the pseudonymisation key, the PII scan, the suppression
list at ingestion and the erasure request file."""

from __future__ import annotations

import copy
import hashlib
import hmac
import os
import stat
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from cx_pipeline.ingest.ingest import ingest_source
from cx_pipeline.ingest.registry import load_registry, parse_registry
from cx_pipeline.paths import data_paths
from cx_pipeline.privacy.erasure import ErasureError, read_requests
from cx_pipeline.privacy.pii_scan import mask, scan_table
from cx_pipeline.privacy.pseudonym import (
    KEY_FILE,
    PseudonymKeyError,
    privacy_dir,
    pseudonym,
    register_duckdb_function,
    register_failing_duckdb_function,
    resolve_key,
)
from cx_pipeline.privacy.settings import PRIVACY_CONFIG, PrivacyConfigError, load_privacy_settings, parse_privacy_settings
from cx_pipeline.privacy.suppression import (
    IDENTIFIER,
    RECORD,
    add_to_suppression,
    identifier_hash,
    load_suppression,
    record_hash,
    suppressed_rows,
)
from cx_pipeline.quality.settings import load_quality_settings
from tests.ingest_fixtures import good_person, people_csv, registry_doc, write_landing

KEY = b"k" * 40


# --- settings ------------------------------------------------------------------------------


def test_the_shipped_privacy_settings_load_and_reach_dbt_as_a_var():
    settings = load_privacy_settings()
    consent = settings.dbt_vars()["privacy"]["consent"]
    assert consent["channels"] == ["email", "phone"]
    assert {s["name"] for s in consent["signals"]} == {"email_unsubscribe", "crm_do_not_contact"}
    assert "customer_id" in settings.request_types and "email" in settings.request_types


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["consent"]["signals"][0].update(source="newsletter"), r"signals\[0\]\.source: unknown source"),
        (lambda d: d["consent"]["signals"][1]["field"].update(name="stage"), r"signals\[1\]\.field\.name: .* no bool field"),
        (lambda d: d["consent"]["signals"][0]["touchpoint"].update(types=["unsub"]), r"no touchpoint type 'unsub'"),
        (lambda d: d["consent"]["signals"][0].update(channels=["fax"]), r"'fax' is not one of consent.channels"),
        (lambda d: d["consent"]["signals"][1]["field"].pop("when_true"), r"records no choice"),
        (lambda d: d["consent"].update(channels=["email", "pager"]), r"'pager' is not an identifier type"),
        (lambda d: d["pseudonymisation"].update(key_env="lower"), r"pseudonymisation\.key_env"),
    ],
)
def test_a_broken_privacy_setting_is_named_with_its_key(change, message):
    document = yaml.safe_load(PRIVACY_CONFIG.read_text(encoding="utf-8"))
    broken = copy.deepcopy(document)
    change(broken)
    with pytest.raises(PrivacyConfigError, match=message):
        parse_privacy_settings(broken, "privacy.yml", load_registry())


# --- the key -------------------------------------------------------------------------------


def test_the_key_comes_from_the_variable_and_a_short_one_is_refused(tmp_path):
    paths = data_paths(tmp_path)
    assert resolve_key(paths, "x" * 32, "CX_PSEUDONYM_KEY", True) == b"x" * 32
    with pytest.raises(PseudonymKeyError, match="CX_PSEUDONYM_KEY is too short"):
        resolve_key(paths, "short", "CX_PSEUDONYM_KEY", True)
    with pytest.raises(PseudonymKeyError, match="may not contain quotes"):
        resolve_key(paths, "x" * 32 + "'; drop table x; --", "CX_PSEUDONYM_KEY", True)
    assert not (privacy_dir(paths) / KEY_FILE).exists()


def test_without_the_variable_a_private_local_key_is_made_once_but_never_under_ci(tmp_path, monkeypatch):
    paths = data_paths(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    first = resolve_key(paths, None, "CX_PSEUDONYM_KEY", True)
    assert resolve_key(paths, None, "CX_PSEUDONYM_KEY", True) == first and len(first) >= 32
    assert stat.S_IMODE(os.stat(privacy_dir(paths) / KEY_FILE).st_mode) == 0o600
    monkeypatch.setenv("CI", "true")
    with pytest.raises(PseudonymKeyError, match="under CI the local key file is not used"):
        resolve_key(paths, None, "CX_PSEUDONYM_KEY", True)
    monkeypatch.delenv("CI")
    with pytest.raises(PseudonymKeyError, match="allows no local key file"):
        resolve_key(paths, None, "CX_PSEUDONYM_KEY", False)


def test_a_pseudonym_is_the_hmac_sha256_of_the_value():
    assert pseudonym("taro@example.jp", KEY) == hmac.new(KEY, b"taro@example.jp", hashlib.sha256).hexdigest()
    assert pseudonym(None, KEY) is None
    assert pseudonym("taro@example.jp", KEY) != pseudonym("taro@example.jp", b"j" * 40)


@pytest.mark.parametrize("key", [KEY, b"s" * 64, ("長い鍵" * 30).encode("utf-8")], ids=["short", "one block", "hashed"])
def test_the_sql_pseudonym_is_the_python_one(key):
    values = ["taro@example.jp", "山田@例え.jp", "+81312345678", "", "x" * 200, None]
    with duckdb.connect() as con:
        register_duckdb_function(con, key)
        rows = con.execute("select cx_pseudonym(v) from unnest(?) with ordinality as t(v, i) order by i", [values])
        got = [row[0] for row in rows.fetchall()]
        # the key is a connection variable, never text of the function
        macro = con.execute("select macro_definition from duckdb_functions() where function_name = 'cx_pseudonym'").fetchall()
    assert got == [pseudonym(v, key) for v in values]
    assert key.decode("utf-8") not in str(macro) and "getvariable" in str(macro)


def test_the_sql_pseudonym_without_a_key_fails_on_its_first_value_with_the_reason():
    with duckdb.connect() as con:
        register_failing_duckdb_function(con, "CX_PSEUDONYM_KEY is not set: ...")
        assert con.execute("select cx_pseudonym(null)").fetchall() == [(None,)]
        with pytest.raises(duckdb.Error, match="CX_PSEUDONYM_KEY is not set"):
            con.execute("select cx_pseudonym('taro@example.jp')").fetchall()


# --- the PII scan --------------------------------------------------------------------------


def _patterns():
    return load_quality_settings().params("pii_scan").patterns


@pytest.mark.parametrize(
    "planted",
    [
        "taro.yamada@example.co.jp",
        "contact me: Taro.Yamada+cx@mail.example.com please",
        "+81312345678",
        "03-1234-5678",
        "090 1234 5678",
        "03(1234)5678",
        "09012345678",
    ],
)
def test_the_pii_scan_finds_a_raw_email_or_phone_anywhere_in_a_text_column(planted):
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.m (customer_id varchar, note varchar, n bigint)")
        con.execute("insert into marts.m values ('cus_1', 'fine', 1), ('cus_2', ?, 2)", [planted])
        hits, scanned = scan_table(con, "marts", "m", _patterns())
    assert scanned == 2
    assert [(h.column, h.values) for h in hits] == [("note", 1)]
    assert planted not in " ".join(hits[0].examples)  # findings never copy the value they found


def test_hashes_ids_dates_and_names_are_not_mistaken_for_emails_or_phones():
    values = [
        pseudonym("taro@example.jp", KEY),
        pseudonym("+81312345678", KEY),
        "cus_0123456789abcdef",
        "CRM-0012345",
        "ACC-000123|tanaka.k42|2025-03-01",
        "2026-06-30T00:00:00.000000Z",
        "O'Brien \"Bob\" 😀 山田 太郎",
        "crm_contacts: opted_out | email_events: opted_in",
        # UUIDs (device ids, event ids) with all-digit groups
        "45bd028f-0123-4567-8901-0e51e78b2108",
        "d09cd3f0-0312-3456-7890-123451e78b08",
    ]
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.m as select unnest(?) as value", [values])
        hits, _ = scan_table(con, "marts", "m", _patterns())
    assert hits == []


def test_the_pii_scan_counts_each_kind_of_each_column_apart():
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.m (clean varchar, mixed varchar, mail varchar)")
        con.execute(
            "insert into marts.m values ('a', 'taro@example.jp', 'x'), ('b', '03-1234-5678', 'hanako@example.jp'),"
            " ('c', 'call +81312345678 or jiro@example.jp', null), ('d', 'fine', 'fine')"
        )
        hits, scanned = scan_table(con, "marts", "m", _patterns())
    assert scanned == 3
    assert sorted((h.column, h.kind, h.values) for h in hits) == [
        ("mail", "email", 1), ("mixed", "email", 2), ("mixed", "phone", 2),
    ]  # fmt: skip


def test_masking_keeps_the_shape_not_the_person():
    assert mask("taro.yamada@example.co.jp") == "t***@e***"
    assert mask("+81312345678") == "+*********78"


# --- suppression at ingestion ----------------------------------------------------------------


def test_ingestion_drops_suppressed_people_before_accept_or_quarantine_and_counts_them(tmp_path):
    registry = parse_registry(registry_doc())
    spec = registry.source("people")
    paths = data_paths(tmp_path)
    erased = good_person("P2", email="Erased.Person@Example.COM ")
    broken = good_person("P3", email="erased.person@example.com", score="not a number")  # would be quarantined
    write_landing(paths, "people", "a.csv", people_csv(good_person("P1"), erased, broken, good_person("P4")))
    add_to_suppression(
        paths,
        {IDENTIFIER: {identifier_hash("email", "erased.person@example.com", KEY)}, RECORD: {record_hash("people", "P4", KEY)}},
        request_id="REQ-1",
        when=__import__("datetime").datetime.now(__import__("datetime").UTC),
    )
    suppression = load_suppression(paths, lambda: KEY)
    result = ingest_source(spec, registry.defaults, paths, suppression=suppression)
    assert (result.rows_in, result.rows_accepted, result.rows_quarantined, result.rows_suppressed) == (4, 1, 0, 3)
    assert result.suppressed_by_identifier == {"record": 1, "email": 2}
    accepted = pl.read_parquet(result.outputs["accepted"])
    assert accepted["source_record_id"].to_list() == ["P1"]
    assert suppressed_rows(paths.ingested_dir("people")) == 3
    raw = b"".join(p.read_bytes() for p in paths.ingested.rglob("*") if p.is_file())
    assert b"rased" not in raw.lower()


def test_the_suppression_list_holds_hashes_only_and_needs_no_key_while_empty(tmp_path):
    paths = data_paths(tmp_path)
    assert load_suppression(paths, lambda: pytest.fail("no key needed")).empty
    when = __import__("datetime").datetime.now(__import__("datetime").UTC)
    added = add_to_suppression(paths, {IDENTIFIER: {identifier_hash("email", "a.b@example.jp", KEY)}}, "R1", when)
    again = add_to_suppression(paths, {IDENTIFIER: {identifier_hash("email", "a.b@example.jp", KEY)}}, "R2", when)
    assert (added, again) == (1, 0)
    stored = (privacy_dir(paths) / "suppression.parquet").read_bytes()
    assert b"a.b@example.jp" not in stored


# --- the request file ----------------------------------------------------------------------


def _requests(tmp_path: Path, text: str):
    path = tmp_path / "erasure_requests.csv"
    path.write_text(text, encoding="utf-8")
    return read_requests(path, load_privacy_settings(), load_registry()), path


def test_requests_are_normalised_as_ingestion_normalises_identifiers(tmp_path):
    requests, _ = _requests(
        tmp_path,
        "identifier_type,value,request_id\n email , Taro@Example.COM ,T-1\nphone,03-1234-5678,\ncustomer_id,cus_1,T-3\n",
    )
    assert [(r.row, r.identifier_type, r.value, r.request_id) for r in requests] == [
        (2, "email", "taro@example.com", "T-1"),
        (3, "phone", "+81312345678", "row-3"),
        (4, "customer_id", "cus_1", "T-3"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("type,value\nemail,a@b.jp\n", r"row 1: missing column\(s\) identifier_type"),
        ("identifier_type,value\nemail,a@b.jp\nfax,0312345678\n", r"row 3: field identifier_type: 'fax' is not one of"),
        ("identifier_type,value\nemail,not-an-address\n", r"row 2: field value: empty or not a valid email"),
    ],
)
def test_a_bad_request_names_the_file_row_and_field_but_not_the_value(tmp_path, text, message):
    with pytest.raises(ErasureError, match=message) as error:
        _requests(tmp_path, text)
    assert "erasure_requests.csv" in str(error.value) and "not-an-address" not in str(error.value)
