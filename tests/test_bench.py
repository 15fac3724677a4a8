"""`make bench`: a measured full run at a tiny scale, and how it attributes time and memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cx_pipeline.bench import Span, bench_paths, owned_cpu_seconds, owned_seconds, peak_rss, prepare_sample
from cx_pipeline.generate import generator_fingerprint
from cx_pipeline.cli import app
from cx_pipeline.lib.rss import tree_usage
from cx_pipeline.paths import data_paths

PEOPLE, SEED = 300, 3


def _idle_python_rss() -> int:
    status = subprocess.run(
        [sys.executable, "-c", "print(open('/proc/self/status').read())"], capture_output=True, text=True, check=True
    ).stdout
    return next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


def test_each_instant_belongs_to_the_deepest_spans_running_then():
    run = Span("orchestration", None, 0.0, 10.0, 0)
    ingest = Span("ingest", "ingestion", 1.0, 4.0, 1)
    dbt_step = Span("dbt gaps & wrap-up", None, 5.0, 9.0, 1)
    model = Span("dbt marts", None, 5.0, 8.0, 2)
    test = Span("dbt tests", None, 6.0, 9.0, 2)  # runs beside the model on dbt's second thread
    owned = owned_seconds([run, ingest, dbt_step, model, test])
    assert owned == pytest.approx([3.0, 3.0, 0.0, 2.0, 2.0])
    assert sum(owned) == pytest.approx(10.0)


def test_peak_rss_per_stage_from_its_own_samples_or_the_samples_around_it():
    run = Span("orchestration", None, 0.0, 10.0, 0)
    ingest = Span("ingest", None, 1.0, 4.0, 1)
    publish = Span("publish", None, 6.02, 6.05, 1)  # shorter than the sampling interval
    samples = [(0.5, 100), (2.0, 500), (3.0, 300), (5.0, 200), (6.0, 250), (6.1, 260), (9.0, 150)]
    peaks = peak_rss([run, ingest, publish], samples, key=lambda s: s.stage)
    assert peaks == {"orchestration": 260, "ingest": 500, "publish": 260}


def test_cpu_time_between_samples_goes_to_the_spans_running_then():
    run = Span("orchestration", None, 0.0, 10.0, 0)
    ingest = Span("ingest", None, 1.0, 4.0, 1)
    model = Span("dbt marts", None, 5.0, 8.0, 2)
    test = Span("dbt tests", None, 6.0, 9.0, 2)
    # cumulative CPU seconds: 1.5 cores in ingest, 2 cores while the model and the test share dbt
    samples = [(0.0, 0.0), (1.0, 0.5), (4.0, 5.0), (5.0, 5.5), (6.0, 7.5), (8.0, 11.5), (10.0, 12.5)]
    owned = owned_cpu_seconds([run, ingest, model, test], samples)
    # the run: 0-1 and 4-5; the last interval's midpoint (9.0) is still the test's
    assert owned == pytest.approx([0.5 + 0.5, 4.5, 2.0 + 2.0, 2.0 + 1.0])
    assert sum(owned) == pytest.approx(12.5)


def test_tree_cpu_counts_child_processes_running_and_ended():
    _, before = tree_usage(os.getpid())
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    child = subprocess.Popen([sys.executable, "-c", burn + "\nimport time; time.sleep(30)"])
    try:
        for _ in range(100):  # until the child has burnt its 0.6 s
            if tree_usage(os.getpid())[1] >= before + 0.5:
                break
            subprocess.run(["sleep", "0.1"], check=True)
        assert tree_usage(os.getpid())[1] >= before + 0.5  # running: its own time
    finally:
        child.kill()
        child.wait()
    subprocess.run([sys.executable, "-c", burn], check=True)
    # ended and waited for: counted in this process's children's time, both children
    assert tree_usage(os.getpid())[1] >= before + 1.0


def tree_rss_bytes(root: int) -> int:
    return tree_usage(root)[0]


def test_tree_rss_counts_child_processes():
    alone = tree_rss_bytes(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(200 * 2**20); time.sleep(30)"])
    try:
        for _ in range(100):  # until the child has touched its 200 MiB
            if tree_rss_bytes(os.getpid()) > alone + 150 * 2**20:
                break
            subprocess.run(["sleep", "0.1"], check=True)
        assert tree_rss_bytes(os.getpid()) > alone + 150 * 2**20
    finally:
        child.kill()
        child.wait()


@pytest.mark.e2e
def test_bench_measures_every_stage_of_a_full_run(isolated_env):
    main = data_paths(isolated_env)
    result = CliRunner().invoke(app, ["bench", "--people", str(PEOPLE), "--seed", str(SEED)])
    assert result.exit_code == 0, result.output
    assert "floor: DuckDB reads landing" in result.output

    report = json.loads((isolated_env / "bench" / f"bench-{PEOPLE}.json").read_text())
    for key in ("total_wall_s", "peak_rss_bytes", "floor_wall_s", "people", "seed", "source_rows",
                "ratio_to_floor", "stages", "identity_resolution", "machine", "timestamp"):  # fmt: skip
        assert key in report, key
    assert (report["people"], report["seed"]) == (PEOPLE, SEED)

    stages = {s["stage"]: s for s in report["stages"]}
    for name in ("ingest", "dbt start-up", "dbt staging", "dbt intermediate", "dbt marts", "dbt tests",
                 "match quality", "publish", "orchestration"):  # fmt: skip
        assert name in stages, name
    assert all(s["wall_s"] > 0 for s in report["stages"])
    # Stages partition the run: their times add up to the total (up to rounding).
    total = report["total_wall_s"]
    assert sum(s["wall_s"] for s in report["stages"]) <= total + 0.001 * len(stages)
    assert sum(s["wall_s"] for s in report["stages"]) == pytest.approx(total, abs=0.001 * len(stages))

    # CPU: every stage's share of the process tree's CPU time; the stages never add up to more
    assert 0 < report["total_cpu_s"] and 0 < report["cpu_cores"] <= os.cpu_count() + 0.5
    assert all(s["cpu_s"] >= 0 for s in report["stages"]) and stages["dbt intermediate"]["cpu_s"] > 0
    assert sum(s["cpu_s"] for s in report["stages"]) <= report["total_cpu_s"] + 0.01 * len(stages)
    assert report["identity_resolution"]["cpu_s"] > 0

    idle = _idle_python_rss()
    assert report["peak_rss_bytes"] > idle
    assert all(idle < s["peak_rss_bytes"] <= report["peak_rss_bytes"] for s in report["stages"])

    # Rows: what ingestion read is what the generator wrote; the tables the models built are counted.
    summary = json.loads((bench_paths(main, PEOPLE).truth / "summary.json").read_text())
    assert report["source_rows"] == stages["ingest"]["rows"] == summary["total_rows"]
    assert stages["ingest"]["rows_per_s"] == pytest.approx(report["source_rows"] / stages["ingest"]["wall_s"], rel=0.01)
    assert stages["dbt marts"]["rows"] > 0 and stages["dbt intermediate"]["rows"] > 0
    assert stages["dbt staging"]["rows_per_s"] is None  # views: built by their readers

    # identity resolution: the identity models (part of dbt intermediate, beside the lifecycle
    # models) and match quality
    identity = report["identity_resolution"]
    assert identity["stages"] == ["dbt intermediate", "match quality"]
    assert stages["match quality"]["wall_s"] < identity["wall_s"]
    assert identity["wall_s"] <= stages["dbt intermediate"]["wall_s"] + stages["match quality"]["wall_s"] + 0.002

    assert report["floor_wall_s"] > 0
    assert report["floor_rows"] == report["source_rows"]  # DuckDB read the same rows
    assert report["ratio_to_floor"] == pytest.approx(total / report["floor_wall_s"], rel=0.02)  # floor rounded to ms
    assert report["machine"]["cpu_count"] == os.cpu_count()
    assert set(report["machine"]["versions"]) >= {"duckdb", "polars", "dagster", "dbt-core"}

    # The daily increment: the held-back day landed after the full run and run as the landing sensor
    # would, measured the same way; then its files are taken back so the sample is reusable.
    increment = report["increment"]
    assert report["increment_wall_s"] == increment["total_wall_s"] > 0
    assert report["increment_ratio"] == increment["ratio_to_full_run"] == pytest.approx(
        increment["total_wall_s"] / total, abs=0.001
    )
    [day] = increment["days"]
    assert increment["files"] and all(f.startswith("landing/") and f"/{day}." in f for f in increment["files"])
    assert not any((bench_paths(main, PEOPLE).root / f).exists() for f in increment["files"])
    assert increment["run_id"] != report["run_id"]
    # each run in a process of its own, as in use: the increment's memory is not the full run's leftovers
    assert len({os.getpid(), report["pid"], increment["pid"]}) == 3
    inc_stages = {s["stage"]: s for s in increment["stages"]}
    assert 0 < inc_stages["ingest"]["rows"] == increment["source_rows"] < report["source_rows"]
    assert sum(s["wall_s"] for s in increment["stages"]) == pytest.approx(
        increment["total_wall_s"], abs=0.001 * len(inc_stages)
    )
    assert increment["identity_share"] == pytest.approx(
        increment["identity_resolution"]["wall_s"] / increment["total_wall_s"], abs=0.001
    )

    # The sample is reused while people and seed match; the bench's runs stay out of the main instance.
    assert prepare_sample(bench_paths(main, PEOPLE), PEOPLE, SEED) is None
    # ... unless another version of the generator wrote it: then it is written again
    summary_file = bench_paths(main, PEOPLE).truth / "summary.json"
    summary_file.write_text(json.dumps({**summary, "generator_fingerprint": "older code"}))
    assert prepare_sample(bench_paths(main, PEOPLE), PEOPLE, SEED) is not None
    assert json.loads(summary_file.read_text())["generator_fingerprint"] == generator_fingerprint()
    assert (bench_paths(main, PEOPLE).dagster_home / "dagster.yaml").exists()
    assert not (isolated_env / "dagster_home").exists()
