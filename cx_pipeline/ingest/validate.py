"""Typed values and quarantine reasons for every record of one landing file, in one pass.

For each field, in registry order, the checks are: missing_required_field, invalid_<type>
(unknown_currency for currencies), out_of_range, not_allowed_value. A record's `reason` is
the first problem found in field order and `detail` lists them all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import polars as pl

from cx_pipeline.ingest.normalize import as_text, clean_text, text_input, value_from_clean, value_from_native
from cx_pipeline.ingest.readers import ROW
from cx_pipeline.ingest.registry import FieldSpec, RegistryDefaults, SourceSpec

REASON, FIELD, DETAIL = "__reason", "__field", "__detail"
_QUOTED_MAX = 80  # characters of an offending value quoted in a detail message

_EXPECTED = {
    "email": "an email address (local@domain)",
    "phone": "a phone number",
    "country": "an ISO 3166 country code or name",
    "int": "an integer",
    "float": "a number",
    "decimal": "an amount with at most 2 decimal places",
    "bool": "a boolean (true/false/1/0/yes/no/y/n)",
}


def value_column(field: FieldSpec) -> str:
    return f"__value:{field.name}"


def _raw_column(field: FieldSpec) -> str:
    return f"__raw:{field.name}"  # the landing value as text, quoted in messages


def _clean_column(field: FieldSpec) -> str:
    return f"__clean:{field.name}"


def _native_column(field: FieldSpec) -> str:
    return f"__native:{field.name}"


def invalid_reason(field: FieldSpec) -> str:
    return "unknown_currency" if field.type == "currency" else f"invalid_{field.type}"


class Problem(NamedTuple):
    reason: str
    field: str
    condition: pl.Expr  # true on the rows that have this problem
    message: pl.Expr  # the human explanation on those rows, null elsewhere


def check_records(
    records: pl.DataFrame, spec: SourceSpec, defaults: RegistryDefaults, file_label: str
) -> pl.DataFrame:
    """-> ROW, one typed value column per field (see value_column), REASON, FIELD, DETAIL.

    REASON is null for records without problems. `file_label` names the file in messages.
    """
    schema = records.schema
    texts = {f.name: text_input(pl.col(f.column), schema[f.column], f) for f in spec.fields}
    # Stage 1 cleans each text column once; stage 2 derives values and blanks from it.
    typed = (
        records.lazy()
        .select(
            pl.col(ROW),
            *[as_text(pl.col(f.column), schema[f.column]).alias(_raw_column(f)) for f in spec.fields],
            *[clean_text(texts[f.name]).alias(_clean_column(f)) for f in spec.fields if texts[f.name] is not None],
            *[pl.col(f.column).alias(_native_column(f)) for f in spec.fields if texts[f.name] is None],
        )
        .with_columns(
            (
                value_from_clean(pl.col(_clean_column(f)), f, defaults)
                if texts[f.name] is not None
                else value_from_native(pl.col(_native_column(f)), schema[f.column], f, defaults)
            ).alias(value_column(f))
            for f in spec.fields
        )
    )
    problems = [p for f in spec.fields for p in _field_problems(f, texts[f.name] is not None, defaults)]
    if problems:
        messages = pl.concat_str([p.message for p in problems], separator="; ", ignore_nulls=True)
        verdict = [
            pl.coalesce(pl.when(p.condition).then(pl.lit(p.reason)) for p in problems).alias(REASON),
            pl.coalesce(pl.when(p.condition).then(pl.lit(p.field)) for p in problems).alias(FIELD),
            pl.when(pl.any_horizontal(p.condition for p in problems))
            .then(_text(f"{file_label} row ", pl.col(ROW).cast(pl.String), " ", messages))
            .alias(DETAIL),
        ]
    else:
        verdict = [pl.lit(None, pl.String).alias(c) for c in (REASON, FIELD, DETAIL)]
    return typed.select(ROW, *map(value_column, spec.fields), *verdict).collect()


def _text(*parts: str | pl.Expr) -> pl.Expr:
    """Concatenate literal text and expressions (pl.format would choke on braces in names)."""
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def _field_problems(field: FieldSpec, from_text: bool, defaults: RegistryDefaults) -> list[Problem]:
    value, raw = pl.col(value_column(field)), pl.col(_raw_column(field))
    blank = pl.col(_clean_column(field)).is_null() if from_text else raw.is_null()
    quoted = _text("'", raw.str.slice(0, _QUOTED_MAX), "' ")
    prefix = f"field '{field.name}' (column {field.column}): "

    def problem(reason: str, condition: pl.Expr, *message: str | pl.Expr) -> Problem:
        return Problem(reason, field.name, condition, pl.when(condition).then(_text(prefix, *message)))

    problems = []
    if field.required:
        problems.append(problem("missing_required_field", blank, "required value is missing"))
    if field.type not in ("string", "name"):  # any non-empty text is a valid string or name
        invalid = ~blank & value.is_null()
        problems.append(problem(invalid_reason(field), invalid, quoted, _invalid_text(field, defaults)))
    if field.min is not None:
        low = value < _bound(field, field.min)
        problems.append(problem("out_of_range", low, quoted, f"is below min {_number(field.min)}"))
    if field.max is not None:
        high = value > _bound(field, field.max)
        problems.append(problem("out_of_range", high, quoted, f"is above max {_number(field.max)}"))
    if field.allowed is not None:
        other = value.is_not_null() & ~value.is_in(list(field.allowed))
        problems.append(problem("not_allowed_value", other, quoted, f"is not one of: {', '.join(field.allowed)}"))
    return problems


def _invalid_text(field: FieldSpec, defaults: RegistryDefaults) -> str:
    if field.type == "currency":
        return f"is not an accepted currency ({', '.join(defaults.currencies)})"
    if field.type == "date":
        return f"is not a date in format {field.format or '%Y-%m-%d'}"
    if field.type == "timestamp":
        zone = field.timezone or defaults.timezone
        fmt = field.format or "iso8601"
        return f"is not a timestamp in format {fmt} (naive times read in {zone})"
    return f"is not {_EXPECTED[field.type]}"


def _bound(field: FieldSpec, bound: float) -> pl.Expr:
    return pl.lit(Decimal(str(bound))) if field.type == "decimal" else pl.lit(bound)


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)
