"""Shared fixtures: a small generated sample, materialized once per session in-process."""

from __future__ import annotations

import json
import os
from collections import defaultdict
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


# The longest test files, in the order xdist hands them out (`--dist loadfile
# --no-loadscope-reorder`: one file at a time to each worker, in collection order): the longest
# first, so that none starts late and runs alone at the end. Their spans in a run on three workers
# (2026-12-08), in seconds: incremental 277, quality_gate 240, bench 181, spark_target 176,
# privacy_e2e ~150, gate_e2e 142, customer_id_history 75, default_sample 65, pipeline_e2e 61,
# lifecycle_e2e 39. The first builds the session sample; bench needs none and runs beside it.
LONGEST_FILES_FIRST = (
    "test_incremental.py",
    "test_bench.py",
    "test_quality_gate.py",
    "test_spark_target.py",
    "test_privacy_e2e.py",
    "test_gate_e2e.py",
    "test_customer_id_history.py",
    "test_default_sample.py",
    "test_pipeline_e2e.py",
    "test_lifecycle_e2e.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of LONGEST_FILES_FIRST first, in its order; the rest after them as collected."""
    rank = {name: position for position, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


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


def _materialize(paths: DataPaths, people: int, seed: int) -> tuple[object, dict]:
    """Generate a sample into the data folder and run the full job once, as `cx-pipeline run` does:
    with the Dagster instance in the data folder, so later tests can read or copy its history."""
    from dagster import DagsterInstance

    from cx_pipeline.generate import generate_sample

    prepare_environment(paths)
    generation = generate_sample(paths.landing, people=people, seed=seed)

    from cx_pipeline.definitions import defs

    job = defs.resolve_job_def("cx_full_run")
    with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    return result, generation


def run_full_job(root: Path, people: int, seed: int) -> Iterator[PipelineRun]:
    """A sample of its own in `root`, run once; the environment points at it until the generator ends."""
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, root)
        paths = data_paths(root)
        result, generation = _materialize(paths, people, seed)
        yield PipelineRun(paths=paths, result=result, generation=generation)


class StoredRun:
    """A finished run read back from its Dagster instance: the parts of `ExecuteInProcessResult`
    the tests use. Every worker reads the session sample this way, the one that ran it included,
    so a test sees the same run on each."""

    def __init__(self, dagster_home: Path, run_id: str) -> None:
        from dagster import DagsterEventType, DagsterInstance

        self.run_id = run_id
        with DagsterInstance.from_config(str(dagster_home)) as instance:
            self.all_events = [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event]
        by_type = defaultdict(list)
        for event in self.all_events:
            by_type[event.event_type].append(event)
        self._run_success = by_type[DagsterEventType.RUN_SUCCESS]
        self._materializations = by_type[DagsterEventType.ASSET_MATERIALIZATION]
        self._check_evaluations = [e.event_specific_data for e in by_type[DagsterEventType.ASSET_CHECK_EVALUATION]]
        self.success = bool(self._run_success)

    def get_run_success_event(self):
        (event,) = self._run_success
        return event

    def get_asset_materialization_events(self) -> list:
        return self._materializations

    def get_asset_check_evaluations(self) -> list:
        return self._check_evaluations


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[PipelineRun]:
    """The small sample, run once per session: the first xdist worker that needs it runs it in the
    session's shared temp folder while the others wait, then all read it from there (the run from
    its Dagster instance). Tests read it, never change it: a test that writes works on a copy
    (`run_copy`)."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the session's folder, above the workers' own
    root, record = shared / "cx_data", shared / "cx_data.run.json"
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, root)
        paths = data_paths(root)
        with FileLock(shared / "cx_data.lock"):
            if not record.exists():
                try:
                    result, generation = _materialize(paths, E2E_PEOPLE, E2E_SEED)
                    outcome = {"run_id": result.run_id, "generation": generation}
                except Exception as exc:  # the waiting workers report it rather than build on a half-made folder
                    record.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
                    raise
                record.write_text(json.dumps(outcome))
            else:
                prepare_environment(paths)  # this worker's environment, on the folder as it is
        outcome = json.loads(record.read_text())
        if "error" in outcome:
            pytest.fail(f"the session sample failed in another worker: {outcome['error']}")
        yield PipelineRun(paths=paths, result=StoredRun(paths.dagster_home, outcome["run_id"]), generation=outcome["generation"])


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
