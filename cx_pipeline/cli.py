"""`cx-pipeline`: generate sample data, run the pipeline, publish, roll back, report, open the UI."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from cx_pipeline.environment import prepare_environment
from cx_pipeline.ingest.readers import LandingFileError
from cx_pipeline.ingest.registry import RegistryError
from cx_pipeline.paths import PROJECT_ROOT, DataPaths, data_paths, venv_executable

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

console = Console()
BENCH_TABLE_WIDTH = 110


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors in what a user wrote (a config file, a landing file, a version name): their message
    names the file, the key or row and the field, so it is shown without a traceback."""
    from cx_pipeline.dbt_docs import DbtDocsError
    from cx_pipeline.identity.rules import IdentityRulesError
    from cx_pipeline.identity.survivorship import SurvivorshipError
    from cx_pipeline.lifecycle.rules import LifecycleRulesError
    from cx_pipeline.operations import OperationsConfigError
    from cx_pipeline.publish import PublishError
    from cx_pipeline.quality.expectations import SuiteFileError
    from cx_pipeline.quality.settings import QualityConfigError

    return (
        RegistryError, LandingFileError, IdentityRulesError, SurvivorshipError, LifecycleRulesError,
        OperationsConfigError, QualityConfigError, SuiteFileError, PublishError, DbtDocsError,
    )  # fmt: skip


class _CleanErrors(TyperGroup):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _user_errors() as error:
            console.print(Text.assemble(("Error: ", "bold red"), str(error)), soft_wrap=True)
            raise typer.Exit(2) from None


app = typer.Typer(help="cx_pipeline: the Connected Customer 360 pipeline.", no_args_is_help=True, cls=_CleanErrors)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: $CX_DATA_DIR or ./data).", show_default=False),
]
PeopleOption = Annotated[int, typer.Option("--people", min=1, help="People in the sample population.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")]


def _paths(data_dir: Path | None) -> DataPaths:
    paths = data_paths(data_dir)
    prepare_environment(paths)
    return paths


def _print_row_counts(what: str, counts: dict[str, int]) -> None:
    table = Table()
    table.add_column(what)
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)


def _generate(paths: DataPaths, people: int, seed: int, hold_back_days: int = 0) -> None:
    from cx_pipeline.generate import generate_sample
    from cx_pipeline.ingest.registry import load_registry

    started = time.perf_counter()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        # one step for the population, one per source, one for the ground truth
        task = progress.add_task(f"{people:,} people (seed {seed})", total=len(load_registry().sources) + 2)
        summary = generate_sample(
            paths.landing,
            people=people,
            seed=seed,
            progress=lambda message: progress.update(task, advance=1, description=message),
            hold_back_days=hold_back_days,
        )
        progress.update(task, completed=progress.tasks[task].total)
    console.print(f"Sample data in [bold]{paths.landing}[/bold] ({time.perf_counter() - started:.1f} s)")
    _print_row_counts("source", summary["rows_by_source"])


def _sources_without_files(paths: DataPaths) -> list[str]:
    """Where each registered source expects files and finds none (e.g. data/landing/orders/*.csv)."""
    from cx_pipeline.ingest.registry import load_registry

    return [
        str(paths.landing_dir(name) / spec.path)
        for name, spec in load_registry().sources.items()
        if not any(paths.landing_dir(name).glob(spec.path))
    ]


