"""Typed channel frames -> the text a CSV or NDJSON file holds, as the registry declares it.

Timestamps use the field's `format` and `timezone` (default: the registry's default zone); iso8601
fields are written with the offset of the row's `_iso_tz` ("UTC" -> "Z").
"""

from __future__ import annotations

import polars as pl

from cx_pipeline.generate.contract import FieldSpec, SourceSpec

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
ISO_OFFSET = "%Y-%m-%dT%H:%M:%S%:z"


def _iso(column: pl.Expr, zones: list[str]) -> pl.Expr:
    def one(zone: str) -> pl.Expr:
        if zone == "UTC":
            return column.dt.convert_time_zone("UTC").dt.strftime(ISO_UTC)
        return column.dt.convert_time_zone(zone).dt.strftime(ISO_OFFSET)

    expr = pl.when(pl.col._iso_tz == zones[0]).then(one(zones[0]))
    for zone in zones[1:]:
        expr = expr.when(pl.col._iso_tz == zone).then(one(zone))
    return expr.otherwise(one("UTC"))


def _as_text(f: FieldSpec, dtype: pl.DataType, spec: SourceSpec, zones: list[str]) -> pl.Expr:
    c = pl.col(f.column)
    if isinstance(dtype, pl.Datetime):
        if f.format == "iso8601":
            return _iso(c, zones) if zones else c.dt.strftime(ISO_UTC)
        zone = f.timezone or spec.default_timezone
        return c.dt.convert_time_zone(zone).dt.strftime(f.format or "%Y-%m-%d %H:%M:%S")
    if dtype == pl.Date:
        return c.dt.strftime(f.format if f.format and f.format != "iso8601" else "%Y-%m-%d")
    if dtype == pl.Boolean:
        return pl.when(c).then(pl.lit("true")).when(c.not_()).then(pl.lit("false"))
    return c.cast(pl.String)


def render_text(spec: SourceSpec, frame: pl.DataFrame) -> pl.DataFrame:
    zones = sorted(frame["_iso_tz"].unique().to_list()) if "_iso_tz" in frame.columns else []
    return frame.with_columns(_as_text(f, frame.schema[f.column], spec, zones).alias(f.column) for f in spec.fields)
