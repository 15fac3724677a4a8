"""The quality gate's verdict and the CX report, refreshed after every full run and publish.

Both must show a refused publish too, so neither sits downstream of a blocking check inside the
full run (Dagster skips everything below a failed blocking check). They run as their own job,
`cx_report`, right after `cx_full_run` or `publish_job` ends, whatever the outcome: launched by the
two sensors below under `dagster dev`, and by `cx-pipeline run`/`publish` directly.
"""

from dataclasses import asdict
from pathlib import Path

import dagster as dg

from cx_pipeline.defs.alerts import CLI_LAUNCHER, LAUNCHED_BY_TAG
from cx_pipeline.defs.dbt import mart_asset_keys
from cx_pipeline.defs.publish import PUBLISH_GROUP, check_statuses, published_marts
from cx_pipeline.defs.resources import CxDataResource
from cx_pipeline.lib.code_version import code_version
from cx_pipeline.paths import CONFIG_DIR, PACKAGE_DIR
from cx_pipeline.publish import current_version
from cx_pipeline.quality.settings import load_quality_settings
from cx_pipeline.quality.status import (
    FAILED_ERROR,
    FAILED_WARN,
    NOT_EVALUATED,
    OUTCOMES,
    PASSED,
    build_status,
    write_status,
)
from cx_pipeline.report import build_report
from cx_pipeline.report.page import runbook_href

QUALITY_GROUP = "quality"
REPORT_JOB = "cx_report"
# The runs after which the status and report are refreshed.
REPORTED_JOBS = ("cx_full_run", "publish_job")
MATCH_QUALITY_KEY = dg.AssetKey(["identity", "match_quality"])
PHASE_ACCURACY_KEY = dg.AssetKey(["lifecycle", "phase_accuracy"])
MAX_LISTED = 30


def _failing_table(status: dict) -> dg.MarkdownMetadataValue:
    failing = [c for c in status["checks"] if c["outcome"] != PASSED]
    if not failing:
        return dg.MetadataValue.md("Every check passed.")
    base_url = load_quality_settings().runbook_base_url
    lines = ["| outcome | check | asset | runbook |", "| --- | --- | --- | --- |"]
    for check in failing[:MAX_LISTED]:
        link = runbook_href(check["runbook"], base_url)
        lines.append(f"| {check['outcome']} | {check['check']} | {check['asset']} | [{check['runbook']}]({link}) |")
    if len(failing) > MAX_LISTED:
        lines.append(f"| ... {len(failing) - MAX_LISTED} more in the status file | | | |")
    return dg.MetadataValue.md("\n".join(lines))


@dg.asset(
    key=["quality", "check_status"],
    deps=mart_asset_keys(),
    group_name=QUALITY_GROUP,
    description=(
        "The quality gate's verdict: the latest evaluation of every check publishing answers to "
        "(GX suites, silo and consistency checks, dbt tests), with the failing figures of each failed "
        "check, in `data/quality/status.json`. Refreshed after every full run and publish (job cx_report)."
    ),
    kinds={"json"},
    code_version=code_version(Path(__file__), PACKAGE_DIR / "quality" / "status.py"),
)
def quality_check_status(context: dg.AssetExecutionContext, cx_data: CxDataResource) -> dg.MaterializeResult:
    paths = cx_data.paths()
    status = build_status(paths, [asdict(s) for s in check_statuses(context.instance)], current_version(paths))
    target = write_status(paths, status)
    counts = status["counts"]
    context.log.info(f"quality gate {status['gate']}: " + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES))
    return dg.MaterializeResult(
        metadata={
            "gate": status["gate"],
            "checks": len(status["checks"]),
            "passed": counts[PASSED],
            "failed_error": counts[FAILED_ERROR],
            "failed_warn": counts[FAILED_WARN],
            "not_evaluated": counts[NOT_EVALUATED],
            "not_passed": _failing_table(status),
            "path": dg.MetadataValue.path(str(target)),
        }
    )


@dg.asset(
    key=["report", "cx_report"],
    deps=[quality_check_status, published_marts, MATCH_QUALITY_KEY, PHASE_ACCURACY_KEY],
    group_name=PUBLISH_GROUP,
    description=(
        "The CX report, `data/published/report/index.html`: one self-contained page (no network needed) "
        "with the lifecycle funnel and phases, phase transitions over time, the channel x department silo "
        "heatmap, per-source link rates, match quality and the quality gate's status, from the published marts."
    ),
    kinds={"html"},
    code_version=code_version(Path(__file__), PACKAGE_DIR / "report", CONFIG_DIR / "operations.yml"),
)
def cx_report(context: dg.AssetExecutionContext, cx_data: CxDataResource) -> dg.MaterializeResult:
    result = build_report(cx_data.paths())
    context.log.info(f"CX report written to {result.path} ({len(result.charts)} charts)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "bytes": result.path.stat().st_size,
            "charts": dg.MetadataValue.json(result.charts),
            "quality_gate": result.gate or "never evaluated",
            "published_version": result.published_version or "nothing published",
        }
    )


report_job = dg.define_asset_job(
    REPORT_JOB,
    selection=dg.AssetSelection.assets(quality_check_status, cx_report),
    description="Record the quality gate's verdict and rebuild the CX report (after every full run and publish).",
)
REPORT_ASSETS = dg.AssetSelection.assets(quality_check_status, cx_report)


def _report_after(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    if run.job_name not in REPORTED_JOBS:
        return dg.SkipReason(f"{run.job_name} is not one of {REPORTED_JOBS}")
    if run.tags.get(LAUNCHED_BY_TAG) == CLI_LAUNCHER:
        return dg.SkipReason("the CLI builds the report of its own runs")
    return dg.RunRequest(run_key=f"report-after-{run.run_id}", tags={"cx/report_after": run.run_id})


report_after_success = dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="report_after_success",
    description="Rebuilds the quality status and the CX report after a full run or publish succeeds.",
    request_job=report_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)(_report_after)

report_after_failure = dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE,
    name="report_after_failure",
    description="Rebuilds the quality status and the CX report after a full run or publish fails, so the "
    "report shows the checks that stopped publishing.",
    request_job=report_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)(_report_after)
