"""Checks on each registry source: its landing files and what ingestion made of them."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from pydantic import Field, ValidationInfo, field_validator

from cx_pipeline.ingest.ingest import landing_files
from cx_pipeline.ingest.outputs import ACCEPTED, QUARANTINE, TOUCHPOINTS
from cx_pipeline.ingest.registry import SourceSpec
from cx_pipeline.lib.sql import sql_literal
from cx_pipeline.privacy.suppression import suppressed_rows
from cx_pipeline.quality.base import SAMPLE_ROWS, CheckParams, Finding, Measurement, rate
from cx_pipeline.quality.catalog import CheckContext, source_check
from cx_pipeline.quality.checks.params import known, registry_of
from cx_pipeline.quality.expectations import source_suite_path
from cx_pipeline.quality.landing import count_records, landing_columns, parquet_rows
from cx_pipeline.quality.suite_pool import SuiteJob, parquet_suite_job


def _output(ctx: CheckContext, spec: SourceSpec, name: str):
    return ctx.paths.ingested_dir(spec.name) / f"{name}.parquet"


def _relative(ctx: CheckContext, path) -> str:
    return path.relative_to(ctx.paths.root).as_posix()


class _PerSource(CheckParams):
    per_source: dict[str, float] = Field(default_factory=dict)

    @field_validator("per_source")
    @classmethod
    def _sources_exist(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        known(value, registry_of(info).sources, "source")
        return value


# --- GX suite on the accepted rows ---------------------------------------------------------


class SuiteParams(CheckParams):
    pass


def gx_suite_job(spec: SourceSpec, params: SuiteParams, ctx: CheckContext) -> SuiteJob:
    return parquet_suite_job(source_suite_path(spec.name), _output(ctx, spec, ACCEPTED))


@source_check(
    "gx_suite",
    params=SuiteParams,
    description="The source's accepted rows (or the mart) meet its Great Expectations suite under expectations/.",
    suite_job=gx_suite_job,
)
def gx_suite(spec: SourceSpec, params: SuiteParams, ctx: CheckContext) -> Measurement:
    return gx_suite_job(spec, params, ctx).run()


# --- schema drift --------------------------------------------------------------------------


class SchemaDriftParams(CheckParams):
    # A column the registry does not declare is ignored by ingestion; true = that is fine.
    allow_new_columns: bool


@source_check(
    "schema_drift",
    params=SchemaDriftParams,
    description="Every landing file has exactly the columns the source registry declares.",
)
def schema_drift(spec: SourceSpec, params: SchemaDriftParams, ctx: CheckContext) -> Measurement:
    declared = [f.column for f in spec.fields]
    findings, rows = [], []
    for path in landing_files(spec, ctx.paths):
        columns = landing_columns(path, spec)
        if not columns and spec.format == "ndjson":
            # NDJSON has no header: a file without a record (a day with no events) has no columns to compare
            findings.append(Finding(subject=_relative(ctx, path), value=0.0, limit=0.0, note="no records"))
            continue
        missing = [c for c in declared if c not in columns]
        new = [c for c in columns if c not in declared]
        drift = len(missing) + (0 if params.allow_new_columns else len(new))
        name = _relative(ctx, path)
        note = "; ".join(
            part for part in (f"missing {missing}" if missing else "", f"new {new}" if new else "") if part
        )
        findings.append(Finding(subject=name, value=float(drift), limit=0.0, note=note))
        if missing or new:
            rows.append({"file": name, "missing_columns": ", ".join(missing), "new_columns": ", ".join(new)})
    return Measurement(
        findings=findings,
        sample=pl.DataFrame(rows) if rows else None,
        facts={"declared_columns": ", ".join(declared), "files": len(findings)},
        query=f"-- the registry entry: cx_pipeline/config/sources.yml sources.{spec.name}.fields\n"
        f"select * from read_csv({sql_literal(str(f'{ctx.paths.landing_dir(spec.name)}/{spec.path}'))}, header = true) limit 5"
        if spec.format == "csv"
        else None,
    )


# --- row-count reconciliation --------------------------------------------------------------


class ReconciliationParams(CheckParams):
    pass


@source_check(
    "row_reconciliation",
    params=ReconciliationParams,
    description=(
        "Records in the landing files = accepted rows + quarantined rows + rows of erased people "
        "suppressed: nothing lost, nothing doubled."
    ),
)
def row_reconciliation(spec: SourceSpec, params: ReconciliationParams, ctx: CheckContext) -> Measurement:
    rows_in = sum(count_records(path, spec) for path in landing_files(spec, ctx.paths))
    accepted = parquet_rows(_output(ctx, spec, ACCEPTED))
    quarantined = parquet_rows(_output(ctx, spec, QUARANTINE))
    suppressed = suppressed_rows(ctx.paths.ingested_dir(spec.name))
    difference = rows_in - accepted - quarantined - suppressed
    return Measurement(
        findings=[
            Finding(
                subject=spec.name,
                value=float(abs(difference)),
                limit=0.0,
                note=f"{rows_in:,} records in, {accepted:,} accepted + {quarantined:,} quarantined"
                + (f" + {suppressed:,} suppressed (erased people)" if suppressed else ""),
            )
        ],
        facts={
            "rows_in": rows_in,
            "rows_accepted": accepted,
            "rows_quarantined": quarantined,
            "rows_suppressed": suppressed,
            "difference": difference,
        },
        query=f"select count(*) from read_parquet({sql_literal(str(_output(ctx, spec, ACCEPTED)))});\n"
        f"select count(*) from read_parquet({sql_literal(str(_output(ctx, spec, QUARANTINE)))});",
    )


# --- quarantine rate -------------------------------------------------------------------------


class QuarantineParams(_PerSource):
    max_rate: float = Field(ge=0, le=1)


@source_check(
    "quarantine_rate",
    params=QuarantineParams,
    description="The share of a source's records that ingestion quarantined stays under its ceiling.",
)
def quarantine_rate(spec: SourceSpec, params: QuarantineParams, ctx: CheckContext) -> Measurement:
    quarantine_file = _output(ctx, spec, QUARANTINE)
    quarantine = pl.read_parquet(quarantine_file) if quarantine_file.exists() else pl.DataFrame()
    accepted = parquet_rows(_output(ctx, spec, ACCEPTED))
    total = accepted + quarantine.height
    limit = params.per_source.get(spec.name, params.max_rate)
    by_reason = dict(quarantine["reason"].value_counts(sort=True).iter_rows()) if quarantine.height else {}
    return Measurement(
        findings=[Finding(spec.name, rate(quarantine.height, total), limit, count=quarantine.height, total=total)],
        sample=quarantine.select("_source_file", "_source_row", "reason", "field", "detail").head(SAMPLE_ROWS)
        if quarantine.height
        else None,
        facts={f"quarantined/{reason}": n for reason, n in by_reason.items()},
        query=f"select reason, field, count(*) from read_parquet({sql_literal(str(quarantine_file))}) group by all order by 3 desc",
    )


# --- freshness --------------------------------------------------------------------------------


class FreshnessParams(_PerSource):
    max_age_hours: float = Field(gt=0)


@source_check(
    "freshness",
    params=FreshnessParams,
    description="A source's newest landing file arrived within its allowed age.",
)
def freshness(spec: SourceSpec, params: FreshnessParams, ctx: CheckContext) -> Measurement:
    limit = params.per_source.get(spec.name, params.max_age_hours)
    files = landing_files(spec, ctx.paths)
    touchpoints = _output(ctx, spec, TOUCHPOINTS)
    latest_event = (
        pl.scan_parquet(touchpoints).select(pl.col("occurred_at").max()).collect().item()
        if touchpoints.exists()
        else None
    )
    facts = {"latest_event": str(latest_event) if latest_event else "none"}
    if not files:
        return Measurement([Finding(spec.name, float("nan"), limit, note="no landing files")], facts=facts)
    newest = max(files, key=lambda p: p.stat().st_mtime)
    arrived = datetime.fromtimestamp(newest.stat().st_mtime, tz=UTC)
    age_hours = (ctx.as_of - arrived).total_seconds() / 3600
    facts |= {"newest_file": _relative(ctx, newest), "newest_file_arrived": arrived.isoformat(timespec="seconds")}
    return Measurement(
        findings=[
            Finding(
                spec.name,
                round(age_hours, 2),
                limit,
                note=f"newest file {_relative(ctx, newest)} arrived {arrived:%Y-%m-%d %H:%M} UTC",
            )
        ],
        facts=facts,
        query=f"-- ls -l --time-style=full-iso {ctx.paths.landing_dir(spec.name)}",
    )
