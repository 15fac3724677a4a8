"""Running a job of the code location in this process, as `cx-pipeline run` and `make bench` do."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import DagsterInstance, ExecuteInProcessResult

# Step-level DEBUG events belong in the UI's run view, not the terminal.
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def execute_job(job_name: str, instance: DagsterInstance) -> ExecuteInProcessResult:
    """Run `job_name` in-process (the in-process executor: no process spawned per step), tagged as
    launched from the CLI: the run-failure sensor leaves such runs to the CLI's own alert.

    Import after prepare_environment: the definitions read the dbt manifest and DAGSTER_HOME.
    """
    from cx_pipeline.defs.alerts import CLI_LAUNCHER, LAUNCHED_BY_TAG
    from cx_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(
        instance=instance, raise_on_error=False, run_config=RUN_CONFIG, tags={LAUNCHED_BY_TAG: CLI_LAUNCHER}
    )


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
