"""Per-type normalisation as Polars expressions.

Every normaliser maps an input column to its canonical value, or to null when the input is
missing *or* cannot be read as that type. Callers tell the two apart by comparing with
`clean_text(input)`: non-null text that normalises to null is invalid. Keeping "what is the
value" and "is it a problem" apart lets one pass compute both for all rows, vectorised.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import polars as pl
from phonenumbers.geodata.locale import LOCALE_DATA

from cx_pipeline.ingest.registry import ISO8601, FieldSpec, RegistryDefaults
from cx_pipeline.lib.e164 import all_to_e164

MONEY = pl.Decimal(18, 2)
UTC_TIMESTAMP = pl.Datetime("us", "UTC")

# The Polars type each field type lands as (accepted.parquet's schema).
OUTPUT_DTYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "name": pl.String(),
    "email": pl.String(),
    "phone": pl.String(),
    "country": pl.String(),
    "currency": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "decimal": MONEY,
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": UTC_TIMESTAMP,
}


# --- text --------------------------------------------------------------------------------
#
# Each public normaliser takes raw text. Inside, `_<type>` functions take text that already
# went through clean_text, so ingestion cleans each column once (NFKC is the costly part).


def clean_text(expr: pl.Expr) -> pl.Expr:
    """NFKC (full-width ASCII -> ASCII, half-width kana -> full-width, U+3000 -> space),
    whitespace runs collapsed to one space, trimmed; empty -> null."""
    text = expr.str.normalize("NFKC").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(text != "").then(text)


def normalize_string(expr: pl.Expr) -> pl.Expr:
    return clean_text(expr)


def normalize_name(expr: pl.Expr) -> pl.Expr:
    # Same as string, case kept: "McDonald" and "van Dijk" must survive.
    return clean_text(expr)


_EMAIL_SHAPE = r"^[^\s@]+@[^\s@]+\.[^\s@]+$"


def normalize_email(expr: pl.Expr) -> pl.Expr:
    return _email(clean_text(expr))


def _email(clean: pl.Expr) -> pl.Expr:
    # Inner whitespace survives cleaning as one space, and makes the address invalid.
    text = clean.str.to_lowercase()
    return pl.when(text.str.contains(_EMAIL_SHAPE)).then(text)


# --- phone -------------------------------------------------------------------------------

# Applied after NFKC, so full-width digits, hyphens and parentheses are already ASCII.
_PHONE_EXTENSION = r"(?i)\s*(?:ext\.?|extension|x|#|内線)\s*\d+$"
_PHONE_PUNCTUATION = r"[\s\-‐‑‒–—―−ー.()/]"
# A national number with trunk prefix or a full international one; shorter or longer digit
# strings cannot be phone numbers (phonenumbers itself stops at 17 digits).
_PHONE_SHAPE = r"^\+?\d{4,17}$"


def phone_digits(expr: pl.Expr) -> pl.Expr:
    """Vectorised first pass: `+` (if written) and digits only, or null if it isn't phone-shaped."""
    return _phone_digits(clean_text(expr))


def _phone_digits(clean: pl.Expr) -> pl.Expr:
    text = clean.str.replace(_PHONE_EXTENSION, "").str.replace_all(_PHONE_PUNCTUATION, "")
    return pl.when(text.str.contains(_PHONE_SHAPE)).then(text)


def normalize_phone(expr: pl.Expr, default_region: str) -> pl.Expr:
    """E.164 via phonenumbers, called once per distinct digit string rather than per row.

    Numbers without a country code are read in `default_region`. A digit string phonenumbers
    cannot turn into a plausible E.164 (placeholders like 0000000000, unknown country codes)
    is NOT rejected: it becomes `+<digits as written>`, deterministic so the same junk in two
    sources stays equal, and visibly not E.164 when it starts with +0. Identity resolution
    owns junk filtering. Only text that is not phone-shaped at all is invalid (null).
    """
    return _phone(clean_text(expr), default_region)


def _phone(clean: pl.Expr, default_region: str) -> pl.Expr:
    # Not marked elementwise on purpose: the function must see the whole column at once,
    # or the engine may hand it morsels and the distinct-value saving is lost.
    return _phone_digits(clean).map_batches(
        lambda digits: _digits_to_e164(digits, default_region), return_dtype=pl.String
    )


def _digits_to_e164(digits: pl.Series, default_region: str) -> pl.Series:
    distinct = digits.drop_nulls().unique()
    if distinct.is_empty():
        return pl.Series(digits.name, [None] * len(digits), dtype=pl.String)
    converted = pl.Series(all_to_e164(distinct.to_list(), default_region), dtype=pl.String)
    lookup = pl.DataFrame({"digits": distinct, "e164": converted})
    joined = digits.rename("digits").to_frame().join(lookup, on="digits", how="left", maintain_order="left")
    return joined["e164"].rename(digits.name)


# --- country & currency ------------------------------------------------------------------

