"""The quality gate's checks as Dagster asset checks, wired by hand (dagster-ge predates GX 1.x).

- per source, on `ingested/<source>`: gx_suite, schema_drift, row_reconciliation,
  quarantine_rate, freshness (one multi-asset check per kind, one result per source);
- per mart, on `marts/<mart>`: gx_suite, read from the working database, and the mart checks
  (pii_scan);
- the warehouse checks of cx_pipeline/quality/checks, each on its mart.

Every check is declared blocking, so the publish step waits for all of them; its severity in
cx_pipeline/config/quality.yml decides whether a failure stops publishing (error) or only alerts
(warn). Each result carries the failing figures, a sample of the rows behind them, the SQL to
investigate and the runbook link; it is written to data/quality/<run id>/ and, when it failed,
sent to on-call.
"""

import traceback
from collections.abc import Callable, Iterable
from functools import partial

import dagster as dg
import duckdb

from cx_pipeline.alerting import Alert
from cx_pipeline.defs.dbt import cx_dbt_models, dbt_check_runbooks, mart_model_names
from cx_pipeline.defs.ingestion import ingested_key
from cx_pipeline.defs.resources import AlertsResource, CxDataResource
from cx_pipeline.ingest.registry import Registry, load_registry
from cx_pipeline.lib.metadata import markdown_preview
from cx_pipeline.lib.sql import sql_relation
from cx_pipeline.paths import DataPaths
from cx_pipeline.quality.base import Finding, Measurement, format_value
from cx_pipeline.quality.catalog import (
    CheckContext,
    MartCheck,
    SourceCheck,
    WarehouseCheck,
    mart_checks,
    source_checks,
    warehouse_checks,
)
from cx_pipeline.quality.expectations import mart_suite_path
from cx_pipeline.quality.results import write_results
from cx_pipeline.quality.runbooks import RunbookLink, runbook
from cx_pipeline.quality.settings import QualitySettings, load_quality_settings
from cx_pipeline.quality.suite_pool import SuiteJob, database_suite_job, run_suite_jobs

GX_SUITE = "gx_suite"
SEVERITIES = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}
MAX_FINDING_ROWS = 30


def mart_key(mart: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", mart])


def _asset_name(key: dg.AssetKey) -> str:
    return "/".join(key.path)


def _spec_metadata(check: str, settings: QualitySettings) -> dict:
    link = runbook(check)
    return {
        "runbook": _runbook_value(link, settings),
        "thresholds": f"cx_pipeline/config/quality.yml: checks.{check}",
    }


def _runbook_value(link: RunbookLink, settings: QualitySettings) -> dg.MetadataValue:
    url = link.url(settings.runbook_base_url)
    return dg.MetadataValue.url(url) if url else dg.MetadataValue.path(str(link.path))


def _measure_safely(measure: Callable[[], Measurement]) -> Measurement:
    """A check that cannot run has not passed: its failure is reported (and alerted) like any other."""
    try:
        return measure()
    except Exception as error:
        return Measurement(
            findings=[Finding("check could not run", float("nan"), 0.0, note=f"{type(error).__name__}: {error}")],
            facts={"error": "".join(traceback.format_exception_only(error)).strip()},
        )


def _findings_table(findings: list[Finding]) -> dg.MarkdownMetadataValue:
    lines = ["| subject | value | limit | of | passed | note |", "| --- | ---: | ---: | ---: | --- | --- |"]
    for f in findings[:MAX_FINDING_ROWS]:
        of = f"{f.count:,} / {f.total:,}" if f.count is not None and f.total is not None else ""
        note = f.note.replace("|", "\\|").replace("\n", " ")
        verdict = "yes" if f.passed else "**no**"
        lines.append(f"| {f.subject} | {format_value(f.value)} | {f.bound} {f.limit:g} | {of} | {verdict} | {note} |")
    if len(findings) > MAX_FINDING_ROWS:
        lines.append(f"| ... {len(findings) - MAX_FINDING_ROWS} more in the results file | | | | | |")
    return dg.MetadataValue.md("\n".join(lines))


def report(
    context: dg.AssetCheckExecutionContext,
    *,
    check: str,
    asset_key: dg.AssetKey,
    measurement: Measurement,
    settings: QualitySettings,
    paths: DataPaths,
    alerts: AlertsResource,
) -> dg.AssetCheckResult:
    """The check's result for Dagster, its results file, and an alert when it failed."""
    severity = settings.severity(check)
    link = runbook(check)
    asset = _asset_name(asset_key)
    summary = measurement.summary(check)
    failing = [f.describe() for f in measurement.failing]
    run = context.run
    results = write_results(
        paths,
        run.run_id,
        asset,
        check,
        {
            "check": check,
            "asset": asset,
            "run_id": run.run_id,
            "passed": measurement.passed,
            "severity": severity,
            "summary": summary,
            "runbook": link.relative,
            "findings": [f.as_dict() for f in measurement.findings],
            "facts": measurement.facts,
            "sample_failing_rows": measurement.sample.head(10).to_dicts() if measurement.sample is not None else [],
            "query": measurement.query,
            "validation": measurement.details,
        },
    )
    if not measurement.passed:
        context.log.warning(summary)
        alerts.notifier(paths).send(
            Alert.check_failed(
                check=check,
                asset=asset,
                severity=severity,
                summary=summary,
                runbook=link.relative,
                runbook_url=link.url(settings.runbook_base_url),
                run_id=run.run_id,
                job=run.job_name,
                failing=failing,
                results=str(results),
            )
        )
    metadata = {
        "summary": summary,
        "severity": severity,
        "findings": _findings_table(measurement.findings if measurement.passed else measurement.failing),
        "runbook": _runbook_value(link, settings),
        "results": dg.MetadataValue.path(str(results)),
        **{k: v for k, v in measurement.facts.items() if isinstance(v, (int, float, str))},
    }
    if measurement.sample is not None and measurement.sample.height:
        metadata["sample_failing_rows"] = markdown_preview(measurement.sample)
    if measurement.query:
        metadata["investigate"] = dg.MetadataValue.md(f"```sql\n{measurement.query}\n```")
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check,
        passed=measurement.passed,
        severity=SEVERITIES[severity],
        metadata=metadata,
        description=summary,
    )


