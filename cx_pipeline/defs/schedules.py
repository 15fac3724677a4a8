"""The daily full run, as cx_pipeline/config/operations.yml schedules it."""

import dagster as dg

from cx_pipeline.operations import load_operations_settings

STATUSES = {"running": dg.DefaultScheduleStatus.RUNNING, "stopped": dg.DefaultScheduleStatus.STOPPED}


def daily_run_schedule(job) -> dg.ScheduleDefinition:
    """`job`: the full-run asset job."""
    settings = load_operations_settings().schedule
    return dg.ScheduleDefinition(
        name="cx_daily_run",
        job=job,
        cron_schedule=settings.cron,
        execution_timezone=settings.timezone,
        default_status=STATUSES[settings.default_status],
        description=(
            f"The full run ({job.name}) at `{settings.cron}` ({settings.timezone}); the CX report follows it. "
            "Set in cx_pipeline/config/operations.yml; runs under the Dagster daemon (`make ui`)."
        ),
    )
