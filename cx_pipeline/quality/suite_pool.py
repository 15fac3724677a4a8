"""Great Expectations suites on every core: one suite a process at a time, the largest first.

GX validates a pandas frame on one core (pandas and GX's own Python), so at a million people the
suites of the sources and of the marts (10 s and 23 s) kept the second core idle. A `SuiteJob`
says where a suite's rows are, not the rows, so a worker process reads them itself:
`run_suite_jobs` hands the largest remaining job to a worker whenever it is free and validates
the others in this process meanwhile. The worker is this module run as a script
(`python -m cx_pipeline.quality.suite_pool`), jobs and results pickled over its pipes; it
imports only what a suite needs (GX ~3 s), where multiprocessing would re-import the parent's
main module (the CLI or Dagster) too.

Below PARALLEL_FROM_ROWS rows in all, every suite runs in this process: a worker's start would
cost what it saves. A job that fails (in either process) fails alone, with its error; a worker
that dies takes only its current job with it, and this process validates the rest.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from cx_pipeline.lib.cores import usable_cores
from cx_pipeline.lib.sql import sql_identifier, sql_literal
from cx_pipeline.paths import venv_executable
from cx_pipeline.quality.base import Measurement
from cx_pipeline.quality.expectations import load_suite, suite_columns, validate_frame

# Fewer rows than this in all the jobs of a check: no worker. GX validates ~1 M rows a second
# here and a worker takes ~3 s of a core to import GX: 10,000 people have ~0.2 M rows of
# marts (all in this process), 1 M people 25 M.
PARALLEL_FROM_ROWS = 2_000_000
# Each worker holds a frame of its own: memory grows with them.
MAX_WORKERS = 2


@dataclass(frozen=True)
class SuiteJob:
    """One suite on one table: a Parquet file, or a relation of a DuckDB database (read-only)."""

    suite_path: Path
    parquet: Path | None = None
    database: Path | None = None
    relation: str | None = None  # quoted, e.g. "marts"."dim_customers"
    query: str | None = None  # the SQL an operator runs to look at the rows (Measurement.query)

    def rows(self) -> int:
        """The table's rows (cheap: file metadata or one count)."""
        if self.parquet is not None:
            return pq.ParquetFile(self.parquet).metadata.num_rows
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(f"select count(*) from {self.relation}").fetchall()[0][0]

    def expectations(self) -> int:
        return len(load_suite(self.suite_path)["expectations"])

    def run(self) -> Measurement:
        suite = load_suite(self.suite_path)
        columns = suite_columns(suite)
        if self.parquet is not None:
            frame = pl.read_parquet(self.parquet, columns=columns)
        else:
            selected = "*" if columns is None else ", ".join(sql_identifier(c) for c in columns)
            with duckdb.connect(str(self.database), read_only=True) as con:
                frame = con.sql(f"select {selected} from {self.relation}").pl()
        measurement = validate_frame(frame, suite, self.suite_path)
        measurement.query = self.query
        return measurement


def parquet_suite_job(suite_path: Path, parquet: Path) -> SuiteJob:
    return SuiteJob(
        suite_path, parquet=parquet, query=f"select * from read_parquet({sql_literal(str(parquet))}) limit 100"
    )


def database_suite_job(suite_path: Path, database: Path, relation: str) -> SuiteJob:
    return SuiteJob(
        suite_path, database=database, relation=relation, query=f"select * from {relation} limit 100  -- in {database}"
    )


Outcome = Callable[[], Measurement]  # returns the job's measurement, or raises its error


def run_suite_jobs(
    jobs: dict[str, SuiteJob], *, parallel_from_rows: int = PARALLEL_FROM_ROWS
) -> Iterator[tuple[str, Outcome]]:
    """(name, outcome) of every job, as each finishes; in order of name when all run here."""
    if not jobs:
        return
    rows = {name: _measured(job.rows) for name, job in jobs.items()}
    workers = min(usable_cores() - 1, MAX_WORKERS, len(jobs) - 1)
    if workers < 1 or sum(rows.values()) < parallel_from_rows:
        for name in sorted(jobs):
            yield name, _outcome(jobs[name].run)
        return
    # a suite's time grows with its rows and its expectations (each reads a column or two)
    costs = {name: rows[name] * max(1, _measured(job.expectations)) for name, job in jobs.items()}
    yield from _Pool(jobs, costs, workers).run()


def _measured(count: Callable[[], int]) -> int:
    try:
        return count()
    except Exception:  # a missing or broken table or suite: its job fails when it runs, with the reason
        return 0