def _context(cx_data: CxDataResource, registry: Registry) -> tuple[QualitySettings, CheckContext]:
    settings = load_quality_settings(registry=registry)
    paths = cx_data.paths()
    return settings, CheckContext(registry=registry, paths=paths, as_of=settings.reference_time())


# The measurements of one check on many assets: (asset name, a call that measures it or raises).
Measurements = Callable[[QualitySettings, CheckContext, list[str]], Iterable[tuple[str, Callable[[], Measurement]]]]


def one_by_one(measure: Callable[[QualitySettings, CheckContext, str], Measurement]) -> Measurements:
    """`measure(settings, ctx, asset name)` on each asset in turn, in order of name."""
    return lambda settings, ctx, names: ((name, partial(measure, settings, ctx, name)) for name in sorted(names))


def suite_pool(job: Callable[[QualitySettings, CheckContext, str], SuiteJob]) -> Measurements:
    """A GX suite on each asset, on every core (cx_pipeline/quality/suite_pool.py), as each finishes."""
    return lambda settings, ctx, names: run_suite_jobs({name: job(settings, ctx, name) for name in names})


def _per_asset_checks(
    check_name: str,
    descriptions: dict[dg.AssetKey, str],
    registry: Registry,
    settings: QualitySettings,
    measurements: Measurements,
    *,
    name: str,
) -> dg.AssetChecksDefinition:
    """One blocking check on each asset of `descriptions`, run together: `measurements` measures
    the selected assets; each result is reported (metadata, results file, alert)."""
    specs = [
        dg.AssetCheckSpec(
            check_name,
            asset=key,
            description=description,
            blocking=True,
            metadata=_spec_metadata(check_name, settings),
        )
        for key, description in descriptions.items()
    ]

    @dg.multi_asset_check(specs=specs, can_subset=True, name=name)
    def _run(context: dg.AssetCheckExecutionContext, cx_data: CxDataResource, alerts: AlertsResource):
        settings, ctx = _context(cx_data, registry)
        selected = {key.asset_key.path[-1]: key.asset_key for key in context.selected_asset_check_keys}
        for asset, measure in measurements(settings, ctx, list(selected)):
            yield report(
                context,
                check=check_name,
                asset_key=selected[asset],
                measurement=_measure_safely(measure),
                settings=settings,
                paths=ctx.paths,
                alerts=alerts,
            )

    return _run