# Names phonenumbers' locale data doesn't carry (abbreviations, alpha-3, colloquial).
_COUNTRY_ALIASES = {
    "usa": "US", "us": "US", "america": "US", "unitedstatesofamerica": "US", "米国": "US",
    "アメリカ": "US", "uk": "GB", "greatbritain": "GB", "england": "GB", "英国": "GB",
    "korea": "KR", "republicofkorea": "KR", "韓国": "KR", "日本国": "JP", "中国": "CN",
    "jpn": "JP", "gbr": "GB", "chn": "CN", "kor": "KR", "twn": "TW", "hkg": "HK", "sgp": "SG",
    "deu": "DE", "fra": "FR", "ita": "IT", "esp": "ES", "can": "CA", "aus": "AU", "ind": "IN",
    "nzl": "NZ", "tha": "TH", "vnm": "VN", "phl": "PH", "idn": "ID", "mys": "MY", "bra": "BR",
    "mex": "MX", "nld": "NL", "che": "CH", "swe": "SE",
}  # fmt: skip
_COUNTRY_KEY_DROP = r"[\s.,'’()\-]"


def _country_key(text: str) -> str:
    return re.sub(_COUNTRY_KEY_DROP, "", unicodedata.normalize("NFKC", text).lower())


@cache
def country_lookup() -> dict[str, str]:
    """lookup key -> ISO 3166 alpha-2, from phonenumbers' multilingual region names."""
    lookup: dict[str, str] = {}
    for region, names in LOCALE_DATA.items():
        lookup[region.lower()] = region
        for language in names:
            name = names[language]
            for _ in range(3):  # "*aa" means "same as language aa" (and the data has a self-loop)
                if name and name.startswith("*"):
                    name = names.get(name[1:])
            if name and not name.startswith("*"):
                lookup.setdefault(_country_key(name), region)
    lookup.update(_COUNTRY_ALIASES)
    return lookup


def normalize_country(expr: pl.Expr) -> pl.Expr:
    return _country(clean_text(expr))


def _country(clean: pl.Expr) -> pl.Expr:
    lookup = country_lookup()
    key = clean.str.to_lowercase().str.replace_all(_COUNTRY_KEY_DROP, "")
    return key.replace_strict(list(lookup), list(lookup.values()), default=None, return_dtype=pl.String)


def normalize_currency(expr: pl.Expr, currencies: tuple[str, ...]) -> pl.Expr:
    return _currency(clean_text(expr), currencies)


def _currency(clean: pl.Expr, currencies: tuple[str, ...]) -> pl.Expr:
    code = clean.str.to_uppercase()
    return pl.when(code.is_in(list(currencies))).then(code)


# --- numbers & booleans ------------------------------------------------------------------

# "1,234,567.5" is common in exported spreadsheets; commas elsewhere stay (and fail).
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"


def _without_thousands(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.contains(_THOUSANDS)).then(text.str.replace_all(",", "", literal=True)).otherwise(text)


def parse_int(expr: pl.Expr) -> pl.Expr:
    return _int(clean_text(expr))


def _int(clean: pl.Expr) -> pl.Expr:
    text = _without_thousands(clean)
    return pl.when(text.str.contains(r"^[+-]?\d+$")).then(text.cast(pl.Int64, strict=False))


def parse_float(expr: pl.Expr) -> pl.Expr:
    return _float(clean_text(expr))


def _float(clean: pl.Expr) -> pl.Expr:
    value = _without_thousands(clean).cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


# At most 16 integer digits (Decimal(18,2)) and no significant digit beyond the cent: Polars'
# cast would silently truncate 12.345 to 12.34, and money must not change on the way in.
_MONEY_SHAPE = r"^[+-]?(\d{1,16}(\.\d{0,2}0*)?|\.\d{1,2}0*)$"


def parse_decimal(expr: pl.Expr) -> pl.Expr:
    return _decimal(clean_text(expr))


def _decimal(clean: pl.Expr) -> pl.Expr:
    text = _without_thousands(clean)
    return pl.when(text.str.contains(_MONEY_SHAPE)).then(text.cast(MONEY, strict=False))


_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False, "y": True, "n": False}


def parse_bool(expr: pl.Expr) -> pl.Expr:
    return _bool(clean_text(expr))


def _bool(clean: pl.Expr) -> pl.Expr:
    key = clean.str.to_lowercase()
    return key.replace_strict(list(_BOOLEANS), list(_BOOLEANS.values()), default=None, return_dtype=pl.Boolean)


# --- dates & timestamps ------------------------------------------------------------------


def parse_date(expr: pl.Expr, fmt: str | None) -> pl.Expr:
    return _date(clean_text(expr), fmt)


def _date(clean: pl.Expr, fmt: str | None) -> pl.Expr:
    pattern = "%Y-%m-%d" if fmt in (None, ISO8601) else fmt
    return clean.str.to_date(pattern, strict=False)


def parse_timestamp(expr: pl.Expr, fmt: str | None, timezone: str) -> pl.Expr:
    """-> Datetime('us', 'UTC'). Naive values are wall-clock time in `timezone`."""
    return _timestamp(clean_text(expr), fmt, timezone)


