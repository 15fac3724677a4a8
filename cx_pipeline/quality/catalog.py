"""Every quality check cx_pipeline knows, registered by the module that measures it.

Two kinds, by what they read:

- source checks run once per registry source on its landing files and ingestion outputs,
  and attach to the asset `ingested/<source>`;
- warehouse checks run SQL on the working DuckDB database after dbt, and attach to one mart;
- mart checks run once per published mart on the working database, and attach to that mart.

Adding a check = one function decorated here + its entry under `checks:` in
cx_pipeline/config/quality.yml (thresholds and severity) + its runbook docs/runbooks/<name>.md.
The Dagster asset checks, the publish gate, the results files and the alerts follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cx_pipeline.quality.base import CheckParams, Measurement

if TYPE_CHECKING:
    import duckdb

    from cx_pipeline.ingest.registry import Registry, SourceSpec
    from cx_pipeline.paths import DataPaths
    from cx_pipeline.quality.suite_pool import SuiteJob


@dataclass(frozen=True)
class CheckContext:
    registry: Registry
    paths: DataPaths
    as_of: datetime  # "now" for the checks: events after it are in the future


SourceMeasure = Callable[["SourceSpec", CheckParams, CheckContext], Measurement]
# A source check that is a GX suite says where its rows are, so the suites can share the cores
SourceSuiteJob = Callable[["SourceSpec", CheckParams, CheckContext], "SuiteJob"]
WarehouseMeasure = Callable[["duckdb.DuckDBPyConnection", CheckParams, CheckContext], Measurement]
MartMeasure = Callable[["duckdb.DuckDBPyConnection", str, CheckParams, CheckContext], Measurement]


@dataclass(frozen=True)
class SourceCheck:
    name: str
    description: str
    params: type[CheckParams]
    measure: SourceMeasure
    suite_job: SourceSuiteJob | None = None  # set: run by quality.suite_pool beside the others


@dataclass(frozen=True)
class WarehouseCheck:
    name: str
    description: str
    params: type[CheckParams]
    measure: WarehouseMeasure
    asset: tuple[str, ...]  # the mart the check guards, e.g. ("marts", "dim_customers")
    reads: tuple[tuple[str, ...], ...] = ()  # other dbt models it reads (shown in its metadata)


@dataclass(frozen=True)
class MartCheck:
    name: str
    description: str
    params: type[CheckParams]
    measure: MartMeasure  # (connection, mart name, params, context)


SOURCE_CHECKS: dict[str, SourceCheck] = {}
WAREHOUSE_CHECKS: dict[str, WarehouseCheck] = {}
MART_CHECKS: dict[str, MartCheck] = {}


def _register(registry: dict, check) -> None:
    if check.name in SOURCE_CHECKS or check.name in WAREHOUSE_CHECKS or check.name in MART_CHECKS:
        raise ValueError(f"quality check {check.name!r} is registered twice")
    registry[check.name] = check


def source_check(
    name: str, *, params: type[CheckParams], description: str, suite_job: SourceSuiteJob | None = None
):
    def register(measure: SourceMeasure) -> SourceMeasure:
        _register(SOURCE_CHECKS, SourceCheck(name, description, params, measure, suite_job))
        return measure

    return register


def warehouse_check(
    name: str,
    *,
    asset: tuple[str, ...],
    params: type[CheckParams],
    description: str,
    reads: tuple[tuple[str, ...], ...] = (),
):
    def register(measure: WarehouseMeasure) -> WarehouseMeasure:
        _register(WAREHOUSE_CHECKS, WarehouseCheck(name, description, params, measure, asset, reads))
        return measure

    return register


def mart_check(name: str, *, params: type[CheckParams], description: str):
    def register(measure: MartMeasure) -> MartMeasure:
        _register(MART_CHECKS, MartCheck(name, description, params, measure))
        return measure

    return register


def all_checks() -> dict[str, SourceCheck | WarehouseCheck | MartCheck]:
    """Every registered check by name (importing the modules that register them)."""
    import cx_pipeline.quality.checks  # noqa: F401  (registers on import)

    return {**SOURCE_CHECKS, **WAREHOUSE_CHECKS, **MART_CHECKS}


def source_checks() -> dict[str, SourceCheck]:
    all_checks()
    return dict(SOURCE_CHECKS)


def warehouse_checks() -> dict[str, WarehouseCheck]:
    all_checks()
    return dict(WAREHOUSE_CHECKS)


def mart_checks() -> dict[str, MartCheck]:
    all_checks()
    return dict(MART_CHECKS)
