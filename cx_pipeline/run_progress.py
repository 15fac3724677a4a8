"""A live view of a run executing in this process: a thread reads the run's new events from the
Dagster instance and moves a rich progress bar (assets built, checks evaluated, the latest step).

The run itself stays on the main thread, so Ctrl-C reaches Dagster, which stops dbt cleanly.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from dagster import DagsterInstance

POLL_SECONDS = 0.5
DESCRIPTION_WIDTH = 60


def _counted(event) -> str | None:
    """'asset' or 'check' for the events the bar counts."""
    from dagster._core.events import DagsterEventType

    if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
        return "asset"
    if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
        return "check"
    return None


class RunProgress:
    """`with RunProgress(...) as progress: execute_job(...)`; polls until the block ends."""

    def __init__(self, console: Console, instance: DagsterInstance, run_id: str, job_name: str, assets: int, checks: int):
        self.instance, self.run_id = instance, run_id
        self.assets, self.checks, self.step = 0, 0, "starting"
        self.total_assets, self.total_checks = assets, checks
        self.cursor: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="cx-run-progress", daemon=True)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[job]}[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            # stdout belongs to the run's log file while it runs (see cx_pipeline/cli.py)
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._progress.add_task("starting", total=assets + checks, job=job_name, counts="")

    def __enter__(self) -> RunProgress:
        self._progress.start()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._read()  # the events of the last half second
        self._progress.stop()

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self._read()
            except Exception:  # the event log is being created: try again next tick
                continue

    def _read(self) -> None:
        if not self.instance.has_run(self.run_id):
            return
        connection = self.instance.get_records_for_run(self.run_id, cursor=self.cursor)
        self.cursor = connection.cursor
        for record in connection.records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None:
                if entry.user_message:  # a step's own log line, e.g. "dbt built model...."
                    self.step = entry.user_message.splitlines()[0]
                continue
            kind = _counted(event)
            if kind == "asset":
                self.assets += 1
            elif kind == "check":
                self.checks += 1
            elif event.event_type_value == "STEP_START" and event.step_key:
                self.step = f"step {event.step_key}"
        self._progress.update(
            self._task,
            completed=self.assets + self.checks,
            description=self.step[:DESCRIPTION_WIDTH],
            counts=f"{self.assets}/{self.total_assets} assets, {self.checks}/{self.total_checks} checks",
        )
