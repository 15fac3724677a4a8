"""GX suites shared between this process and a worker process (cx_pipeline/quality/suite_pool.py):
the same measurements as one by one, each job's failure its own, a dead worker costing one job."""

import json
import stat

import duckdb
import polars as pl
import pytest

from cx_pipeline.quality import suite_pool
from cx_pipeline.quality.expectations import SuiteFileError
from cx_pipeline.quality.suite_pool import database_suite_job, parquet_suite_job, run_suite_jobs

SUITE = {
    "name": "people",
    "meta": {"row_key": ["id"]},
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "channel", "value_set": ["web", "app"]}},
    ],
}


def _jobs(tmp_path, tables: int = 4) -> dict:
    """Parquet tables of different sizes, a few of them with faults, and one DuckDB table."""
    suite_path = tmp_path / "people.json"
    suite_path.write_text(json.dumps(SUITE), encoding="utf-8")
    jobs = {}
    for n in range(tables):
        rows = 500 * (n + 1)
        frame = pl.DataFrame(
            {
                "id": [str(i) for i in range(rows)] + (["0"] if n % 2 else []),  # odd tables: a duplicate id
                "email": [f"p{i}@example.com" for i in range(rows)] + ([None] if n % 2 else []),
                "channel": ["web"] * rows + (["fax"] if n % 2 else []),
            }
        )
        path = tmp_path / f"table_{n}.parquet"
        frame.write_parquet(path)
        jobs[f"table_{n}"] = parquet_suite_job(suite_path, path)
    database = tmp_path / "work.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.people as select i::varchar as id, 'p' || i || '@example.com' as email, "
            "case when i % 100 = 7 then 'fax' else 'app' end as channel from range(3000) as t(i)"
        )
    jobs["people"] = database_suite_job(suite_path, database, '"marts"."people"')
    return jobs


def _comparable(outcomes) -> dict:
    measured = {}
    for name, outcome in outcomes:
        measurement = outcome()
        measured[name] = (
            measurement.passed,
            [(f.subject, f.count, f.total, f.note) for f in measurement.findings],
            measurement.sample.sort("id").to_dicts() if measurement.sample is not None else None,
            measurement.query,
        )
    return measured


def _counting_worker_runs(monkeypatch) -> list:
    """Record the jobs the worker process validated (the worker itself is real)."""
    ran = []
    run = suite_pool._Worker.run

    def counted(self, job):
        ran.append(job)
        return run(self, job)

    monkeypatch.setattr(suite_pool._Worker, "run", counted)
    monkeypatch.setattr(suite_pool, "usable_cores", lambda: 2)
    return ran


def test_a_worker_process_gives_the_measurements_of_one_by_one(tmp_path, monkeypatch):
    jobs = _jobs(tmp_path)
    alone = _comparable(run_suite_jobs(jobs, parallel_from_rows=10**12))
    ran_in_worker = _counting_worker_runs(monkeypatch)
    shared = _comparable(run_suite_jobs(jobs, parallel_from_rows=0))
    assert ran_in_worker, "no job went to the worker"
    assert len(ran_in_worker) < len(jobs), "this process validated nothing"
    assert shared == alone
    assert set(shared) == set(jobs)
    # the faults were found, not lost on the way back from the worker
    assert not shared["table_1"][0] and shared["table_1"][2]
    assert shared["table_0"][0]
    assert [count for _, count, _, _ in shared["people"][1]] == [0, 0, 30]


def test_below_the_threshold_every_suite_runs_here_in_order(tmp_path, monkeypatch):
    jobs = _jobs(tmp_path)
    ran_in_worker = _counting_worker_runs(monkeypatch)
    names = [name for name, _ in run_suite_jobs(jobs, parallel_from_rows=10**12)]
    assert names == sorted(jobs)
    assert ran_in_worker == []


def test_a_broken_suite_fails_its_job_with_its_own_error_in_either_process(tmp_path, monkeypatch):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    jobs = {name: parquet_suite_job(broken, job.parquet) for name, job in _jobs(tmp_path).items() if job.parquet}
    ran_in_worker = _counting_worker_runs(monkeypatch)
    outcomes = dict(run_suite_jobs(jobs, parallel_from_rows=0))
    assert ran_in_worker and set(outcomes) == set(jobs)
    for name in jobs:  # the worker's error comes back as itself: type and message
        with pytest.raises(SuiteFileError, match="broken.json: not valid JSON"):
            outcomes[name]()


def test_a_worker_that_dies_fails_its_job_and_this_process_does_the_rest(tmp_path, monkeypatch):
    jobs = _jobs(tmp_path)
    dying = tmp_path / "python"
    dying.write_text("#!/bin/sh\necho 'worker: out of memory' >&2\nexit 3\n", encoding="utf-8")
    dying.chmod(dying.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(suite_pool, "venv_executable", lambda name: str(dying))
    ran_in_worker = _counting_worker_runs(monkeypatch)
    outcomes = dict(run_suite_jobs(jobs, parallel_from_rows=0))
    assert set(outcomes) == set(jobs)
    assert len(ran_in_worker) == 1  # given one job, then no more
    lost = next(name for name, job in jobs.items() if job is ran_in_worker[0])
    with pytest.raises(RuntimeError, match=r"GX suite worker failed \(exit 3.*worker: out of memory"):
        outcomes[lost]()
    assert all(outcomes[name]().findings for name in jobs if name != lost)


def test_a_worker_that_cannot_start_leaves_its_jobs_to_this_process(tmp_path, monkeypatch):
    jobs = _jobs(tmp_path)
    alone = _comparable(run_suite_jobs(jobs, parallel_from_rows=10**12))
    monkeypatch.setattr(suite_pool, "venv_executable", lambda name: str(tmp_path / "no-such-python"))
    ran_in_worker = _counting_worker_runs(monkeypatch)
    assert _comparable(run_suite_jobs(jobs, parallel_from_rows=0)) == alone
    assert ran_in_worker == []
