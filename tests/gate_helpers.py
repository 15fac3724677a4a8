"""Running parts of the pipeline on a copied data folder, as an operator would from the UI:
some assets and checks, then `publish_job`, all on the folder's own Dagster instance."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import dagster as dg

from cx_pipeline.alerting import read_alerts
from cx_pipeline.paths import DataPaths

_job_numbers = itertools.count()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_digests(paths: DataPaths) -> dict[str, str]:
    """Every live published file, byte for byte (the kept versions are not live)."""
    return {p.name: digest(p) for p in sorted(paths.published.iterdir()) if p.is_file() and not p.name.startswith(".")}


def instance(paths: DataPaths) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(paths.dagster_home))


def execute(paths: DataPaths, selection: dg.AssetSelection, tags: dict | None = None) -> dg.ExecuteInProcessResult:
    from cx_pipeline.definitions import defs

    name = f"test_selection_{next(_job_numbers)}"
    job = dg.Definitions.merge(defs, dg.Definitions(jobs=[dg.define_asset_job(name, selection=selection)]))
    with instance(paths) as dagster:
        return job.resolve_job_def(name).execute_in_process(instance=dagster, raise_on_error=False, tags=tags)


def quality_checks_of(*asset_paths: str) -> dg.AssetSelection:
    """The quality checks (not the dbt tests, which need dbt) of the given assets, e.g. "marts/dim_customers"."""
    from cx_pipeline.defs.quality import quality_checks

    wanted = {dg.AssetKey(p.split("/")) for p in asset_paths}
    keys = [key for definition in quality_checks for key in definition.check_keys if key.asset_key in wanted]
    return dg.AssetSelection.checks(*keys)


def run_checks(
    paths: DataPaths, *asset_paths: str, rebuild: bool = False, tags: dict | None = None
) -> dg.ExecuteInProcessResult:
    """Run the quality checks of the given assets, rebuilding the assets first if asked."""
    selection = quality_checks_of(*asset_paths)
    if rebuild:
        selection = selection | dg.AssetSelection.assets(*[dg.AssetKey(p.split("/")) for p in asset_paths])
    return execute(paths, selection, tags=tags)


def warehouse(paths: DataPaths, *statements: str) -> None:
    """Change the working database (as a bad dbt change would)."""
    import duckdb

    with duckdb.connect(str(paths.warehouse)) as con:
        for statement in statements:
            con.execute(statement)


def publish(paths: DataPaths) -> dg.ExecuteInProcessResult:
    from cx_pipeline.definitions import defs

    with instance(paths) as dagster:
        return defs.resolve_job_def("publish_job").execute_in_process(instance=dagster, raise_on_error=False)


def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """(asset path, check) -> evaluation, for every check the run evaluated."""
    return {("/".join(e.asset_key.path), e.check_name): e for e in result.get_asset_check_evaluations()}


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    """asset path -> the metadata of its materialization, for every asset the run materialized."""
    return {
        "/".join(event.asset_key.path): event.step_materialization_data.materialization.metadata
        for event in result.get_asset_materialization_events()
    }


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        event.step_failure_data.user_failure_data.description or ""
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data.user_failure_data
    )


def alerts(paths: DataPaths) -> list[dict]:
    return read_alerts(paths.alerts)
