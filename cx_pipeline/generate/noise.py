"""Noise: what real departmental data looks like, applied to clean channel frames from the seed.

Three stages, each counted in the NoiseLog:
1. disturb_identifiers  e-mail / phone / country / postal values (typed by the registry), at most one
                        kind per value; record ids are never touched.
2. inject_bad_rows      one defect per chosen row, only where the source has a field it fits
                        (required, min/max, allowed, currency, NDJSON). Record ids stay unique.
3. arrange              file order: time-ordered, some rows displaced, some late at the end, a few
                        exact duplicates after their original.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.context import DEFECT_KINDS, Context
from cx_pipeline.generate.contract import FieldSpec, SourceSpec
from cx_pipeline.generate.phones import JP_FORMATS, PLACEHOLDER_PHONES, format_expr, fullwidth_expr
from cx_pipeline.generate.randomness import pick
from cx_pipeline.generate.text import cat, fullwidth, strings, typo

PLACEHOLDER_EMAILS = np.array(["test@example.com", "noreply@example.com", "none@none.com", "a@a.com", "dummy@test.jp"])
COUNTRY_VARIANTS = {
    "JP": ["Japan", "日本", "JPN", "jp"],
    "US": ["USA", "United States", "us"],
    "GB": ["UK", "United Kingdom", "GBR"],
    "DE": ["Germany", "Deutschland", "DEU"],
}
BAD_DATE_TEXT = np.array(["not a date", "31/02/2025", "2025-02-30", "TBD", "0000-00-00"])
UNKNOWN_CURRENCIES = np.array(["XXX", "YEN", "US$", "RMB"])
NOT_ALLOWED = np.array(["unknown", "other", "legacy", "test"])


def _choose(rng: np.random.Generator, present: np.ndarray, rates: list[float]) -> np.ndarray:
    """Per row: index of the one noise kind applied (len(rates) = none); absent values get none."""
    edges = np.cumsum(rates)
    kind = np.searchsorted(edges, rng.random(len(present)), side="right")
    return np.where(present, kind, len(rates))


def _lit(values) -> pl.Expr:
    return pl.lit(pl.Series(values))


# -- 1. identifiers ---------------------------------------------------------------------------------


def _emails(ctx: Context, rng: np.random.Generator, frame: pl.DataFrame, f: FieldSpec, source: str) -> pl.DataFrame:
    r = ctx.noise
    n = frame.height
    kinds = ["placeholder_email", "shared_email", "missing_identifier", "email_typo", "email_case_whitespace"]
    rates = [
        r.placeholder_email,
        r.shared_email,
        0.0 if f.required else r.missing_identifier,
        r.email_typo,
        r.email_case_whitespace,
    ]
    kind = _choose(rng, frame[f.column].is_not_null().to_numpy(), rates)
    domain = ctx.people(frame["_pidx"].to_numpy(), "company_domain")["company_domain"]
    c = pl.col(f.column)
    local, at_domain = c.str.extract(r"^(.*)@", 1), c.str.extract(r"(@.*)$", 1)
    case_variant = _lit(rng.integers(0, 4, n))
    cased = (
        pl.when(case_variant == 0)
        .then(c.str.to_uppercase())
        .when(case_variant == 1)
        .then(c.str.to_titlecase())
        .when(case_variant == 2)
        .then(cat(" ", c))
        .otherwise(cat(c, " "))
    )
    k = _lit(kind)
    before = frame[f.column]
    frame = frame.with_columns(
        pl.when(k == 0)
        .then(_lit(pick(rng, PLACEHOLDER_EMAILS, n)))
        .when(k == 1)
        .then(cat("info@", pl.lit(domain)))
        .when(k == 2)
        .then(pl.lit(None, dtype=pl.String))
        .when(k == 3)
        .then(cat(typo(local, _lit(rng.integers(0, 3, n)), _lit(rng.random(n))), at_domain))
        .when(k == 4)
        .then(cased)
        .otherwise(c)
        .alias(f.column)
    )
    # count what changed: a swap of two equal letters or a shared address equal to the original is no noise
    changed = (frame[f.column] != before).fill_null(True).to_numpy()
    for i, name in enumerate(kinds):
        ctx.log.add(source, name, ((kind == i) & changed).sum())
    return frame


def _phones(ctx: Context, rng: np.random.Generator, frame: pl.DataFrame, f: FieldSpec, source: str) -> pl.DataFrame:
    r = ctx.noise
    n = frame.height
    kinds = ["placeholder_phone", "shared_phone", "missing_identifier", "phone_fullwidth", "phone_format"]
    rates = [
        r.placeholder_phone,
        r.shared_phone,
        0.0 if f.required else r.missing_identifier,
        r.phone_fullwidth,
        r.phone_format,
    ]
    kind = _choose(rng, frame[f.column].is_not_null().to_numpy(), rates)
    parts = ctx.people(
        frame["_pidx"].to_numpy(), "_phone_cc", "_phone_trunk", "_phone_area", "_phone_a", "_phone_b", "company_phone"
    ).rename(lambda c: c.removeprefix("_phone_"))
    jp = parts["cc"].to_numpy() == "81"
    us = parts["cc"].to_numpy() == "1"
    style = np.where(
        jp, rng.integers(0, len(JP_FORMATS), n), np.where(us, 100 + rng.integers(0, 3, n), 100 + rng.integers(0, 2, n))
    )
    styled = (
        pl.when(pl.col._style == 100)
        .then(format_expr("intl_spaced"))
        .when(pl.col._style == 101)
        .then(format_expr("intl_dashed"))
        .when(pl.col._style == 102)
        .then(format_expr("intl_us_parens"))
    )
    for i, name in enumerate(JP_FORMATS):
        styled = styled.when(pl.col._style == i).then(format_expr(name))
    styled = styled.otherwise(format_expr("e164"))
    new = (
        parts.with_columns(_style=pl.Series(style), _kind=pl.Series(kind), _old=frame[f.column])
        .select(
            pl.when(pl.col._kind == 0)
            .then(_lit(pick(rng, PLACEHOLDER_PHONES, n)))
            .when(pl.col._kind == 1)
            .then(pl.col.company_phone)
            .when(pl.col._kind == 2)
            .then(pl.lit(None, dtype=pl.String))
            .when(pl.col._kind == 3)
            .then(fullwidth_expr(pl.col.cc == "81"))
            .when(pl.col._kind == 4)
            .then(styled)
            .otherwise(pl.col._old)
        )
        .to_series()
    )
    for i, name in enumerate(kinds):
        ctx.log.add(source, name, (kind == i).sum())
    return frame.with_columns(new.alias(f.column))


def _countries(ctx: Context, rng: np.random.Generator, frame: pl.DataFrame, f: FieldSpec, source: str) -> pl.DataFrame:
    values = frame[f.column].to_numpy().astype(object)
    hit = (rng.random(frame.height) < ctx.noise.country_variant) & frame[f.column].is_not_null().to_numpy()
    for code, variants in COUNTRY_VARIANTS.items():
        rows = np.flatnonzero(hit & (values == code))
        values[rows] = pick(rng, np.array(variants), len(rows))
    ctx.log.add(source, "country_variant", hit.sum())
    return frame.with_columns(strings(values, f.column))


def _postal_codes(
    ctx: Context, rng: np.random.Generator, frame: pl.DataFrame, f: FieldSpec, source: str
) -> pl.DataFrame:
    n = frame.height
    hit = (rng.random(n) < ctx.noise.postal_format) & frame[f.column].is_not_null().to_numpy()
    country = ctx.people(frame["_pidx"].to_numpy(), "country")["country"]
    c = pl.col(f.column)
    v = _lit(rng.integers(0, 3, n))
    jp = pl.when(v == 0).then(c.str.replace("-", "")).when(v == 1).then(cat("〒", c)).otherwise(fullwidth(c))
    other = (
        pl.when(pl.lit(country) == "US")
        .then(cat(c, "-", _lit(rng.integers(1000, 10000, n)).cast(pl.String)))
        .when(pl.lit(country) == "GB")
        .then(pl.when(v == 0).then(c.str.to_lowercase()).otherwise(c.str.replace(" ", "")))
        .otherwise(cat("D-", c))
    )
    varied = pl.when(pl.lit(country) == "JP").then(jp).otherwise(other)
    ctx.log.add(source, "postal_format", hit.sum())
    return frame.with_columns(pl.when(_lit(hit)).then(varied).otherwise(c).alias(f.column))


def disturb_identifiers(ctx: Context, spec: SourceSpec, frame: pl.DataFrame) -> pl.DataFrame:
    for f in spec.fields:
        if f.column in spec.record_id:
            continue
        rng = ctx.rng(f"{spec.name}/{f.column}/identifier_noise")
        if f.type == "email":
            frame = _emails(ctx, rng, frame, f, spec.name)
        elif f.type == "phone":
            frame = _phones(ctx, rng, frame, f, spec.name)
        elif f.type == "country":
            frame = _countries(ctx, rng, frame, f, spec.name)
        elif f.column == "postal_code":
            frame = _postal_codes(ctx, rng, frame, f, spec.name)
    return frame


# -- 2. bad rows ------------------------------------------------------------------------------------


def _defect_fields(spec: SourceSpec) -> dict[str, list[FieldSpec]]:
    """Which fields each defect can hit in this source, read off the registry."""
    free = [f for f in spec.fields if f.column not in spec.record_id]
    text = spec.is_text
    return {
        "bad_date": [f for f in free if text and f.required and f.type in ("date", "timestamp")],
        "negative_amount": [f for f in free if f.type == "decimal" and f.min is not None and f.min >= 0],
        "unknown_currency": [f for f in free if f.type == "currency"],
        "missing_required": [f for f in free if f.required],
        "out_of_range": [f for f in free if f.type == "int" and (f.min is not None or f.max is not None)],
        "not_allowed_value": [f for f in free if f.allowed],
    }


def _bad_value(kind: str, f: FieldSpec, frame: pl.DataFrame, rng: np.random.Generator, text: bool) -> pl.Expr:
    n = frame.height
    c = pl.col(f.column)
    if kind == "bad_date":
        v = _lit(rng.integers(0, 4, n))
        time_part = f.type == "timestamp"
        return (
            pl.when(v == 0)
            .then(cat(c.str.slice(0, 5), "13", c.str.slice(7)))  # month 13
            .when(v == 1)
            .then(cat(c.str.slice(0, 8), "32", c.str.slice(10)))  # day 32
            .when((v == 2) & pl.lit(time_part))
            .then(cat(c.str.slice(0, 11), "25", c.str.slice(13)))  # hour 25
            .otherwise(_lit(pick(rng, BAD_DATE_TEXT, n)))
        )
    if kind == "negative_amount":
        return cat("-", c) if text else -c.abs() - 1
    if kind == "unknown_currency":
        return _lit(pick(rng, UNKNOWN_CURRENCIES, n))
    if kind == "missing_required":
        return pl.lit(None, dtype=frame.schema[f.column])
    if kind == "out_of_range":
        above = _lit(f.max + rng.integers(1, 5, n)) if f.max is not None else None
        below = _lit(f.min - rng.integers(1, 60, n)) if f.min is not None else None
        value = (
            above
            if below is None
            else below
            if above is None
            else pl.when(_lit(rng.random(n) < 0.5)).then(above).otherwise(below)
        )
        return value.cast(pl.String) if text else value.cast(frame.schema[f.column])
    if kind == "not_allowed_value":
        return _lit(pick(rng, NOT_ALLOWED, n))
    raise ValueError(kind)


def inject_bad_rows(ctx: Context, spec: SourceSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """Corrupt a few rows in place (they keep their record id) and list them in the log."""
    n = frame.height
    rng = ctx.rng(f"{spec.name}/bad_rows")
    rates = ctx.noise
    taken = frame["_impossible"].to_numpy().copy()
    defect = np.full(n, -1, dtype=np.int64)  # index into DEFECT_KINDS
    for kind, fields in _defect_fields(spec).items():
        if not fields:
            continue
        chosen = (rng.random(n) < getattr(rates, kind)) & ~taken
        which = rng.integers(0, len(fields), n)
        for i, f in enumerate(fields):
            rows = chosen & (which == i) & frame[f.column].is_not_null().to_numpy()
            if not rows.any():
                continue
            value = _bad_value(kind, f, frame, rng, spec.is_text)
            frame = frame.with_columns(pl.when(_lit(rows)).then(value).otherwise(pl.col(f.column)).alias(f.column))
            taken |= rows
            defect[rows] = DEFECT_KINDS.index(kind)
    if spec.format == "ndjson":
        rows = (rng.random(n) < rates.broken_json) & ~taken
        taken |= rows
        defect[rows] = DEFECT_KINDS.index("broken_json")
    names = dict(enumerate(DEFECT_KINDS))
    frame = frame.with_columns(_defect=pl.Series(defect).replace_strict(names, default=None, return_dtype=pl.String))
    for code, kind in names.items():
        hit = defect == code
        ctx.log.add(spec.name, kind, hit.sum())
        ctx.log.mark(spec.name, frame["_record_id"].filter(pl.Series(hit)), kind)
    return frame


# -- 3. file order and repeats -----------------------------------------------------------------------


def arrange(ctx: Context, spec: SourceSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """Time order as systems append, then displaced rows, late rows at the end and exact repeats."""
    n = frame.height
    if n == 0:
        return frame
    rng = ctx.rng(f"{spec.name}/arrange")
    r = ctx.noise
    rank = np.empty(n, dtype=np.float64)
    rank[np.argsort(frame["_ts"].to_numpy(), kind="stable")] = np.arange(n)
    displaced = rng.random(n) < r.out_of_order
    late = (rng.random(n) < r.late_event) & ~displaced
    window = max(3.0, 0.01 * n)
    key = np.where(displaced, rank + rng.uniform(-window, window, n), rank)
    key = np.where(late, n + rank, key)
    ctx.log.add(spec.name, "out_of_order", displaced.sum())
    ctx.log.add(spec.name, "late_event", late.sum())

    repeat = (rng.random(n) < r.duplicate_row) & frame["_defect"].is_null().to_numpy()
    frame = frame.with_columns(_key=pl.Series(key))
    copies = frame.filter(pl.Series(repeat)).with_columns(
        _key=pl.col._key + pl.Series(rng.uniform(0.5, window + 0.5, int(repeat.sum())))
    )
    ctx.log.add(spec.name, "duplicate_row", copies.height)
    ctx.log.mark(spec.name, copies["_record_id"], "duplicate_row")
    return pl.concat([frame, copies]).sort("_key", maintain_order=True)
