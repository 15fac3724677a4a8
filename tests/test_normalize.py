"""Per-type normalisation: the Polars expressions ingestion types every field with."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from cx_pipeline.ingest import normalize
from cx_pipeline.lib import e164
from cx_pipeline.ingest.normalize import (
    clean_text,
    normalize_country,
    normalize_currency,
    normalize_email,
    normalize_field,
    normalize_name,
    normalize_phone,
    normalize_string,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_float,
    parse_int,
    parse_timestamp,
    phone_digits,
)
from cx_pipeline.ingest.registry import FieldSpec, RegistryDefaults


def apply(expr_for, values: list, dtype=pl.String) -> list:
    frame = pl.DataFrame({"x": pl.Series(values, dtype=dtype)})
    return frame.select(expr_for(pl.col("x")).alias("y"))["y"].to_list()


def one(expr_for, value):
    return apply(expr_for, [value])[0]


# --- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "ABC123"),  # full-width letters and digits -> ASCII
        ("ｶﾀｶﾅ", "カタカナ"),  # half-width katakana -> full-width
        ("ｶﾞｯｺｳ", "ガッコウ"),  # half-width dakuten combine into one character
        ("山田\u3000太郎", "山田 太郎"),  # ideographic space
        ("  Acme \t  Corp\n ", "Acme Corp"),  # trimmed, inner runs collapsed
        ("a\u00a0\u2003b", "a b"),  # no-break and em spaces
        ("", None),
        ("  \u3000 ", None),
        (None, None),
    ],
)
def test_strings_are_nfkc_trimmed_and_collapsed(raw, expected):
    assert one(normalize_string, raw) == expected


def test_names_keep_case_and_japanese_script():
    assert apply(normalize_name, ["  McDonald\u3000ｼﾞｮﾝ ", "佐藤　花子", "ｽｽﾞｷ ｲﾁﾛｳ"]) == [
        "McDonald ジョン",
        "佐藤 花子",
        "スズキ イチロウ",
    ]


def test_clean_text_is_what_every_type_starts_from():
    assert apply(clean_text, ["  x  ", "", "Ｘ"]) == ["x", None, "X"]


# --- email -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Taro.Yamada@Example.COM ", "taro.yamada@example.com"),
        ("ＵＳＥＲ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "user@example.com"),
        ("\u3000info@acme.co.jp\u3000", "info@acme.co.jp"),
        ("no-at-sign", None),
        ("two@@example.com", None),
        ("a b@example.com", None),
        ("user@localhost", None),
        ("", None),
    ],
)
def test_email(raw, expected):
    assert one(normalize_email, raw) == expected


# --- phone -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03-1234-5678", "+81312345678"),
        ("0312345678", "+81312345678"),
        ("090-1234-5678", "+819012345678"),
        ("+81 3 1234 5678", "+81312345678"),
        ("+81-90-1234-5678", "+819012345678"),
        ("+81 (0)3 1234 5678", "+81312345678"),
        ("(03) 1234-5678", "+81312345678"),
        ("03(1234)5678", "+81312345678"),
        ("０３－１２３４－５６７８", "+81312345678"),
        ("０９０ー１２３４ー５６７８", "+819012345678"),  # katakana long-vowel mark typed as a dash
        ("03-1234-5678 内線 12", "+81312345678"),  # extension dropped
        ("+1 212 555 0100", "+12125550100"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("+1-212-555-0100 ext. 7", "+12125550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+39 06 1234 5678", "+390612345678"),  # Italy keeps its leading zero
    ],
)
def test_phones_become_e164(raw, expected):
    assert one(lambda e: normalize_phone(e, "JP"), raw) == expected


def test_default_region_decides_national_numbers():
    assert one(lambda e: normalize_phone(e, "US"), "(212) 555-0100") == "+12125550100"
    assert one(lambda e: normalize_phone(e, "JP"), "(212) 555-0100") != "+12125550100"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Placeholders are kept, deterministically, for identity resolution's junk guards.
        ("0000000000", "+0000000000"),
        ("000-0000-0000", "+00000000000"),
        ("+0000000000", "+0000000000"),
        ("+999 1234 5678", "+99912345678"),  # no such country code
    ],
)
def test_unusable_digit_strings_are_kept_not_rejected(raw, expected):
    assert one(lambda e: normalize_phone(e, "JP"), raw) == expected


@pytest.mark.parametrize("raw", ["n/a", "unknown", "090-abcd-5678", "12", "1" * 18, "", None])
def test_text_that_is_not_phone_shaped_is_invalid(raw):
    assert one(lambda e: normalize_phone(e, "JP"), raw) is None


def test_phone_digits_is_the_vectorised_first_pass():
    assert apply(phone_digits, ["０３－１２３４－５６７８", "+81 3 1234 5678", "n/a"]) == [
        "0312345678",
        "+81312345678",
        None,
    ]


def test_phonenumbers_is_called_once_per_distinct_digit_string(monkeypatch):
    calls: list[str] = []
    real = e164.to_e164

    def counting(digits: str, region: str) -> str:
        calls.append(digits)
        return real(digits, region)

    monkeypatch.setattr(e164, "to_e164", counting)
    values = ["03-1234-5678", "(03) 1234-5678", "０３－１２３４－５６７８", "+81 3 1234 5678", None, "n/a"] * 50
    out = apply(lambda e: normalize_phone(e, "JP"), values)
    assert sorted(calls) == ["+81312345678", "0312345678"]
    assert set(out) == {"+81312345678", None}


# Digit strings of every outcome: national and international, junk, unknown country codes,
# Italy's leading zero, digits of another script (phonenumbers reads them; the pipe is UTF-8).
MIXED_DIGITS = [
    "0312345678", "+81312345678", "09012345678", "+12125550100", "2125550100", "+442079460958",
    "+390612345678", "0000000000", "+99912345678", "٠٣١٢٣٤٥٦٧٨", "12345", "+1" + "9" * 16,
]  # fmt: skip


def test_many_numbers_are_split_over_worker_processes_with_the_same_results_in_order(monkeypatch):
    monkeypatch.setattr(e164, "usable_cores", lambda: 3)
    numbers = [f"0312{n:06d}" for n in range(3_000)] + MIXED_DIGITS * 10
    serial = e164.all_to_e164(numbers, "JP", parallel_from=len(numbers) + 1)
    workers: list[e164._Worker] = []
    real_worker = e164._Worker

    def recorded(part: list[str], region: str) -> e164._Worker:
        workers.append(real_worker(part, region))
        return workers[-1]

    monkeypatch.setattr(e164, "_Worker", recorded)
    assert e164.all_to_e164(numbers, "JP", parallel_from=1) == serial
    assert len(workers) == 2  # three cores: this process and two workers, a third of the numbers each
    assert serial[-len(MIXED_DIGITS) :] == [e164.to_e164(d, "JP") for d in MIXED_DIGITS]
    assert serial[:2] == ["+81312000000", "+81312000001"]


def test_a_failing_worker_is_an_error_that_says_why(monkeypatch, tmp_path):
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text("#!/bin/sh\necho 'no phonenumbers here' >&2\nexit 3\n")
    python.chmod(0o755)
    monkeypatch.setattr(e164, "usable_cores", lambda: 2)
    monkeypatch.setattr(e164.sys, "prefix", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"exit 3, 0 of 2 numbers back\): no phonenumbers here"):
        e164.all_to_e164(["0312345678", "0312345679", "0312345670", "0312345671"], "JP", parallel_from=1)


# --- country, currency -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JP", "JP"),
        (" jp ", "JP"),
        ("Japan", "JP"),
        ("日本", "JP"),
        ("日本国", "JP"),
        ("ＪＰ", "JP"),
        ("JPN", "JP"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("united states of america", "US"),
        ("アメリカ合衆国", "US"),
        ("米国", "US"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("イギリス", "GB"),
        ("Deutschland", "DE"),
        ("South Korea", "KR"),
        ("Atlantis", None),
        ("", None),
    ],
)
def test_country_codes_and_names(raw, expected):
    assert one(normalize_country, raw) == expected


def test_currency_must_be_one_of_the_registry_currencies():
    out = apply(lambda e: normalize_currency(e, ("JPY", "USD")), [" jpy ", "USD", "ＵＳＤ", "EUR", "XXX", ""])
    assert out == ["JPY", "USD", "USD", None, None, None]


# --- numbers, booleans -------------------------------------------------------------------


def test_int():
    assert apply(parse_int, ["42", " -7 ", "+3", "１２", "1,234", "3.0", "seven", "1e3", ""]) == [
        42,
        -7,
        3,
        12,
        1234,
        None,
        None,
        None,
        None,
    ]


def test_float_rejects_non_finite():
    assert apply(parse_float, ["0.5", "-1e3", "1,234.5", "nan", "inf", "x"]) == [0.5, -1000.0, 1234.5, None, None, None]


def test_decimal_is_money_with_cents():
    out = apply(parse_decimal, ["12.5", "-12.50", "1,200.50", "1000", ".5", "12.340", "12.345", "1e3", "abc", ""])
    assert out == [
        Decimal("12.50"),
        Decimal("-12.50"),
        Decimal("1200.50"),
        Decimal("1000.00"),
        Decimal("0.50"),
        Decimal("12.34"),
        None,  # a third significant decimal would be silently truncated by a cast: rejected
        None,
        None,
        None,
    ]
    frame = pl.DataFrame({"x": ["1.5"]}).select(parse_decimal(pl.col("x")))
    assert frame.schema["x"] == pl.Decimal(18, 2)


def test_bool():
    raw = ["true", "FALSE", "1", "0", "Yes", "no", "y", "N", "maybe", ""]
    assert apply(parse_bool, raw) == [True, False, True, False, True, False, True, False, None, None]


# --- dates, timestamps -------------------------------------------------------------------


def test_date_uses_the_declared_format():
    assert apply(lambda e: parse_date(e, "%Y/%m/%d"), ["2024/01/31", "2024/02/30", "2024-01-31"]) == [
        date(2024, 1, 31),
        None,
        None,
    ]
    assert apply(lambda e: parse_date(e, "iso8601"), ["2024-01-31", "２０２４-０１-３１"]) == [date(2024, 1, 31)] * 2


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-05T10:00:00+09:00", utc(2024, 1, 5, 1)),
        ("2024-01-05T10:00:00+0900", utc(2024, 1, 5, 1)),
        ("2024-01-05T10:00:00+09", utc(2024, 1, 5, 1)),
        ("2024-01-05T01:00:00Z", utc(2024, 1, 5, 1)),
        ("2024-01-05T01:00:00.250Z", utc(2024, 1, 5, 1, 0, 0, 250000)),
        ("2024-01-04T20:00:00-05:00", utc(2024, 1, 5, 1)),
        ("2024-01-05 10:00:00", utc(2024, 1, 5, 1)),  # naive: read in Asia/Tokyo
        ("2024-01-05T10:00:00", utc(2024, 1, 5, 1)),
        ("2024-02-30T10:00:00Z", None),
        ("yesterday", None),
    ],
)
def test_iso8601_timestamps(raw, expected):
    assert one(lambda e: parse_timestamp(e, "iso8601", "Asia/Tokyo"), raw) == expected


def test_strftime_timestamps_are_read_in_their_timezone():
    tokyo = apply(lambda e: parse_timestamp(e, "%Y-%m-%d %H:%M:%S", "Asia/Tokyo"), ["2024-01-05 09:30:00"])
    in_utc = apply(lambda e: parse_timestamp(e, "%Y-%m-%d %H:%M:%S", "UTC"), ["2024-01-05 09:30:00"])
    slashes = apply(lambda e: parse_timestamp(e, "%d/%m/%Y %H:%M", "Asia/Tokyo"), ["05/01/2024 09:30"])
    with_offset = apply(lambda e: parse_timestamp(e, "%Y-%m-%d %H:%M:%S%z", "Asia/Tokyo"), ["2024-01-05 09:30:00+0000"])
    assert tokyo == [utc(2024, 1, 5, 0, 30)]
    assert in_utc == [utc(2024, 1, 5, 9, 30)]
    assert slashes == [utc(2024, 1, 5, 0, 30)]
    assert with_offset == [utc(2024, 1, 5, 9, 30)]


def test_wall_clock_times_that_do_not_exist_are_invalid_not_an_error():
    # 02:30 on 2024-03-10 was skipped in New York (DST); 01:30 on 2024-11-03 happened twice.
    out = apply(
        lambda e: parse_timestamp(e, "%Y-%m-%d %H:%M", "America/New_York"), ["2024-03-10 02:30", "2024-11-03 01:30"]
    )
    assert out == [None, utc(2024, 11, 3, 5, 30)]  # the earlier of the two instants


def test_timestamps_come_out_as_utc_microseconds():
    frame = pl.DataFrame({"x": ["2024-01-05T10:00:00Z"]}).select(parse_timestamp(pl.col("x"), "iso8601", "UTC"))
    assert frame.schema["x"] == pl.Datetime("us", "UTC")


# --- native parquet values ---------------------------------------------------------------

DEFAULTS = RegistryDefaults()


def field(kind: str, **kw) -> FieldSpec:
    return FieldSpec(name="f", column="x", type=kind, **kw)


def normalized(values: pl.Series, spec: FieldSpec) -> list:
    frame = pl.DataFrame({"x": values})
    return frame.select(normalize_field(pl.col("x"), frame.schema["x"], spec, DEFAULTS))["x"].to_list()


def test_native_timestamps_keep_their_instant_and_naive_ones_use_the_zone():
    aware = pl.Series([datetime(2024, 1, 5, 10)]).dt.replace_time_zone("Asia/Tokyo")
    naive = pl.Series([datetime(2024, 1, 5, 10)])
    nanos = pl.Series([datetime(2024, 1, 5, 1)], dtype=pl.Datetime("ns", "UTC"))
    assert normalized(aware, field("timestamp")) == [utc(2024, 1, 5, 1)]
    assert normalized(naive, field("timestamp")) == [utc(2024, 1, 5, 1)]  # defaults.timezone: Tokyo
    assert normalized(naive, field("timestamp", timezone="UTC")) == [utc(2024, 1, 5, 10)]
    assert normalized(nanos, field("timestamp")) == [utc(2024, 1, 5, 1)]


def test_native_dates_numbers_and_booleans_are_taken_as_they_are():
    assert normalized(pl.Series([date(2024, 1, 5)]), field("date")) == [date(2024, 1, 5)]
    assert normalized(pl.Series([3, None]), field("int")) == [3, None]
    assert normalized(pl.Series([3.0, 2.5]), field("int")) == [3, None]  # 2.5 is no integer
    assert normalized(pl.Series([True]), field("bool")) == [True]
    assert normalized(pl.Series([1200, 5]), field("decimal")) == [Decimal("1200.00"), Decimal("5.00")]
    assert normalized(pl.Series([0.1 + 0.2]), field("decimal")) == [Decimal("0.30")]  # float money rounded to cents
    assert normalized(pl.Series([123]), field("string")) == ["123"]  # text fields read any value as text
