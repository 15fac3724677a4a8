"""Write-audit-publish: the marts are built (dbt) and audited (checks) in the working database;
this asset publishes them only when every blocking check passed on the data being published.

Within one run Dagster already holds this step back when a blocking check fails. The gate
below also covers the runs that only publish (`cx-pipeline publish`): it reads each check's
latest evaluation from the Dagster instance and refuses when one that blocks has failed, or
has not run since its asset was last built.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from cx_pipeline.defs.dbt import mart_asset_keys, mart_model_names
from cx_pipeline.defs.quality import gated_checks
from cx_pipeline.defs.resources import CxDataResource
from cx_pipeline.lib.code_version import code_version
from cx_pipeline.lib.metadata import markdown_counts
from cx_pipeline.paths import PACKAGE_DIR
from cx_pipeline.publish import publish_marts
from cx_pipeline.quality.settings import load_quality_settings

PUBLISH_GROUP = "publish"
COMPLETED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


@dataclass(frozen=True)
class CheckStatus:
    asset: str
    check: str
    severity: str  # what a failure of this check means: error blocks
    passed: bool | None  # None: not evaluated since its asset was last built
    run_id: str | None
    runbook: str

    @property
    def blocks(self) -> bool:
        return self.severity == "error" and self.passed is not True


def check_statuses(instance: dg.DagsterInstance) -> list[CheckStatus]:
    """The latest evaluation of every gated check, judged against its asset's latest build."""
    statuses = []
    for key, (severity, runbook) in sorted(gated_checks().items(), key=lambda item: item[0].to_user_string()):
        history = instance.event_log_storage.get_asset_check_execution_history(key, limit=1, status=COMPLETED)
        record = history[0] if history else None
        built = instance.get_latest_materialization_event(key.asset_key)
        current = record is not None and (built is None or record.event.timestamp >= built.timestamp)
        evaluation = record.evaluation if current else None
        if evaluation is not None and not evaluation.passed:
            severity = "error" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warn"
        statuses.append(
            CheckStatus(
                asset="/".join(key.asset_key.path),
                check=key.name,
                severity=severity,
                passed=evaluation.passed if evaluation is not None else None,
                run_id=record.run_id if current else None,
                runbook=runbook.relative,
            )
        )
    return statuses


def _refusal(blocking: list[CheckStatus]) -> str:
    lines = [f"Not published: {len(blocking)} blocking check(s) did not pass; BI keeps the last good version."]
    for status in blocking:
        state = "failed" if status.passed is False else "not evaluated since its asset was last built"
        lines.append(f"- {status.check} on {status.asset}: {state} (runbook {status.runbook})")
    return "\n".join(lines)


@dg.asset(
    key=["published", "cx_marts"],
    deps=mart_asset_keys(),
    group_name=PUBLISH_GROUP,
    description=(
        "The marts, copied into `data/published/cx_marts.duckdb` (replaced atomically) and "
        "`data/published/<mart>.parquet` for BI tools, once every blocking check passed; the last "
        "versions are kept under `data/published/versions/` for `cx-pipeline rollback`."
    ),
    kinds={"duckdb", "parquet"},
    code_version=code_version(Path(__file__), PACKAGE_DIR / "publish.py"),
)
def published_marts(context: dg.AssetExecutionContext, cx_data: CxDataResource) -> dg.MaterializeResult:
    statuses = check_statuses(context.instance)
    blocking = [s for s in statuses if s.blocks]
    if blocking:
        raise dg.Failure(
            description=_refusal(blocking),
            metadata={"blocking_checks": dg.MetadataValue.json([asdict(s) for s in blocking])},
        )
    settings = load_quality_settings()
    result = publish_marts(
        cx_data.paths(),
        mart_model_names(),
        run_id=context.run_id,
        checks=[asdict(s) for s in statuses],
        keep_versions=settings.keep_versions,
    )
    warned = [f"{s.check} on {s.asset}" for s in statuses if s.passed is False]
    return dg.MaterializeResult(
        metadata={
            "database": dg.MetadataValue.path(str(result.database)),
            "version": result.version,
            "published_at": result.published_at,
            "row_counts": markdown_counts(result.row_counts, "mart"),
            "checks_passed": sum(1 for s in statuses if s.passed),
            "checks_failed_not_blocking": dg.MetadataValue.json(warned),
            "versions_pruned": dg.MetadataValue.json(result.pruned),
            **{f"rows/{mart}": rows for mart, rows in result.row_counts.items()},
        }
    )


publish_job = dg.define_asset_job(
    "publish_job",
    selection=dg.AssetSelection.assets(published_marts),
    description="Publish the marts already built and checked in the working database, without rebuilding them.",
)
