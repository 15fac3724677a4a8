"""Running a job of the code location in this process, as `cx-pipeline run` and `make bench` do."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import DagsterInstance, ExecuteInProcessResult


def run_config(log_level: str = "INFO") -> dict:
    # Step-level DEBUG events belong in the UI's run view, not the terminal.
    return {"loggers": {"console": {"config": {"log_level": log_level}}}}


RUN_CONFIG = run_config()


def execute_job(
    job_name: str, instance: DagsterInstance, run_id: str | None = None, log_level: str = "INFO"
) -> ExecuteInProcessResult:
    """Run `job_name` in-process (the in-process executor: no process spawned per step), tagged as
    launched from the CLI: the run-failure sensor leaves such runs to the CLI's own alert.

    Import after prepare_environment: the definitions read the dbt manifest and DAGSTER_HOME.
    """
    from cx_pipeline.defs.alerts import CLI_LAUNCHER, LAUNCHED_BY_TAG
    from cx_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=run_config(log_level),
        tags={LAUNCHED_BY_TAG: CLI_LAUNCHER},
        run_id=run_id,
    )


def job_scope(job_name: str) -> tuple[int, int]:
    """How many assets a job materializes and how many checks it evaluates."""
    from cx_pipeline.definitions import defs

    layer = defs.resolve_job_def(job_name).asset_layer
    keys = layer.selected_asset_keys
    return len(keys), sum(1 for check in layer.asset_graph.asset_check_keys if check.asset_key in keys)


def execute_run_request(request, instance: DagsterInstance) -> ExecuteInProcessResult:
    """Run what a sensor's RunRequest asks for (its job, assets, partition or range of partitions)
    in-process, as the landing sensor's run would run under the daemon."""
    from cx_pipeline.defs.alerts import CLI_LAUNCHER, LAUNCHED_BY_TAG
    from cx_pipeline.definitions import defs

    job = defs.resolve_job_def(request.job_name)
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=RUN_CONFIG,
        partition_key=request.partition_key,
        asset_selection=list(request.asset_selection) if request.asset_selection else None,
        tags={**request.tags, LAUNCHED_BY_TAG: CLI_LAUNCHER},
    )
