"""Shared fixtures: a small generated sample, materialized once per session in-process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from cx_pipeline.environment import prepare_environment
from cx_pipeline.paths import DATA_DIR_ENV, DataPaths, data_paths

E2E_PEOPLE = 400
E2E_SEED = 7


@dataclass
class PipelineRun:
    paths: DataPaths
    result: object  # dagster ExecuteInProcessResult
    generation: dict


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A data folder of its own; the variables `prepare_environment` sets are restored afterwards."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    return tmp_path


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """Generate a small sample and run the full job once, as `cx-pipeline run` does."""
    from dagster import DagsterInstance

    from cx_pipeline.generate import generate_sample

    root = tmp_path_factory.mktemp("cx_data")
    previous = {k: os.environ.get(k) for k in (DATA_DIR_ENV, "DAGSTER_HOME")}
    paths = data_paths(root)
    prepare_environment(paths)
    generation = generate_sample(paths.landing, people=E2E_PEOPLE, seed=E2E_SEED)

    from cx_pipeline.definitions import defs

    job = defs.resolve_job_def("cx_full_run")
    result = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
    yield PipelineRun(paths=paths, result=result, generation=generation)
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
