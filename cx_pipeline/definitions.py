"""The Dagster code location: every stage's definitions merged, plus cross-cutting policy."""

import warnings

import dagster as dg

from cx_pipeline.dbt_project import cx_dbt_cli
from cx_pipeline.defs.alerts import run_failure_alerts
from cx_pipeline.defs.arrivals import landing_files_sensor
from cx_pipeline.defs.dbt import cx_dbt_models
from cx_pipeline.defs.identity import match_quality
from cx_pipeline.defs.ingestion import build_ingestion_defs
from cx_pipeline.defs.lifecycle import lifecycle_phase_accuracy
from cx_pipeline.defs.publish import publish_job, published_marts
from cx_pipeline.defs.quality import quality_checks
from cx_pipeline.defs.report import (
    REPORT_ASSETS,
    cx_report,
    quality_check_status,
    report_after_failure,
    report_after_success,
    report_job,
)
from cx_pipeline.defs.resources import AlertsResource, CxDataResource, PrivacyResource
from cx_pipeline.defs.schedules import daily_run_schedule
from cx_pipeline.operations import load_operations_settings

# One job materializes and checks everything, landing to publish; `cx-pipeline run` and `make run` launch it.
# The quality status and the CX report follow it in their own job (cx_report): they must also run
# when a blocking check stops this one.
full_run_job = dg.define_asset_job(
    "cx_full_run",
    selection=dg.AssetSelection.all() - REPORT_ASSETS,
    description="Ingest every source, build and test the dbt models, run the quality checks, and publish the marts.",
)


OWNERS = load_operations_settings().owners


def operated(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Cross-cutting policy: every asset is owned by its group's owners (operations.yml), on top of
    any owner it declares itself (an ingestion asset's department)."""
    return spec.replace_attributes(owners=list(dict.fromkeys([*OWNERS.of_group(spec.group_name), *spec.owners])))


defs = dg.Definitions.merge(
    build_ingestion_defs(),
    dg.Definitions(
        assets=[cx_dbt_models, match_quality, lifecycle_phase_accuracy, published_marts, quality_check_status, cx_report],
        asset_checks=quality_checks,
        jobs=[full_run_job, publish_job, report_job],
        schedules=[daily_run_schedule(full_run_job)],
        sensors=[run_failure_alerts, landing_files_sensor, report_after_success, report_after_failure],
        resources={
            "dbt": cx_dbt_cli(),
            "cx_data": CxDataResource(),
            "alerts": AlertsResource(),
            "privacy": PrivacyResource(),
        },
        # Spawning a process per step costs ~3 s here and our steps are few and short.
        executor=dg.in_process_executor,
    ),
)
# map_asset_specs is marked preview (stable since Dagster 1.9); its warning would greet every CLI run.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)
    defs = defs.map_asset_specs(func=operated)  # rebound: one Definitions object at module scope