def _outcome(run: Callable[[], Measurement]) -> Outcome:
    try:
        measurement = run()
    except Exception as error:  # reported as the job's failure by whoever calls the outcome
        return _raising(error)
    return lambda: measurement


def _raising(error: Exception) -> Outcome:
    def outcome() -> Measurement:
        raise error

    return outcome


class _Pool:
    """This process and `workers` worker processes, each taking the largest job left; each
    worker takes its first job before this process takes any."""

    def __init__(self, jobs: dict[str, SuiteJob], costs: dict[str, int], workers: int):
        self._jobs = jobs
        self._left = sorted(jobs, key=lambda name: (-costs[name], name))
        self._lock = threading.Lock()
        self._done: queue.Queue[tuple[str, Outcome]] = queue.Queue()
        self._first_taken = [threading.Event() for _ in range(workers)]
        self._feeders = [threading.Thread(target=self._feed, args=(taken,), daemon=True) for taken in self._first_taken]

    def run(self) -> Iterator[tuple[str, Outcome]]:
        try:
            for feeder, taken in zip(self._feeders, self._first_taken):
                feeder.start()
                taken.wait()
            while (name := self._take()) is not None:
                yield name, _outcome(self._jobs[name].run)
                while not self._done.empty():
                    yield self._done.get()
            for feeder in self._feeders:
                feeder.join()
            while (name := self._take()) is not None:  # given back by a worker that did not start
                yield name, _outcome(self._jobs[name].run)
            while not self._done.empty():
                yield self._done.get()
        finally:  # the caller stopped early: the workers finish their job and stop
            with self._lock:
                self._left.clear()

    def _take(self) -> str | None:
        with self._lock:
            return self._left.pop(0) if self._left else None

    def _feed(self, first_taken: threading.Event) -> None:
        """Keep one worker busy until no job is left; a worker that fails is not given more."""
        name = self._take()
        first_taken.set()
        if name is None:
            return
        try:
            worker = _Worker()
        except OSError as error:  # cannot start one: this process does its jobs
            sys.stderr.write(f"GX suite worker could not start ({error}); validating in this process\n")
            with self._lock:
                self._left.insert(0, name)
            return
        try:
            while name is not None:
                try:
                    outcome = worker.run(self._jobs[name])
                except _WorkerDied as error:
                    self._done.put((name, _raising(error)))
                    return
                self._done.put((name, outcome))
                name = self._take()
        finally:
            worker.close()


class _WorkerDied(RuntimeError):
    pass


class _Worker:
    """A worker process: pickled jobs in, pickled (measurement | error) out, one at a time."""

    def __init__(self):
        self._errors = tempfile.TemporaryFile("w+b")  # a file: a chatty worker cannot block on it
        # the venv's python, not sys.executable: Dagster's code server may run the base interpreter
        self._process = subprocess.Popen(
            [venv_executable("python"), "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors
        )  # fmt: skip

    def run(self, job: SuiteJob) -> Outcome:
        try:
            pickle.dump(job, self._process.stdin)
            self._process.stdin.flush()
            kind, value = pickle.load(self._process.stdout)
        except Exception as error:  # the pipe broke or the stream is no longer whole
            raise _WorkerDied(self._died(error)) from None
        return (lambda: value) if kind == "measurement" else _raising(value)

    def _died(self, error: Exception) -> str:
        code = self._process.wait()
        self._errors.seek(0)
        stderr = self._errors.read().decode("utf-8", errors="replace").strip()[-2000:]
        return f"GX suite worker failed (exit {code}, {type(error).__name__}): {stderr}"

    def close(self) -> None:
        try:
            self._process.stdin.close()
        except OSError:
            pass
        self._process.wait()
        self._errors.close()


def _serve() -> None:
    """The worker's loop: a job from stdin, its result to stdout, until stdin closes."""
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not enter the result pipe
    jobs = sys.stdin.buffer
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        try:
            payload = pickle.dumps(("measurement", job.run()))
        except Exception as error:
            payload = _pickled_error(error)
        results.write(payload)
        results.flush()


def _pickled_error(error: Exception) -> bytes:
    """The error as the parent can unpickle it: some error types cannot come back whole (their
    constructor wants other arguments); those are sent as their type's name and message."""
    try:
        payload = pickle.dumps(("error", error))
        pickle.loads(payload)
        return payload
    except Exception:
        return pickle.dumps(("error", RuntimeError(f"{type(error).__name__}: {error}")))


if __name__ == "__main__":
    _serve()
