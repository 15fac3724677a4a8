"""On-call alerts for failed runs; failed checks alert from within the check itself.

Open-source Dagster raises no alert when a run fails, and none at all for a failed non-blocking
check. cx_pipeline alerts on both:

- a failed check alerts where it is evaluated (cx_pipeline/defs/quality.py, and dbt tests in
  cx_pipeline/defs/dbt.py), whoever launched the run;
- a failed run alerts through `run_failure_alerts`, a run-failure sensor that `dagster dev`
  (`make ui`) runs in its daemon, and through `cx-pipeline run`/`publish`, which execute the job
  in-process without a daemon and alert themselves (their runs are tagged so the sensor skips them).
"""

import dagster as dg
from dagster._core.events import DagsterEventType

from cx_pipeline.alerting import Alert
from cx_pipeline.defs.quality import gated_checks
from cx_pipeline.defs.resources import AlertsResource, CxDataResource
from cx_pipeline.quality.runbooks import RUN_FAILURE, runbook
from cx_pipeline.quality.settings import load_quality_settings

LAUNCHED_BY_TAG = "cx/launched_by"
CLI_LAUNCHER = "cli"


def run_failure_alert(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Alert:
    """What failed in `run`, with the runbook of the first blocking check that failed (else the
    generic run-failure runbook) and every failed check and step listed."""
    records = instance.get_records_for_run(
        run.run_id, of_type={DagsterEventType.ASSET_CHECK_EVALUATION, DagsterEventType.STEP_FAILURE}
    ).records
    runbooks = {key: link for key, (_, link) in gated_checks().items()}
    failed_checks, failed_steps = [], []
    for record in records:
        event = record.event_log_entry.dagster_event
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                failed_checks.append(evaluation)
        elif event.step_key:
            error = event.step_failure_data.error if event.step_failure_data else None
            while error is not None and error.cause is not None and "Error occurred while executing" in error.message:
                error = error.cause  # the user code's own error, not Dagster's wrapper
            message = error.message.strip().splitlines()[0] if error and error.message else "failed"
            failed_steps.append(f"step {event.step_key}: {message}")

    blocking = [e for e in failed_checks if e.severity == dg.AssetCheckSeverity.ERROR]
    lead = blocking[0] if blocking else None
    link = runbooks.get(lead.asset_check_key, runbook(RUN_FAILURE)) if lead else runbook(RUN_FAILURE)
    described = [
        f"{e.check_name} on {'/'.join(e.asset_key.path)} ({e.severity.value.lower()}; runbook "
        f"{runbooks.get(e.asset_check_key, runbook(RUN_FAILURE)).relative})"
        for e in failed_checks
    ]
    cause = f"{len(blocking)} blocking check(s) failed" if blocking else "a step failed"
    summary_lines = [f"run {run.run_id} of {run.job_name}: {cause}; nothing was published by this run."]
    summary_lines += [f"failed check: {d}" for d in described] + failed_steps[:5]
    return Alert(
        kind="run_failed",
        severity="error",
        title=f"run of {run.job_name} failed: {cause}",
        summary="\n".join(summary_lines),
        runbook=link.relative,
        runbook_url=link.url(load_quality_settings().runbook_base_url),
        run_id=run.run_id,
        job=run.job_name,
        check=lead.check_name if lead else None,
        asset="/".join(lead.asset_key.path) if lead else None,
        blocking=True,
        failing=described + failed_steps,
    )


@dg.run_failure_sensor(
    name="run_failure_alerts",
    description="Alerts on-call when a run launched from the UI or a schedule fails (CLI runs alert themselves).",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def run_failure_alerts(context: dg.RunFailureSensorContext, alerts: AlertsResource, cx_data: CxDataResource):
    run = context.dagster_run
    if run.tags.get(LAUNCHED_BY_TAG) == CLI_LAUNCHER:
        return
    alerts.notifier(cx_data.paths()).send(run_failure_alert(context.instance, run))
