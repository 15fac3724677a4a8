"""Ingestion end to end on small hand-made landing folders: typing, quarantine, outputs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from ingest_fixtures import (
    PEOPLE_HEADER,
    good_person,
    load_test_registry,
    output,
    people_csv,
    registry_doc,
    write_landing,
    write_parquet_landing,
    write_registry,
)

from cx_pipeline.ingest import readers
from cx_pipeline.ingest.ingest import ingest_all, ingest_source
from cx_pipeline.ingest.outputs import (
    ATTRIBUTES_SCHEMA,
    IDENTIFIERS_SCHEMA,
    OUTPUT_NAMES,
    QUARANTINE_SCHEMA,
    TOUCHPOINTS_SCHEMA,
    output_schemas,
)
from cx_pipeline.ingest.readers import LandingFileError
from cx_pipeline.ingest.registry import load_registry
from cx_pipeline.paths import DataPaths
from cx_pipeline.quality.landing import count_records


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def paths(tmp_path) -> DataPaths:
    return DataPaths(tmp_path / "data")


@pytest.fixture
def registry(tmp_path):
    return load_test_registry(tmp_path)


def ingest(registry, paths, source: str):
    return ingest_source(registry.source(source), registry.defaults, paths)


def by_row(frame: pl.DataFrame) -> dict[int, dict]:
    return {row["_source_row"]: row for row in frame.iter_rows(named=True)}


# --- CSV: every bad-row class ------------------------------------------------------------

# record number -> (row text, expected reason, expected field)
PEOPLE_ROWS = {
    1: (good_person("P1"), None, None),
    2: (good_person("P2", seen_at=""), "missing_required_field", "seen_at"),
    3: (good_person("P3", seen_at="2024-13-45 00:00:00"), "invalid_timestamp", "seen_at"),
    4: (good_person("P4", birthday="1990/02/30"), "invalid_date", "birthday"),
    5: (good_person("P5", amount="12.345"), "invalid_decimal", "amount"),
    6: (good_person("P6", score="seven"), "invalid_int", "score"),
    7: (good_person("P7", email="not-an-email"), "invalid_email", "email"),
    8: (good_person("P8", phone="n/a"), "invalid_phone", "phone"),
    9: (good_person("P9", active="maybe"), "invalid_bool", "active"),
    10: (good_person("P10", country="Atlantis"), "invalid_country", "country"),
    11: (good_person("P11", currency="XXX"), "unknown_currency", "currency"),
    12: (good_person("P12", score="11"), "out_of_range", "score"),
    13: (good_person("P13", amount="-12.5"), "out_of_range", "amount"),
    14: (good_person("P14", tier="bronze"), "not_allowed_value", "tier"),
    15: ("P15,too,few", "malformed_record", None),
    16: (good_person("P16") + ",one too many", "malformed_record", None),
    17: (good_person("P1", name="Copy"), "duplicate_record_id", "person_id"),
    18: (good_person("P18", email="bad", score="99"), "invalid_email", "email"),
    19: (good_person("P19", ratio="abc"), "invalid_float", "ratio"),
    20: (good_person("P20", phone="0000000000"), None, None),
    21: (good_person("Ｐ21", name="ｽｽﾞｷ\u3000ｲﾁﾛｳ", email="ＳＵＺＵＫＩ＠ＥＸＡＭＰＬＥ．ＪＰ", phone="０９０－１２３４－５６７８"), None, None),
}


@pytest.fixture
def people_run(registry, paths):
    write_landing(paths, "people", "a.csv", people_csv(*(text for text, _, _ in PEOPLE_ROWS.values())))
    return ingest(registry, paths, "people")


def test_each_bad_row_class_is_quarantined_with_its_reason_and_field(people_run):
    quarantine = by_row(output(people_run, "quarantine"))
    expected = {n: (reason, fld) for n, (_, reason, fld) in PEOPLE_ROWS.items() if reason}
    assert {n: (q["reason"], q["field"]) for n, q in quarantine.items()} == expected
    assert all(q["source"] == "people" and q["_source_file"] == "landing/people/a.csv" for q in quarantine.values())


def test_details_name_the_file_the_row_and_the_field(people_run):
    quarantine = by_row(output(people_run, "quarantine"))
    assert quarantine[13]["detail"] == "people/a.csv row 13 field 'amount' (column amount): '-12.5' is below min 0"
    assert quarantine[12]["detail"] == "people/a.csv row 12 field 'score' (column score): '11' is above max 10"
    assert quarantine[2]["detail"] == "people/a.csv row 2 field 'seen_at' (column seen_at): required value is missing"
    assert quarantine[11]["detail"].endswith("'XXX' is not an accepted currency (JPY, USD)")
    assert quarantine[14]["detail"].endswith("'bronze' is not one of: gold, silver")
    assert quarantine[15]["detail"] == "people/a.csv row 15: malformed CSV record: 3 fields where the header has 13"
    assert quarantine[16]["detail"].endswith("14 fields where the header has 13")
    assert quarantine[17]["detail"] == (
        "people/a.csv row 17 field 'person_id': record id 'P1' was already accepted from people/a.csv row 1"
    )
    for n, row in quarantine.items():
        assert row["detail"].startswith(f"people/a.csv row {n}")
        if row["field"] and row["reason"] != "duplicate_record_id":
            assert f"field '{row['field']}'" in row["detail"]


def test_a_row_with_several_problems_gets_the_first_as_reason_and_all_in_detail(people_run):
    row = by_row(output(people_run, "quarantine"))[18]
    assert row["reason"] == "invalid_email"  # email comes before score in the registry
    assert "field 'email' (column email): 'bad' is not an email address" in row["detail"]
    assert "; field 'score' (column score): '99' is above max 10" in row["detail"]


def test_quarantine_keeps_the_original_record(people_run):
    quarantine = by_row(output(people_run, "quarantine"))
    assert json.loads(quarantine[13]["raw_record"]) == dict(
        zip(PEOPLE_HEADER.split(","), PEOPLE_ROWS[13][0].replace('"1,200.50"', "X").split(","), strict=True)
    ) | {"amount": "-12.5"}
    assert json.loads(quarantine[2]["raw_record"])["seen_at"] == ""
    assert quarantine[15]["raw_record"] == "P15,too,few"  # malformed: the raw line itself
    assert quarantine[16]["raw_record"] == PEOPLE_ROWS[16][0]


def test_accepted_rows_are_typed_and_normalised(people_run):
    accepted = by_row(output(people_run, "accepted"))
    assert sorted(accepted) == [1, 20, 21]
    assert accepted[1] == {
        "source_record_id": "P1",
        "person_id": "P1",
        "name": "山田 太郎",
        "email": "taro@example.com",
        "phone": "+81312345678",
        "country": "JP",
        "score": 7,
        "ratio": 0.5,
        "amount": Decimal("1200.50"),
        "currency": "JPY",
        "active": True,
        "birthday": date(1990, 1, 31),
        "seen_at": utc(2024, 1, 5, 0, 30),  # 09:30 in Tokyo
        "tier": "gold",
        "_source_file": "landing/people/a.csv",
        "_source_row": 1,
    }
    assert accepted[20]["phone"] == "+0000000000"  # placeholder kept for identity resolution to judge
    assert (accepted[21]["person_id"], accepted[21]["name"], accepted[21]["email"], accepted[21]["phone"]) == (
        "P21",
        "スズキ イチロウ",
        "suzuki@example.jp",
        "+819012345678",
    )


def test_every_row_is_accounted_for(people_run):
    result = people_run
    assert result.rows_in == len(PEOPLE_ROWS) == 21
    assert result.rows_accepted == 3 and result.rows_quarantined == 18
    assert result.rows_in == result.rows_accepted + result.rows_quarantined
    assert result.quarantined_by_reason["malformed_record"] == 2
    assert result.quarantined_by_reason["out_of_range"] == 2
    assert sum(result.quarantined_by_reason.values()) == result.rows_quarantined
    assert result.files == ["landing/people/a.csv"]
    assert output(result, "accepted").height == result.rows_accepted
    assert output(result, "quarantine").height == result.rows_quarantined


def test_identifiers_and_touchpoints_come_from_accepted_rows(people_run):
    identifiers = output(people_run, "identifiers")
    assert set(identifiers.iter_rows()) == {
        ("people", "P1", "crm_id", "P1", "person_id"),
        ("people", "P1", "email", "taro@example.com", "email"),
        ("people", "P1", "phone", "+81312345678", "phone"),
        ("people", "P20", "crm_id", "P20", "person_id"),
        ("people", "P20", "email", "taro@example.com", "email"),
        ("people", "P20", "phone", "+0000000000", "phone"),
        ("people", "P21", "crm_id", "P21", "person_id"),
        ("people", "P21", "email", "suzuki@example.jp", "email"),
        ("people", "P21", "phone", "+819012345678", "phone"),
    }
    assert people_run.identifiers_by_type == {"crm_id": 3, "email": 3, "phone": 3}
    touchpoints = output(people_run, "touchpoints")
    assert touchpoints.row(0) == ("people", "P1", "sales", "crm", "person_seen", utc(2024, 1, 5, 0, 30))
    assert touchpoints.height == people_run.rows_accepted


def test_attributes_are_the_marked_fields_of_accepted_rows_with_when_they_were_seen(people_run):
    attributes = output(people_run, "attributes")
    assert attributes.schema == ATTRIBUTES_SCHEMA
    p1 = {row[2]: row[3:] for row in attributes.filter(pl.col("source_record_id") == "P1").iter_rows()}
    # only `attribute: true` fields (name, email), normalised, observed at the touchpoint time
    assert p1 == {
        "name": ("山田 太郎", utc(2024, 1, 5, 0, 30)),
        "email": ("taro@example.com", utc(2024, 1, 5, 0, 30)),
    }
    assert set(attributes["source_record_id"]) == {"P1", "P20", "P21"}


def test_preview_is_the_first_accepted_rows(people_run):
    assert people_run.preview["source_record_id"].to_list() == ["P1", "P20", "P21"]


# --- CSV: files, numbering, encodings -----------------------------------------------------


def test_files_are_read_in_name_order_and_the_first_occurrence_wins(registry, paths):
    write_landing(paths, "people", "b.csv", people_csv(good_person("P1", name="Later"), good_person("P30")))
    write_landing(paths, "people", "a.csv", people_csv(good_person("P1", name="Earlier")))
    result = ingest(registry, paths, "people")
    assert result.files == ["landing/people/a.csv", "landing/people/b.csv"]
    accepted = output(result, "accepted")
    assert accepted.select("person_id", "name", "_source_file", "_source_row").rows() == [
        ("P1", "Earlier", "landing/people/a.csv", 1),
        ("P30", "山田 太郎", "landing/people/b.csv", 2),
    ]
    [duplicate] = output(result, "quarantine").rows(named=True)
    assert (duplicate["reason"], duplicate["_source_file"], duplicate["_source_row"]) == (
        "duplicate_record_id",
        "landing/people/b.csv",
        1,
    )
    assert duplicate["detail"].endswith("record id 'P1' was already accepted from people/a.csv row 1")


def test_a_broken_first_row_does_not_claim_its_record_id(registry, paths):
    write_landing(paths, "people", "a.csv", people_csv(good_person("P1", score="x"), good_person("P1")))
    result = ingest(registry, paths, "people")
    assert output(result, "accepted")["_source_row"].to_list() == [2]
    assert output(result, "quarantine")["reason"].to_list() == ["invalid_int"]


def test_row_numbers_count_records_not_lines_and_blank_lines_are_counted_apart(registry, paths):
    multi_line = good_person("P1", name='"first line\nsecond line"')
    content = "\r\n".join([PEOPLE_HEADER, multi_line, "", good_person("P2"), ",,,,,,,,,,,,", good_person("P3", score="x")])
    write_landing(paths, "people", "a.csv", content + "\r\n")
    result = ingest(registry, paths, "people")
    accepted = output(result, "accepted")
    assert accepted.select("person_id", "_source_row").rows() == [("P1", 1), ("P2", 3)]
    assert accepted["name"][0] == "first line second line"  # inner newline collapsed like any whitespace
    assert output(result, "quarantine").select("_source_row", "reason").rows() == [(5, "invalid_int")]
    # the blank line and the row of empty fields carry no data: skipped, counted, not in rows_in
    assert result.empty_records_skipped == 2
    assert result.rows_in == 3 == result.rows_accepted + result.rows_quarantined
    # the row reconciliation check's own count (the csv module) agrees
    assert count_records(paths.landing_dir("people") / "a.csv", registry.sources["people"]) == 3


def test_a_missing_column_quarantines_the_files_records_and_keeps_them(registry, paths):
    header = PEOPLE_HEADER.removesuffix(",tier")
    rows = [good_person(f"P{i}").removesuffix(",gold") for i in (1, 2)]
    write_landing(paths, "people", "a.csv", "\n".join([header, *rows]) + "\n")
    write_landing(paths, "people", "b.csv", people_csv(good_person("P3")))
    result = ingest(registry, paths, "people")
    assert output(result, "accepted")["person_id"].to_list() == ["P3"]  # other files still flow
    quarantine = output(result, "quarantine")
    assert quarantine.select("_source_row", "reason", "field").rows() == [
        (1, "missing_column", "tier"),
        (2, "missing_column", "tier"),
    ]
    assert quarantine["detail"][0] == (
        "people/a.csv row 1: the file has no column 'tier' (field 'tier'); all its records are quarantined"
    )
    assert json.loads(quarantine["raw_record"][1])["id"] == "P2"


def test_the_declared_encoding_is_used(tmp_path, paths):
    doc = registry_doc()
    doc["sources"]["people"]["encoding"] = "cp932"
    registry = load_registry(write_registry(tmp_path, doc))
    write_landing(paths, "people", "a.csv", people_csv(good_person("P1", name="ﾔﾏﾀﾞ 太郎")).encode("cp932"))
    result = ingest(registry, paths, "people")
    assert output(result, "accepted")["name"].to_list() == ["ヤマダ 太郎"]


def test_undecodable_files_fail_with_the_file_named(registry, paths):
    write_landing(paths, "people", "a.csv", people_csv(good_person("P1")).encode("utf-8") + b"P2,\xff\xfe\n")
    with pytest.raises(LandingFileError, match=r"people/a\.csv"):
        ingest(registry, paths, "people")
    assert not list(paths.ingested_dir("people").glob(".parts-*"))  # nothing half-written left behind


# --- NDJSON ------------------------------------------------------------------------------

CLICK_LINES = [
    '{"click_id":"C1","kind":"view","at":"2024-01-05T10:00:00+09:00","count":3,"user.email":" A@B.COM "}',
    '{"click_id":"C2","kind":"view",',
    "",
    "[1,2]",
    '{"click_id":"C5","kind":"click","at":"2024-01-05T01:00:00Z","extra":{"nested":true}}',
    '{"click_id":"C6","kind":"hover","at":"2024-01-05T01:00:00Z"}',
    '{"click_id":"C7"}',
    "{}",
    '{"click_id":"C1","kind":"view","at":"2024-01-06T00:00:00Z"}',
    '"just a string"',
]


@pytest.fixture
def clicks_run(registry, paths):
    write_landing(paths, "clicks", "events.ndjson", "\n".join(CLICK_LINES) + "\n")
    return ingest(registry, paths, "clicks")


def test_ndjson_broken_lines_are_quarantined_with_the_raw_line(clicks_run):
    quarantine = by_row(output(clicks_run, "quarantine"))
    assert {n: (q["reason"], q["field"]) for n, q in quarantine.items()} == {
        2: ("malformed_record", None),
        4: ("malformed_record", None),
        6: ("not_allowed_value", "kind"),
        7: ("missing_required_field", "kind"),
        8: ("missing_required_field", "click_id"),
        9: ("duplicate_record_id", "click_id"),
        10: ("malformed_record", None),
    }
    assert quarantine[2]["raw_record"] == CLICK_LINES[1]
    assert quarantine[2]["detail"] == "clicks/events.ndjson row 2: malformed JSON record: not a valid JSON object"
    assert quarantine[6]["raw_record"] == CLICK_LINES[5]
    assert quarantine[7]["detail"] == (
        "clicks/events.ndjson row 7 field 'kind' (column kind): required value is missing; "
        "field 'at' (column at): required value is missing"
    )


def test_ndjson_rows_are_line_numbers_and_blank_lines_are_counted(clicks_run):
    assert clicks_run.rows_in == 9 and clicks_run.empty_records_skipped == 1
    assert clicks_run.rows_in == clicks_run.rows_accepted + clicks_run.rows_quarantined
    accepted = output(clicks_run, "accepted")
    assert accepted.select("click_id", "kind", "at", "count", "email", "_source_row").rows() == [
        ("C1", "view", utc(2024, 1, 5, 1), 3, "a@b.com", 1),  # JSON number read as text, typed as int
        ("C5", "click", utc(2024, 1, 5, 1), None, None, 5),
    ]


def test_ndjson_touchpoint_type_comes_from_a_field(clicks_run):
    touchpoints = output(clicks_run, "touchpoints")
    assert touchpoints.select("source_record_id", "department", "channel", "touchpoint_type").rows() == [
        ("C1", "marketing", "web", "view"),
        ("C5", "marketing", "web", "click"),
    ]
    assert output(clicks_run, "identifiers").rows() == [("clicks", "C1", "email", "a@b.com", "email")]


# --- Parquet -----------------------------------------------------------------------------


def usage_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": ["A1", "A1", "A1", "A2"],
            "login": ["u1", "u1", "u1", "ｕ２"],
            "usage_date": [date(2024, 1, 5), date(2024, 1, 5), date(2024, 1, 6), date(2024, 1, 5)],
            "minutes": [10, 20, -1, None],
            "last_seen": pl.Series([datetime(2024, 1, 5, 10)] * 4).dt.replace_time_zone("Asia/Tokyo"),
            "spend": [1.5, 2.0, 3.0, None],
        }
    )


def test_parquet_native_types_and_composite_record_ids(registry, paths):
    write_parquet_landing(paths, "usage", "part-0.parquet", usage_frame())
    result = ingest(registry, paths, "usage")
    accepted = output(result, "accepted")
    assert accepted.select("source_record_id", "minutes", "last_seen", "spend", "_source_row").rows() == [
        ("A1|u1|2024-01-05", 10, utc(2024, 1, 5, 1), Decimal("1.50"), 1),
        ("A2|u2|2024-01-05", None, utc(2024, 1, 5, 1), None, 4),
    ]
    assert output(result, "quarantine").select("_source_row", "reason", "field").rows() == [
        (2, "duplicate_record_id", "account_id|login|day"),
        (3, "out_of_range", "minutes"),
    ]
    raw = json.loads(output(result, "quarantine")["raw_record"][1])
    assert raw["minutes"] == "-1" and raw["usage_date"] == "2024-01-06"
    # a date becomes a touchpoint at midnight UTC
    assert output(result, "touchpoints")["occurred_at"].to_list() == [utc(2024, 1, 5), utc(2024, 1, 5)]


def test_parquet_missing_column(registry, paths):
    write_parquet_landing(paths, "usage", "part-0.parquet", usage_frame().drop("minutes"))
    result = ingest(registry, paths, "usage")
    assert result.rows_accepted == 0
    assert result.quarantined_by_reason == {"missing_column": 4}


# --- outputs -----------------------------------------------------------------------------


def test_outputs_have_the_documented_schemas(registry, paths, people_run):
    assert output(people_run, "quarantine").schema == QUARANTINE_SCHEMA
    assert output(people_run, "identifiers").schema == IDENTIFIERS_SCHEMA
    assert output(people_run, "touchpoints").schema == TOUCHPOINTS_SCHEMA
    accepted = output(people_run, "accepted").schema
    assert list(accepted) == ["source_record_id", *[f.name for f in registry.source("people").fields], "_source_file", "_source_row"]
    assert accepted["source_record_id"] == pl.String
    assert accepted["score"] == pl.Int64 and accepted["ratio"] == pl.Float64
    assert accepted["amount"] == pl.Decimal(18, 2) and accepted["active"] == pl.Boolean
    assert accepted["birthday"] == pl.Date and accepted["seen_at"] == pl.Datetime("us", "UTC")
    assert accepted["_source_row"] == pl.Int64
    assert QUARANTINE_SCHEMA == pl.Schema(
        {
            "source": pl.String,
            "_source_file": pl.String,
            "_source_row": pl.Int64,
            "reason": pl.String,
            "field": pl.String,
            "detail": pl.String,
            "raw_record": pl.String,
        }
    )
    assert TOUCHPOINTS_SCHEMA["occurred_at"] == pl.Datetime("us", "UTC")


def test_every_output_is_written_even_without_landing_files(registry, paths):
    result = ingest(registry, paths, "people")
    assert result.files == [] and result.rows_in == 0 and result.preview.height == 0
    schemas = output_schemas(registry.source("people"))
    for name in OUTPUT_NAMES:
        frame = output(result, name)
        assert frame.height == 0 and frame.schema == schemas[name]


def test_a_rerun_replaces_the_outputs(registry, paths):
    first = write_landing(paths, "people", "a.csv", people_csv(good_person("P1"), good_person("P2", score="x")))
    ingest(registry, paths, "people")
    first.unlink()
    write_landing(paths, "people", "b.csv", people_csv(good_person("P9")))
    result = ingest(registry, paths, "people")
    assert output(result, "accepted")["person_id"].to_list() == ["P9"]
    assert output(result, "quarantine").height == 0
    assert sorted(p.name for p in paths.ingested_dir("people").iterdir()) == [f"{n}.parquet" for n in sorted(OUTPUT_NAMES)]


def test_chunked_reading_gives_the_same_outputs(registry, paths, monkeypatch):
    write_landing(paths, "people", "a.csv", people_csv(*(text for text, _, _ in PEOPLE_ROWS.values())))
    write_landing(paths, "clicks", "events.ndjson", "\n".join(CLICK_LINES) + "\n")
    write_parquet_landing(paths, "usage", "part-0.parquet", usage_frame())
    whole = {s: {n: output(r, n) for n in OUTPUT_NAMES} for s, r in ingest_all(registry, paths).items()}
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)  # duplicates now span chunks
    chunked = ingest_all(registry, paths)
    for source, result in chunked.items():
        assert result.rows_in == result.rows_accepted + result.rows_quarantined
        for name in OUTPUT_NAMES:
            assert output(result, name).equals(whole[source][name]), (source, name)


# --- the project registry ----------------------------------------------------------------

ORDERS_CSV = """order_id,buyer_email,buyer_phone,buyer_name,postal_code,ordered_at,amount,currency,status
O-1, Hanako@Example.JP ,０３－１２３４－５６７８,佐藤　花子,100-0001,2024-03-01T10:15:00+09:00,1200,jpy,paid
O-2,bob@example.com,+1 212 555 0100,Bob Smith,,2024-03-01T01:15:00Z,-5,USD,placed
O-3,,,,,2024-03-02 08:00:00,99.99,XXX,placed
O-4,carol@example.com,,,,not-a-time,10,EUR,placed
O-1,dup@example.com,,,,2024-03-03T00:00:00Z,1,JPY,placed
O-5,dave@example.com,090-1234-5678,Dave,,2024-03-04T00:00:00Z,10,EUR,lost
"""

WEB_EVENTS = [
    '{"event_id":"W1","cookie_id":"ck1","event_type":"page_view","event_ts":"2024-03-01T00:00:00Z","page_url":"/"}',
    '{"event_id":"W2","cookie_id":"ck1","event_type":"form_submit","event_ts":"2024-03-01T09:05:00+09:00",'
    '"email":"Hanako@Example.JP"}',
    '{"event_id":"W3","cookie_id":"ck2","event_type":"page_vi',
    '{"event_id":"W4","cookie_id":"ck2","event_type":"checkout","event_ts":"2024-03-01T00:00:00Z"}',
]


def test_project_registry_orders_csv(paths):
    registry = load_registry()
    write_landing(paths, "orders", "orders_2024-03.csv", ORDERS_CSV)
    result = ingest_source(registry.source("orders"), registry.defaults, paths)
    assert (result.rows_in, result.rows_accepted, result.rows_quarantined) == (6, 1, 5)
    assert result.quarantined_by_reason == {
        "out_of_range": 1,
        "unknown_currency": 1,
        "invalid_timestamp": 1,
        "duplicate_record_id": 1,
        "not_allowed_value": 1,
    }
    accepted = output(result, "accepted").row(0, named=True)
    assert (accepted["email"], accepted["phone"], accepted["full_name"]) == (
        "hanako@example.jp",
        "+81312345678",
        "佐藤 花子",
    )
    assert (accepted["amount"], accepted["currency"], accepted["ordered_at"]) == (
        Decimal("1200.00"),
        "JPY",
        utc(2024, 3, 1, 1, 15),
    )
    detail = output(result, "quarantine").filter(pl.col("_source_row") == 2)["detail"].item()
    assert detail == "orders/orders_2024-03.csv row 2 field 'amount' (column amount): '-5' is below min 0"
    assert output(result, "touchpoints").row(0) == (
        "orders",
        "O-1",
        "commerce",
        "store",
        "order_placed",
        utc(2024, 3, 1, 1, 15),
    )


def test_project_registry_web_events_ndjson_with_a_broken_line(paths):
    registry = load_registry()
    write_landing(paths, "web_events", "2024-03-01.ndjson", "\n".join(WEB_EVENTS) + "\n")
    result = ingest_source(registry.source("web_events"), registry.defaults, paths)
    assert (result.rows_in, result.rows_accepted) == (4, 2)
    assert result.quarantined_by_reason == {"malformed_record": 1, "not_allowed_value": 1}
    broken = output(result, "quarantine").filter(pl.col("reason") == "malformed_record").row(0, named=True)
    assert (broken["_source_row"], broken["raw_record"]) == (3, WEB_EVENTS[2])
    assert broken["detail"].startswith("web_events/2024-03-01.ndjson row 3: ")
    assert set(output(result, "identifiers").select("identifier_type", "identifier_value").rows()) == {
        ("cookie_id", "ck1"),
        ("email", "hanako@example.jp"),
    }
    assert output(result, "touchpoints")["touchpoint_type"].to_list() == ["page_view", "form_submit"]
