"""Shared fixtures: a small generated sample, materialized once per session in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cx_pipeline.environment import TELEMETRY_OFF, prepare_environment
from cx_pipeline.lib.cores import usable_cores
from cx_pipeline.paths import DATA_DIR_ENV, DataPaths, data_paths

E2E_PEOPLE = 400
E2E_SEED = 7
# The pseudonymisation key of every test run (cx_pipeline/config/privacy.yml: key_env): tests never
# depend on a local key file, and CI (which refuses one) runs them as they run here.
TEST_PSEUDONYM_KEY = "test-only-pseudonym-key-0123456789abcdef"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject.toml): one worker more than the usable cores (--maxprocesses caps it),
    unless PYTEST_XDIST_AUTO_NUM_WORKERS says otherwise (xdist's own hook reads it). On this
    2-core machine two workers took 743 s and kept 1.51 cores busy on average; three took 699 s."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return usable_cores() + 1


@dataclass
class PipelineRun:
    paths: DataPaths
    result: object  # dagster ExecuteInProcessResult
    generation: dict


# Every variable prepare_environment may set, so a test can undo it.
PREPARED_VARIABLES = (DATA_DIR_ENV, "DAGSTER_HOME", "PATH", *TELEMETRY_OFF)


def _isolate(mp: pytest.MonkeyPatch, root: Path) -> None:
    """Point the data folder (and DAGSTER_HOME with it) at `root`; whatever prepare_environment
    then sets is restored when `mp` is undone."""
    for name in PREPARED_VARIABLES:
        if name in os.environ:
            mp.setenv(name, os.environ[name])  # recorded, so the later change is undone
        else:
            mp.delenv(name, raising=False)
    mp.setenv(DATA_DIR_ENV, str(root))
    mp.delenv("DAGSTER_HOME", raising=False)
    mp.setenv("CX_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A data folder of its own, with the environment restored afterwards."""
    _isolate(monkeypatch, tmp_path)
    return tmp_path


def run_full_job(root: Path, people: int, seed: int) -> Iterator[PipelineRun]:
    """Generate a sample into `root` and run the full job once, as `cx-pipeline run` does: with the
    Dagster instance in the data folder, so later tests can copy the folder with its check history."""
    from dagster import DagsterInstance

    from cx_pipeline.generate import generate_sample

    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, root)
        paths = data_paths(root)
        prepare_environment(paths)
        generation = generate_sample(paths.landing, people=people, seed=seed)

        from cx_pipeline.definitions import defs

        job = defs.resolve_job_def("cx_full_run")
        with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
            result = job.execute_in_process(instance=instance, raise_on_error=False)
        yield PipelineRun(paths=paths, result=result, generation=generation)


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineRun]:
    """The small sample, run once per session (per xdist worker)."""
    yield from run_full_job(tmp_path_factory.mktemp("cx_data"), E2E_PEOPLE, E2E_SEED)


# What a copy of a run's data folder takes: everything but Dagster's local compute logs.
COPIED = ("landing", "ingested", "warehouse", "published", "dagster_home")


@pytest.fixture
def run_copy(pipeline_run: PipelineRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """A private copy of the session run's data folder (with its Dagster history), as the
    environment's data folder: a test may break it at will."""
    import shutil

    root = tmp_path / "data"
    for name in COPIED:
        shutil.copytree(pipeline_run.paths.root / name, root / name, symlinks=True)
    _isolate(monkeypatch, root)
    paths = data_paths(root)
    prepare_environment(paths)
    return paths