def _execute_job(job_name: str, paths: DataPaths) -> bool:
    """Run a job in this process (no daemon) behind a progress bar, and alert on-call when it fails:
    the run-failure sensor only runs under `dagster dev`, and skips runs tagged as ours."""
    from dagster import DagsterInstance

    from cx_pipeline.defs.alerts import run_failure_alert
    from cx_pipeline.definitions import defs
    from cx_pipeline.execution import execute_job, job_scope
    from cx_pipeline.run_progress import RunProgress

    run_id = str(uuid.uuid4())  # known before the run starts, so the bar can follow it
    log = paths.cli_log(run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    terminal = Console(file=sys.stdout)
    with DagsterInstance.get() as instance:
        # The bar shows progress and warnings still print (stderr); what steps print (dbt echoes
        # its log to stdout) goes to the run's log file, and the whole run is in the UI.
        with log.open("w", encoding="utf-8") as captured, contextlib.redirect_stdout(captured):
            with RunProgress(terminal, instance, run_id, job_name, *job_scope(job_name)):
                result = execute_job(job_name, instance, run_id=run_id, log_level="WARNING")
        if not result.success:
            alert = run_failure_alert(instance, result.dagster_run)
            defs.resources["alerts"].notifier(paths).send(alert)
            console.print(f"[red]Run {result.run_id} failed[/red]: {alert.title}")
            console.print(alert.summary, markup=False)
            console.print(f"Runbook: {alert.runbook_url or alert.runbook}")
            console.print(f"Alert recorded in {paths.alerts}; the run's output is in {log}, its events in the Dagster UI (`make ui`).")
    return result.success


def _report(paths: DataPaths) -> bool:
    """The quality status and the CX report, after a run or publish whatever its outcome."""
    if not _execute_job("cx_report", paths):
        return False
    console.print(f"CX report: [bold]{paths.report}[/bold] (open it in a browser; it needs no network)")
    return True


def _print_published(paths: DataPaths) -> None:
    manifest = json.loads((paths.published / "manifest.json").read_text(encoding="utf-8"))
    version = manifest.get("version", "?")
    console.print(f"Published [bold]{paths.published_db}[/bold] version {version} at {manifest['published_at']}")
    _print_row_counts("mart", manifest["row_counts"])
    warned = [f"{c['check']} on {c['asset']}" for c in manifest.get("checks", []) if c.get("passed") is False]
    if warned:
        console.print(f"[yellow]Published with {len(warned)} failed warning check(s)[/yellow]: {', '.join(warned)}")


@app.command()
def generate(
    people: PeopleOption = 10_000,
    seed: SeedOption = 42,
    hold_back_days: Annotated[
        int, typer.Option("--hold-back-days", min=0, help="Keep the last N days of the event streams back for --append-day.")
    ] = 0,
    append_day: Annotated[
        bool,
        typer.Option("--append-day", help="Land the next held-back day of the sample already there (one file per event stream)."),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Write deterministic sample channel data (and its ground truth) under data/landing/."""
    paths = _paths(data_dir)
    if not append_day:
        _generate(paths, people, seed, hold_back_days)
        return
    from cx_pipeline.generate import append_day as land_next_day

    try:
        appended = land_next_day(paths.landing)
    except (FileNotFoundError, ValueError) as error:
        console.print(f"[red]No day appended:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"Landed day [bold]{appended['day']}[/bold] in {paths.landing}")
    _print_row_counts("source", appended["rows_by_source"])


@app.command()
def run(
    people: PeopleOption = 10_000,
    seed: SeedOption = 42,
    regenerate: Annotated[bool, typer.Option(help="Generate sample data even if landing data exists.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Materialize every asset (ingest, dbt build, publish); generates sample data when none has landed."""
    paths = _paths(data_dir)
    missing = _sources_without_files(paths)
    if regenerate or len(missing) == len(_registry_sources()):
        _generate(paths, people, seed)
    elif missing:
        # Real deliveries are never topped up with sample data: the quality gate judges the gap.
        console.print(f"[yellow]No landing files for {len(missing)} source(s)[/yellow]: " + ", ".join(missing))
    started = time.perf_counter()
    ok = _execute_job("cx_full_run", paths)
    console.print(f"Run took {time.perf_counter() - started:.1f} s")
    if ok:
        _print_published(paths)
    reported = _report(paths)
    if not (ok and reported):
        raise typer.Exit(1)


def _registry_sources() -> list[str]:
    from cx_pipeline.ingest.registry import load_registry

    return list(load_registry().sources)


@app.command()
def publish(data_dir: DataDirOption = None) -> None:
    """Publish the marts already built and checked in the working database (no rebuild)."""
    paths = _paths(data_dir)
    if not paths.warehouse.is_file():
        console.print(
            f"[red]Nothing to publish:[/red] no working database at {paths.warehouse}; "
            "`cx-pipeline run` builds, checks and publishes",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    ok = _execute_job("publish_job", paths)
    if ok:
        _print_published(paths)
    reported = _report(paths)
    if not (ok and reported):
        raise typer.Exit(1)


@app.command()
def report(data_dir: DataDirOption = None) -> None:
    """Record the quality gate's latest verdict and rebuild the CX report (data/published/report/index.html)."""
    if not _report(_paths(data_dir)):
        raise typer.Exit(1)


@app.command()
def docs(data_dir: DataDirOption = None) -> None:
    """Generate the dbt docs into data/dbt_docs/: static_index.html opens offline, in any browser."""
    from cx_pipeline.dbt_docs import generate_dbt_docs

    paths = _paths(data_dir)
    with console.status("dbt docs generate ..."):
        page = generate_dbt_docs(paths)
    console.print(f"dbt docs: [bold]{page}[/bold]")


@app.command()
def bench(people: PeopleOption = 10_000, seed: SeedOption = 42, data_dir: DataDirOption = None) -> None:
    """Measure one full run stage by stage on a sample of its own (data/bench/<people>/): wall time,
    CPU time, peak RSS, rows per second, and the floor of one DuckDB pass over the landing files."""
    from cx_pipeline.bench import BenchError, bench_table, report_path, run_bench

    main = data_paths(data_dir)
    try:
        report = run_bench(main, people, seed)
    except BenchError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    # seven columns: narrower, every label wraps over several lines (a file or pipe gets 80)
    Console(width=max(console.width, BENCH_TABLE_WIDTH)).print(bench_table(report))
    console.print(f"Report in [bold]{report_path(main, people)}[/bold]")


@app.command()
def versions(data_dir: DataDirOption = None) -> None:
    """List the published versions kept for rollback, newest first."""
    from cx_pipeline.publish import current_version, list_versions, read_manifest

    paths = _paths(data_dir)
    current = current_version(paths)
    kept = list_versions(paths)
    table = Table()
    table.add_column("version", no_wrap=True, min_width=max((len(v) for v in kept), default=7))
    for column in ("published at", "run", "checks failed", "live"):
        table.add_column(column)
    for version in reversed(kept):
        manifest = read_manifest(paths.versions / version) or {}
        failed = sum(1 for c in manifest.get("checks", []) if c.get("passed") is False)
        table.add_row(version, manifest.get("published_at", "?"), manifest.get("run_id", "?")[:8], str(failed),
                      "yes" if version == current else "")
    console.print(table)


@app.command()
def rollback(
    to: Annotated[
        str | None, typer.Option("--to", help="Version to put back (default: the one before the live one).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Put a kept published version back, atomically (see `cx-pipeline versions`)."""
    from cx_pipeline.publish import PublishError
    from cx_pipeline.publish import rollback as roll_back

    paths = _paths(data_dir)
    try:
        manifest = roll_back(paths, to)
    except PublishError as error:
        console.print(f"[red]Nothing rolled back:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"Rolled back from {manifest['rolled_back_from']} to [bold]{manifest['version']}[/bold] "
                  f"(published {manifest['published_at']} by run {manifest['run_id']})")
    _print_published(paths)


@app.command()
def erase(
    requests: Annotated[
        Path | None,
        typer.Option("--requests", help="Request file (default: data/privacy/erasure_requests.csv).", show_default=False),
    ] = None,
    run_after: Annotated[
        bool, typer.Option("--run/--no-run", help="Rebuild and publish after erasing (the working marts are dropped).")
    ] = True,
    data_dir: DataDirOption = None,
) -> None:
    """Erase the people named in the request file from everything the pipeline built and keep them
    out (docs/privacy.md); the audit log is data/privacy/erasure_log.jsonl."""
    from cx_pipeline.privacy.erasure import ErasureError, requests_path
    from cx_pipeline.privacy.erasure import erase as erase_people
    from cx_pipeline.privacy.pseudonym import PseudonymKeyError, environment_key

    paths = _paths(data_dir)
    source = requests or requests_path(paths)
    try:
        with console.status(f"Erasing the people requested in {source} ..."):
            report = erase_people(paths, environment_key(paths), source)
    except (ErasureError, PseudonymKeyError) as error:
        console.print(f"[red]Nothing erased:[/red] {error}", markup=False)
        raise typer.Exit(1) from None
    if report is None:
        console.print(f"No erasure request in {source}; nothing to do.")
        return
    console.print(
        f"Erased {report.customers} customer(s) for {report.requests} request(s): "
        f"{sum(report.records_by_source.values()):,} records, {sum(report.identifiers_by_type.values())} identifiers "
        f"suppressed ({report.identifiers_kept_shared} shared with others kept), "
        f"{sum(report.published_rows_removed.values()):,} rows out of {len(report.published_rows_removed)} published version(s)"
    )
    if report.unresolved_request_rows:
        console.print(
            f"[yellow]Request rows {report.unresolved_request_rows} matched no customer[/yellow] (an unknown or shared "
            f"identifier): what they name is suppressed from now on; check them, or ask again by customer_id."
        )
    console.print(f"Audit log: {paths.root / 'privacy' / 'erasure_log.jsonl'}")
    if run_after:
        if not _execute_job("cx_full_run", paths):
            raise typer.Exit(1)
        _print_published(paths)


@app.command()
def suite(
    source: Annotated[str, typer.Argument(help="Registry source to write a starting GX suite for.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing suite file.")] = False,
) -> None:
    """Write expectations/sources/<source>.json from the source's registry entry, to edit."""
    from cx_pipeline.ingest.registry import load_registry
    from cx_pipeline.quality.expectations import scaffold_source_suite, source_suite_path

    registry = load_registry()
    if source not in registry.sources:
        console.print(f"[red]{registry.path}: no source {source!r}[/red]; known: {', '.join(registry.sources)}")
        raise typer.Exit(2)
    path = source_suite_path(registry.source(source).name)
    if path.exists() and not force:
        console.print(f"[red]{path} exists[/red]; --force to overwrite it")
        raise typer.Exit(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scaffold_source_suite(registry.source(source), registry.defaults), indent=2) + "\n")
    console.print(f"Wrote {path}")


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port for the Dagster UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Address to bind; keep 127.0.0.1 unless behind an auth proxy.")] = "127.0.0.1",
    data_dir: DataDirOption = None,
) -> None:
    """Start the Dagster UI (dagster dev) on 127.0.0.1."""
    _paths(data_dir)
    if host not in LOOPBACK_HOSTS:
        # The UI can launch runs, wipe assets and read every check's sample rows: it has no login.
        console.print(
            f"[yellow]The UI will listen on {host}: anyone who reaches it can run and change the pipeline.[/yellow] "
            "Put an authenticating proxy in front, or serve `dagster-webserver --read-only`; see README, Privacy."
        )
    args = [venv_executable("dagster"), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", host, "-p", str(port)]
    os.chdir(PROJECT_ROOT)
    os.execv(args[0], args)


if __name__ == "__main__":
    app()