def _timestamp(clean: pl.Expr, fmt: str | None, timezone: str) -> pl.Expr:
    if fmt in (None, ISO8601):
        return _iso8601(clean, timezone)
    if re.search(r"%[:#]?z", fmt):  # the pattern carries its own offset
        return clean.str.to_datetime(fmt, time_unit="us", strict=False).dt.convert_time_zone("UTC")
    return _localize(clean.str.to_datetime(fmt, time_unit="us", strict=False), timezone)


def _localize(naive: pl.Expr, timezone: str) -> pl.Expr:
    # Wall-clock times that don't exist (DST gap) become null -> invalid; repeated ones
    # (DST fold) take the earlier instant, deterministic and what most systems log.
    return naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def _iso8601(clean: pl.Expr, timezone: str) -> pl.Expr:
    """Date and time to the second, optional fraction, "T" or space between, and an offset
    (Z, +09, +0900, +09:00) or none (then local to `timezone`). Date-only and minute-only
    forms are rejected: each accepted variant costs a full parse pass over the column."""
    text = clean.str.to_uppercase().str.replace(" ", "T", literal=True)
    with_offset = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", strict=False)
    naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
    return pl.coalesce(with_offset.dt.convert_time_zone("UTC"), _localize(naive, timezone))


# --- one field, whatever the landing file stored -----------------------------------------


def as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The landing value as text (for messages, and for parsing non-native values)."""
    if dtype == pl.String:
        return expr
    if isinstance(dtype, (pl.List, pl.Array, pl.Struct)):
        return pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
    return expr.cast(pl.String)


def text_input(expr: pl.Expr, dtype: pl.DataType, field: FieldSpec) -> pl.Expr | None:
    """The text a field's value is parsed from, or None when the stored native value is used
    as it is (a parquet Date for a date field, a tz-aware timestamp keeps its instant...)."""
    if _native_applies(dtype, field.type):
        return None
    if field.type == "decimal" and dtype.is_float():
        expr = expr.round(2)  # float money: cents are all it can mean
    return as_text(expr, dtype)


def value_from_clean(clean: pl.Expr, field: FieldSpec, defaults: RegistryDefaults) -> pl.Expr:
    """The canonical value from cleaned text (see clean_text); null if blank or invalid."""
    kind = field.type
    value = {
        "string": lambda: clean,
        "name": lambda: clean,
        "email": lambda: _email(clean),
        "phone": lambda: _phone(clean, defaults.phone_default_region),
        "country": lambda: _country(clean),
        "currency": lambda: _currency(clean, defaults.currencies),
        "int": lambda: _int(clean),
        "float": lambda: _float(clean),
        "decimal": lambda: _decimal(clean),
        "bool": lambda: _bool(clean),
        "date": lambda: _date(clean, field.format),
        "timestamp": lambda: _timestamp(clean, field.format, field.timezone or defaults.timezone),
    }[kind]()
    return value.cast(OUTPUT_DTYPES[kind])


def value_from_native(expr: pl.Expr, dtype: pl.DataType, field: FieldSpec, defaults: RegistryDefaults) -> pl.Expr:
    native = _normalize_native(expr, dtype, field.type, field.timezone or defaults.timezone)
    assert native is not None, f"{dtype} is not a native {field.type}"
    return native.cast(OUTPUT_DTYPES[field.type])


def normalize_field(expr: pl.Expr, dtype: pl.DataType, field: FieldSpec, defaults: RegistryDefaults) -> pl.Expr:
    """The canonical value of `field` (dtype: OUTPUT_DTYPES[field.type]); null if missing or invalid."""
    text = text_input(expr, dtype, field)
    if text is None:
        return value_from_native(expr, dtype, field, defaults)
    return value_from_clean(clean_text(text), field, defaults)


def _native_applies(dtype: pl.DataType, kind: str) -> bool:
    return _normalize_native(pl.lit(None), dtype, kind, "UTC") is not None


def _normalize_native(expr: pl.Expr, dtype: pl.DataType, kind: str, timezone: str) -> pl.Expr | None:
    if kind == "int" and dtype.is_integer():
        return expr
    if kind == "int" and (dtype.is_float() or dtype.is_decimal()):
        return pl.when(expr == expr.floor()).then(expr)  # 3.0 from a pandas null-able column
    if kind == "float" and dtype.is_numeric():
        value = expr.cast(pl.Float64)
        return pl.when(value.is_finite()).then(value)
    if kind == "decimal" and (dtype.is_integer() or (dtype.is_decimal() and (dtype.scale or 0) <= 2)):
        return expr.cast(MONEY, strict=False)
    if kind == "bool" and dtype == pl.Boolean:
        return expr
    if kind == "date" and dtype == pl.Date:
        return expr
    if kind == "date" and isinstance(dtype, pl.Datetime):
        return expr.dt.date()
    if kind == "timestamp" and isinstance(dtype, pl.Datetime):
        value = expr.dt.cast_time_unit("us")
        return value.dt.convert_time_zone("UTC") if dtype.time_zone else _localize(value, timezone)
    if kind == "timestamp" and dtype == pl.Date:
        return _localize(expr.cast(pl.Datetime("us")), timezone)
    return None
