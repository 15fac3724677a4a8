"""The Dagster code location: every stage's definitions merged, plus cross-cutting policy."""

import dagster as dg
from dagster_dbt import DbtCliResource

from cx_pipeline.dbt_project import cx_dbt_project
from cx_pipeline.defs.alerts import run_failure_alerts
from cx_pipeline.defs.arrivals import landing_files_sensor
from cx_pipeline.defs.dbt import cx_dbt_models
from cx_pipeline.defs.identity import match_quality
from cx_pipeline.defs.ingestion import build_ingestion_defs
from cx_pipeline.defs.lifecycle import lifecycle_phase_accuracy
from cx_pipeline.defs.publish import publish_job, published_marts
from cx_pipeline.defs.quality import quality_checks
from cx_pipeline.defs.resources import AlertsResource, CxDataResource, PrivacyResource
from cx_pipeline.paths import venv_executable

# One job materializes and checks everything, landing to publish; `cx-pipeline run` and `make run` launch it.
full_run_job = dg.define_asset_job(
    "cx_full_run",
    selection=dg.AssetSelection.all(),
    description="Ingest every source, build and test the dbt models, run the quality checks, and publish the marts.",
)

defs = dg.Definitions.merge(
    build_ingestion_defs(),
    dg.Definitions(
        assets=[cx_dbt_models, match_quality, lifecycle_phase_accuracy, published_marts],
        asset_checks=quality_checks,
        jobs=[full_run_job, publish_job],
        sensors=[run_failure_alerts, landing_files_sensor],
        resources={
            "dbt": DbtCliResource(project_dir=cx_dbt_project, dbt_executable=venv_executable("dbt")),
            "cx_data": CxDataResource(),
            "alerts": AlertsResource(),
            "privacy": PrivacyResource(),
        },
        # Spawning a process per step costs ~3 s here and our steps are few and short.
        executor=dg.in_process_executor,
    ),
)