def _source_checks(check: SourceCheck, registry: Registry, settings: QualitySettings) -> dg.AssetChecksDefinition:
    def measure(settings: QualitySettings, ctx: CheckContext, source: str) -> Measurement:
        return check.measure(registry.source(source), settings.params(check.name), ctx)

    def suite_job(settings: QualitySettings, ctx: CheckContext, source: str) -> SuiteJob:
        return check.suite_job(registry.source(source), settings.params(check.name), ctx)

    descriptions = {ingested_key(source): check.description for source in registry.sources}
    measurements = one_by_one(measure) if check.suite_job is None else suite_pool(suite_job)
    return _per_asset_checks(check.name, descriptions, registry, settings, measurements, name=f"{check.name}__sources")


def _mart_suite_job(settings: QualitySettings, ctx: CheckContext, mart: str) -> SuiteJob:
    return database_suite_job(mart_suite_path(mart), ctx.paths.warehouse, sql_relation("marts", mart))


def _mart_suites(marts: list[str], registry: Registry, settings: QualitySettings) -> dg.AssetChecksDefinition:
    descriptions = {
        mart_key(mart): f"The mart meets its Great Expectations suite expectations/marts/{mart}.json." for mart in marts
    }
    return _per_asset_checks(
        GX_SUITE, descriptions, registry, settings, suite_pool(_mart_suite_job), name=f"{GX_SUITE}__marts"
    )


def _mart_checks(check: MartCheck, marts: list[str], registry: Registry, settings: QualitySettings):
    def measure(settings: QualitySettings, ctx: CheckContext, mart: str) -> Measurement:
        with duckdb.connect(str(ctx.paths.warehouse), read_only=True) as con:
            return check.measure(con, mart, settings.params(check.name), ctx)

    descriptions = {mart_key(mart): check.description for mart in marts}
    return _per_asset_checks(
        check.name, descriptions, registry, settings, one_by_one(measure), name=f"{check.name}__marts"
    )


def _warehouse_check(check: WarehouseCheck, registry: Registry, settings: QualitySettings) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(list(check.asset))

    # The models it reads are built in the same dbt step as its asset, so they are no dependency:
    # as one, a blocking failure on them would skip this check and hide what it would have found.
    @dg.asset_check(
        asset=asset_key,
        name=check.name,
        description=check.description,
        blocking=True,
        metadata={**_spec_metadata(check.name, settings), "reads": ", ".join("/".join(r) for r in check.reads)},
    )
    def _run(
        context: dg.AssetCheckExecutionContext, cx_data: CxDataResource, alerts: AlertsResource
    ) -> dg.AssetCheckResult:
        settings, ctx = _context(cx_data, registry)
        params = settings.params(check.name)

        def measure() -> Measurement:
            with duckdb.connect(str(ctx.paths.warehouse), read_only=True) as con:
                return check.measure(con, params, ctx)

        return report(
            context,
            check=check.name,
            asset_key=asset_key,
            measurement=_measure_safely(measure),
            settings=settings,
            paths=ctx.paths,
            alerts=alerts,
        )

    return _run


def build_quality_checks(registry: Registry | None = None) -> list[dg.AssetChecksDefinition]:
    registry = registry or load_registry()
    settings = load_quality_settings(registry=registry)  # a broken settings file fails at load, not mid-run
    return (
        [_source_checks(check, registry, settings) for check in source_checks().values()]
        + [_mart_suites(mart_model_names(), registry, settings)]
        + [_mart_checks(check, mart_model_names(), registry, settings) for check in mart_checks().values()]
        + [_warehouse_check(check, registry, settings) for check in warehouse_checks().values()]
    )


quality_checks = build_quality_checks()


def gated_checks() -> dict[dg.AssetCheckKey, tuple[str, RunbookLink]]:
    """Every check the publish step answers to: key -> (severity when it fails, runbook).

    Quality checks take their severity from the settings when they run; dbt tests from their
    dbt `severity` (dagster-dbt marks error tests blocking).
    """
    settings = load_quality_settings()
    gated = {
        key: (settings.severity(key.name), runbook(key.name))
        for definition in quality_checks
        for key in definition.check_keys
    }
    blocking = {spec.key: spec.blocking for spec in cx_dbt_models.check_specs}
    for key, link in dbt_check_runbooks().items():
        gated[key] = ("error" if blocking[key] else "warn", link)
    return gated
