"""On-call alerts for failed runs; failed checks alert from within the check itself.

Open-source Dagster raises no alert when a run fails, and none at all for a failed non-blocking
check. cx_pipeline alerts on both:

- a failed check alerts where it is evaluated (cx_pipeline/defs/quality.py, and dbt tests in
  cx_pipeline/defs/dbt.py), whoever launched the run;
- a failed run alerts through `run_failure_alerts`, a run-failure sensor that `dagster dev`
  (`make ui`) runs in its daemon, and through `cx-pipeline run`/`publish`, which execute the job
  in-process without a daemon and alert themselves (their runs are tagged so the sensor skips them).
"""

from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType

from cx_pipeline.alerting import Alert
from cx_pipeline.defs.quality import gated_checks
from cx_pipeline.defs.resources import AlertsResource, CxDataResource
from cx_pipeline.quality.runbooks import RUN_FAILURE, runbook
from cx_pipeline.quality.settings import load_quality_settings

LAUNCHED_BY_TAG = "cx/launched_by"
CLI_LAUNCHER = "cli"


def _step_error(failure) -> str:
    error = failure.error if failure else None
    while error is not None and error.cause is not None and "Error occurred while executing" in error.message:
        error = error.cause  # the user code's own error, not Dagster's wrapper
    return error.message.strip().splitlines()[0] if error and error.message else "failed"


def _failures(instance: dg.DagsterInstance, run_id: str) -> tuple[list, list[dict], list[str]]:
    """The run's failed check evaluations, the checks its publish gate refused on, its failed steps."""
    records = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.ASSET_CHECK_EVALUATION, DagsterEventType.STEP_FAILURE}
    ).records
    failed_checks, refused, failed_steps = [], [], []
    for record in records:
        event = record.event_log_entry.dagster_event
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            if not event.event_specific_data.passed:
                failed_checks.append(event.event_specific_data)
        elif event.step_key:
            failure = event.step_failure_data
            failed_steps.append(f"step {event.step_key}: {_step_error(failure)}")
            user_failure = failure.user_failure_data if failure else None
            gate = user_failure.metadata.get("blocking_checks") if user_failure else None
            refused += gate.value if gate is not None else []
    return failed_checks, refused, failed_steps


def run_failure_alert(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Alert:
    """What failed in `run`, with the runbook of the first blocking check that failed (else the
    generic run-failure runbook) and every failed check and step listed."""
    try:
        runbooks = {key: link for key, (_, link) in gated_checks().items()}
        base_url = load_quality_settings().runbook_base_url
    except Exception:  # a broken settings file must not silence the alert about the run it broke
        runbooks, base_url = {}, None
    failed_checks, refused, failed_steps = _failures(instance, run.run_id)

    def runbook_of(key: dg.AssetCheckKey):
        return runbooks.get(key) or runbook(RUN_FAILURE)

    blocking = [e for e in failed_checks if e.severity == dg.AssetCheckSeverity.ERROR]
    described = [
        f"{e.check_name} on {'/'.join(e.asset_key.path)} ({e.severity.value.lower()}; "
        f"runbook {runbook_of(e.asset_check_key).relative})"
        for e in failed_checks
    ] + [
        f"{c['check']} on {c['asset']} ({'failed' if c['passed'] is False else 'not evaluated since its asset was built'}"
        f"; runbook {c['runbook']})"
        for c in refused
    ]
    if blocking:
        lead = (blocking[0].check_name, "/".join(blocking[0].asset_key.path))
        link = runbook_of(blocking[0].asset_check_key)
        cause = f"{len(blocking)} blocking check(s) failed"
    elif refused:
        lead = (refused[0]["check"], refused[0]["asset"])
        link = runbook(Path(refused[0]["runbook"]).stem)
        cause = f"publishing refused: {len(refused)} blocking check(s) did not pass"
    else:
        lead, link, cause = (None, None), runbook(RUN_FAILURE), "a step failed"
    summary_lines = [f"run {run.run_id} of {run.job_name}: {cause}; nothing was published by this run."]
    summary_lines += [f"failed check: {d}" for d in described] + failed_steps[:5]
    return Alert(
        kind="run_failed",
        severity="error",
        title=f"run of {run.job_name} failed: {cause}",
        summary="\n".join(summary_lines),
        runbook=link.relative,
        runbook_url=link.url(base_url),
        run_id=run.run_id,
        job=run.job_name,
        check=lead[0],
        asset=lead[1],
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
