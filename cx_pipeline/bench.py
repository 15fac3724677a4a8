"""`make bench SCALE=<people>`: one full run of the pipeline, measured stage by stage.

    run_bench(data_root, people, seed) -> report (also written to <data>/bench/bench-<people>.json)

The sample is generated (untimed, in a subprocess so that its memory is not counted) into a data
folder of its own, <data>/bench/<people>/, and reused while people and seed match. The job
`cx_full_run` then runs in this process as `cx-pipeline run` runs it, while a thread samples the
RSS and the CPU time of the process tree (this process, the dbt subprocess and DuckDB inside it)
every 0.1 s.

Where the time goes is read from the run's own records:
- Dagster's event log: start and end of every step (ingestion, dbt, match quality, publish);
- dbt's run_results.json: start and end of every model and test inside the dbt step.
Every instant of the run belongs to exactly one stage: to the dbt nodes running then (shared
equally when dbt runs two at once), else to the Dagster step running then, else to
"orchestration" (Dagster's own work around the steps). So the stage times add up to the total.
The CPU time between two samples goes to the stages owning the instant halfway between them.

The floor is one DuckDB query reading every column of every landing file, run after the pipeline
in the same process: pipeline total / floor is how far the pipeline is from just reading its input.

The full run starts from nothing (no ingested outputs, no warehouse). The sample keeps its last day
back; after the full run that day lands (untimed) and the run the landing sensor would launch for
it, the daily increment, is measured the same way (`increment` in the report). The day's files are
then taken back out, so the sample stays reusable.

Each measured run has a process of its own, as every run has in use (`cx-pipeline run`, or the run
worker Dagster starts for a sensor's run): the increment's memory does not include what the full
run left in the bench's process (at 1 M people the increment's ingestion peaked at 2.73 GiB there,
1.68 GiB in a process of its own).
"""

from __future__ import annotations

import bisect
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
from rich.table import Table

from cx_pipeline.environment import prepare_environment
from cx_pipeline.generate import generator_fingerprint
from cx_pipeline.ingest.registry import SourceSpec, load_registry
from cx_pipeline.lib.rss import RssSampler
from cx_pipeline.lib.sql import sql_literal
from cx_pipeline.paths import DataPaths, data_paths

SAMPLE_INTERVAL_S = 0.1
JOB = "cx_full_run"
HOLD_BACK_DAYS = 1  # the sample's last day, landed after the full run as the measured increment

# Stages, in the order data flows through them.
INGEST, CHECKS, ORCHESTRATION = "ingest", "checks", "orchestration"
DBT_TESTS, DBT_STARTUP, DBT_OVERHEAD = "dbt tests", "dbt start-up", "dbt gaps & wrap-up"
STAGE_ORDER = [INGEST, DBT_STARTUP, "dbt staging", "dbt intermediate", "dbt marts", DBT_TESTS, DBT_OVERHEAD,
               "match quality", "lifecycle accuracy", CHECKS, "publish", ORCHESTRATION]  # fmt: skip
# The Dagster asset group of a Python step -> its stage; a step with only asset checks is CHECKS.
STAGE_OF_GROUP = {
    "ingestion": INGEST,
    "identity": "match quality",
    "lifecycle": "lifecycle accuracy",
    "publish": "publish",
}
# Identity resolution = every span in this Dagster group: the dbt identity models and match quality.
IDENTITY_GROUP = "identity"
IDENTITY_OUTPUT = "customer_identity_links"  # its rows = source records resolved
DBT_TEST_TYPES = ("test", "unit_test")
PACKAGES = ("duckdb", "polars", "pyarrow", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb")


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Span:
    """A stretch of the run belonging to one stage. Deeper spans win: a dbt node (level 2) over
    the Dagster step it runs in (level 1), a step over the run itself (level 0)."""

    stage: str
    group: str | None
    start: float
    end: float
    level: int


# --- where the time and the memory went ----------------------------------------------------


def _owners(spans: list[Span], t0: float, t1: float) -> list[int]:
    """Indexes of the deepest spans covering all of [t0, t1]."""
    active = [i for i, s in enumerate(spans) if s.start <= t0 and t1 <= s.end]
    top = max((spans[i].level for i in active), default=0)
    return [i for i in active if spans[i].level == top]


def owned_seconds(spans: list[Span]) -> list[float]:
    """Seconds each span owns: every instant goes to the deepest spans running then, shared equally."""
    owned = [0.0] * len(spans)
    bounds = sorted({t for s in spans for t in (s.start, s.end)})
    for t0, t1 in zip(bounds, bounds[1:]):
        owners = _owners(spans, t0, t1)
        for i in owners:
            owned[i] += (t1 - t0) / len(owners)
    return owned


def owned_cpu_seconds(spans: list[Span], cpu_samples: list[tuple[float, float]]) -> list[float]:
    """CPU seconds each span owns: the tree's CPU time between two samples goes to the deepest
    spans running halfway between them, shared equally."""
    owned = [0.0] * len(spans)
    for (t0, cpu0), (t1, cpu1) in zip(cpu_samples, cpu_samples[1:]):
        owners = _owners(spans, (t0 + t1) / 2, (t0 + t1) / 2)
        for i in owners:
            owned[i] += (cpu1 - cpu0) / len(owners)
    return owned


def peak_rss(spans: list[Span], samples: list[tuple[float, int]], key) -> dict[Any, int]:
    """Peak tree RSS per `key(span)`, from the samples each span owned. A span too short to hold a
    sample gets the larger of the samples just before and just after it."""
    peaks: dict[Any, int] = {}
    for t, rss in samples:
        for i in _owners(spans, t, t):
            peaks[key(spans[i])] = max(peaks.get(key(spans[i]), 0), rss)
    times = [t for t, _ in samples]
    for span in spans:
        if key(span) in peaks or not samples:
            continue
        around = samples[max(bisect.bisect_left(times, span.start) - 1, 0) : bisect.bisect_right(times, span.end) + 1]
        peaks[key(span)] = max(max(rss for _, rss in around), peaks.get(key(span), 0))
    return peaks


# --- the run's records ---------------------------------------------------------------------


def _step_rows(metadata: dict[str, Any]) -> int:
    """Rows one materialization stands for: rows read (ingestion), records evaluated (match
    quality) or rows published; 0 for the registry union, which re-writes rows already counted."""
    values = {k: getattr(v, "value", v) for k, v in metadata.items()}
    if "rows_in" in values:
        return values["rows_in"]
    if "match_records_evaluated" in values:
        return values["match_records_evaluated"]
    return sum(v for k, v in values.items() if k.startswith("rows/"))


def step_spans(entries, asset_graph, dbt_step: str) -> tuple[list[Span], dict[str, int]]:
    """A span per Dagster step from the event log, and the rows its materializations report per stage."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    group_of: dict[str, str] = {}
    rows: dict[str, int] = defaultdict(int)
    for entry in entries:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        step = event.step_key
        if event.event_type_value == "STEP_START":
            starts[step] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            ends[step] = entry.timestamp
        elif event.is_step_materialization and step != dbt_step:
            group_of[step] = asset_graph.get(event.asset_key).group_name
            rows[STAGE_OF_GROUP.get(group_of[step], group_of[step])] += _step_rows(event.materialization.metadata)
    spans = []
    for step, start in starts.items():
        if step == dbt_step:
            stage, group = DBT_OVERHEAD, None
        elif step in group_of:
            stage, group = STAGE_OF_GROUP.get(group_of[step], group_of[step]), group_of[step]
        else:
            stage, group = CHECKS, None
        spans.append(Span(stage, group, start, ends.get(step, start), level=1))
    return spans, dict(rows)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def dbt_spans(run_dir: Path) -> tuple[list[Span], dict[str, list[tuple[str, str]]]]:
    """A span per dbt node from run_results.json (compile start to execute end), and per stage
    the relations its models built with their materialization."""
    from cx_pipeline.defs.dbt import group_for_dbt_file

    results = json.loads((run_dir / "run_results.json").read_text(encoding="utf-8"))["results"]
    nodes = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    spans: list[Span] = []
    relations: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for result in results:
        times = [_epoch(t[k]) for t in result["timing"] for k in ("started_at", "completed_at") if t.get(k)]
        if not times:  # skipped
            continue
        uid = result["unique_id"]
        if uid.split(".")[0] in DBT_TEST_TYPES:
            stage, group = DBT_TESTS, None
        else:
            node = nodes[uid]
            folder = node["fqn"][1] if len(node["fqn"]) > 2 else "models"
            stage, group = f"dbt {folder}", group_for_dbt_file(node["original_file_path"])
            if result.get("relation_name"):
                relations[stage].append((result["relation_name"], node["config"]["materialized"]))
        spans.append(Span(stage, group, min(times), max(times), level=2))
    return spans, dict(relations)


def split_dbt_startup(steps: list[Span], nodes: list[Span]) -> list[Span]:
    """The dbt step until its first node is dbt's start-up (process, imports, parse); the rest of it
    outside the nodes is idle threads and Dagster recording dbt's results."""
    first = min((n.start for n in nodes), default=None)
    split = []
    for s in steps:
        if s.stage == DBT_OVERHEAD and first is not None and s.start < first:
            split += [Span(DBT_STARTUP, None, s.start, first, 1), Span(DBT_OVERHEAD, None, first, s.end, 1)]
        else:
            split.append(s)
    return split


def count_rows(warehouse: Path, relations: list[str]) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {r: con.execute(f"select count(*) from {r}").fetchone()[0] for r in relations}


# --- the floor -----------------------------------------------------------------------------


def _sql_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _scan(spec: SourceSpec, files: list[Path]) -> str:
    """Read every file of a source as raw as DuckDB allows; unreadable rows are skipped."""
    if spec.format == "csv":
        encoding = "" if spec.encoding.lower().replace("_", "-") == "utf-8" else f", encoding={sql_literal(spec.encoding)}"
        return f"read_csv({_sql_list(files)}, all_varchar=true, ignore_errors=true, union_by_name=true{encoding})"
    if spec.format == "ndjson":
        return f"read_json({_sql_list(files)}, format='newline_delimited', ignore_errors=true, union_by_name=true)"
    return f"read_parquet({_sql_list(files)}, union_by_name=true)"


def floor_query(paths: DataPaths) -> str:
    """One query over all landing files. It counts the non-null values of every column, so that
    every column is read, and adds those counts up per source (`*COLUMNS` unpacks them)."""
    parts = []
    for name, spec in load_registry().sources.items():
        files = sorted(paths.landing_dir(name).glob(spec.path))
        if files:
            parts.append(
                'select "__rows", list_sum(list_value(*COLUMNS(* exclude ("__rows")))) as "__values" '
                f'from (select count(*) as "__rows", count(COLUMNS(*)) from {_scan(spec, files)})'
            )
    return 'select sum("__rows"), sum("__values") from (' + " union all ".join(parts) + ")"


def measure_floor(paths: DataPaths) -> tuple[float, int]:
    """Wall seconds and rows of one DuckDB pass reading all raw landing inputs."""
    with duckdb.connect() as con:
        # Otherwise DuckDB answers count(column) from Parquet statistics without reading the column.
        con.execute("set disabled_optimizers = 'statistics_propagation'")
        query = floor_query(paths)
        started = time.perf_counter()
        rows, _ = con.execute(query).fetchone()
        return time.perf_counter() - started, int(rows)


# --- the bench -----------------------------------------------------------------------------


def bench_paths(main: DataPaths, people: int) -> DataPaths:
    return data_paths(main.root / "bench" / str(people))


def report_path(main: DataPaths, people: int) -> Path:
    return main.root / "bench" / f"bench-{people}.json"


def _held_back(summary: dict) -> bool:
    last = date.fromisoformat(summary["as_of"]) - timedelta(days=HOLD_BACK_DAYS)
    return summary.get("landed_through") == last.isoformat()


def prepare_sample(paths: DataPaths, people: int, seed: int) -> float | None:
    """Generate the sample (its last day held back) unless it is there with the same people and
    seed, written by the same generator code; seconds taken, or None."""
    summary = paths.truth / "summary.json"
    if summary.exists():
        known = json.loads(summary.read_text(encoding="utf-8"))
        same = (known["people"], known["seed"], known.get("generator_fingerprint")) == (
            people, seed, generator_fingerprint()
        )
        if same and _held_back(known):
            return None
    started = time.perf_counter()
    command = [sys.executable, "-m", "cx_pipeline.cli", "generate", "--people", str(people), "--seed", str(seed),
               "--hold-back-days", str(HOLD_BACK_DAYS), "--data-dir", str(paths.root)]  # fmt: skip
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def machine_facts() -> dict[str, Any]:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        memory = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemTotal:"))
    return {
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
        "versions": {package: version(package) for package in PACKAGES},
    }


def _rate(rows: int | None, seconds: float) -> float | None:
    return round(rows / seconds, 1) if rows and seconds > 0 else None


def _figures(name: str, seconds: float, cpu: float, peak: int | None, rows: int | None, note: str | None = None) -> dict:
    figures = {"stage": name, "wall_s": round(seconds, 3), "cpu_s": round(cpu, 2), "peak_rss_bytes": peak,
               "rows": rows, "rows_per_s": None if note else _rate(rows, seconds)}  # fmt: skip
    return figures | ({"note": note} if note else {})


@dataclass
class MeasuredRun:
    run_id: str
    start: float
    end: float
    startup_s: float  # importing the code location, before the clock starts
    samples: list[tuple[float, int]]  # (unix time, tree RSS bytes)
    steps: list[Span]
    step_rows: dict[str, int]
    pid: int  # of the process the run ran in
    cpu_samples: list[tuple[float, float]]  # (unix time, tree CPU seconds)


def measure_run(paths: DataPaths, request=None) -> MeasuredRun:
    """Run the full job (or the run `request` asks for, as the landing sensor would launch it) in
    a process of its own, as every run is in use (`cx-pipeline run`, or the run worker Dagster
    starts for a sensor's run): a run's memory never includes what an earlier run left behind."""
    with tempfile.TemporaryDirectory(prefix="cx-bench-") as scratch:
        measured = Path(scratch) / "measured_run.pickle"
        command = [sys.executable, "-m", "cx_pipeline.bench", str(paths.root), str(measured)]
        if request is not None:
            from dagster import serialize_value

            command.append(serialize_value(request))
        finished = subprocess.run(command, check=False)
        if finished.returncode != 0 or not measured.exists():
            raise BenchError(f"the measured run's process failed (exit {finished.returncode}): see its output above")
        return pickle.loads(measured.read_bytes())


def measure_run_here(paths: DataPaths, request=None) -> MeasuredRun:
    """Run the full job (or `request`) in this process, as `cx-pipeline run` does, with the RSS
    sampler on."""
    # The bench's runs go into an instance of its own, not the history of the main data folder.
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    prepare_environment(paths)
    started = time.perf_counter()
    from dagster import DagsterInstance

    from cx_pipeline.definitions import defs
    from cx_pipeline.defs.dbt import cx_dbt_models
    from cx_pipeline.execution import execute_job, execute_run_request

    startup_s = time.perf_counter() - started
    with DagsterInstance.get() as instance:
        with RssSampler(interval=SAMPLE_INTERVAL_S) as sampler:
            start = time.time()
            result = execute_job(JOB, instance) if request is None else execute_run_request(request, instance)
            end = time.time()
        if not result.success:
            raise BenchError(f"run {result.run_id} of {JOB} failed: nothing measured")
        entries = instance.all_logs(result.run_id)
    steps, step_rows = step_spans(entries, defs.resolve_asset_graph(), cx_dbt_models.op.name)
    return MeasuredRun(
        result.run_id, start, end, startup_s, sampler.samples, steps, step_rows, os.getpid(), sampler.cpu_samples
    )


def _measure_run_main(argv: list[str]) -> None:
    """`python -m cx_pipeline.bench <data dir> <output file> [serialized RunRequest]` (measure_run)."""
    from dagster import deserialize_value

    root, output, *request = argv
    run = measure_run_here(DataPaths(Path(root)), deserialize_value(request[0]) if request else None)
    Path(output).write_bytes(pickle.dumps(run))


def _stage_figures(
    spans: list[Span], owned: list[float], cpu: list[float], run: MeasuredRun, built: dict, counts: dict
) -> list[dict]:
    peaks = peak_rss(spans, run.samples, key=lambda s: s.stage)
    figures = []
    for name in sorted({s.stage for s in spans}, key=lambda n: (STAGE_ORDER + [n]).index(n)):
        seconds = sum(o for s, o in zip(spans, owned) if s.stage == name)
        cpu_s = sum(c for s, c in zip(spans, cpu) if s.stage == name)
        relations = built.get(name)
        rows = sum(counts[r] for r, _ in relations) if relations else run.step_rows.get(name)
        views_only = bool(relations) and all(m == "view" for _, m in relations)
        note = "views: computed by the models that read them" if views_only else None
        figures.append(_figures(name, seconds, cpu_s, peaks.get(name), rows, note))
    return figures


def _identity_figures(spans: list[Span], owned: list[float], cpu: list[float], run: MeasuredRun, counts: dict) -> dict:
    seconds = sum(o for s, o in zip(spans, owned) if s.group == IDENTITY_GROUP)
    cpu_s = sum(c for s, c in zip(spans, cpu) if s.group == IDENTITY_GROUP)
    peak = peak_rss(spans, run.samples, key=lambda s: s.group).get(IDENTITY_GROUP)
    resolved = next((n for r, n in counts.items() if r.strip('"').endswith(IDENTITY_OUTPUT)), None)
    figures = _figures("identity resolution", seconds, cpu_s, peak, resolved)
    return figures | {"stages": sorted({s.stage for s in spans if s.group == IDENTITY_GROUP})}


def _start_from_nothing(paths: DataPaths) -> None:
    """A full run builds everything: no ingested outputs or warehouse (incremental models) left."""
    shutil.rmtree(paths.ingested, ignore_errors=True)
    shutil.rmtree(paths.warehouse.parent, ignore_errors=True)


def _analysed(paths: DataPaths, run: MeasuredRun) -> dict[str, Any]:
    """Stage figures, identity resolution and totals of one measured run."""
    nodes, built = dbt_spans(paths.dbt_runs / run.run_id)
    counts = count_rows(paths.warehouse, [r for relations in built.values() for r, _ in relations])
    spans = [Span(ORCHESTRATION, None, run.start, run.end, level=0), *split_dbt_startup(run.steps, nodes), *nodes]
    owned = owned_seconds(spans)
    cpu = owned_cpu_seconds(spans, run.cpu_samples)
    total_s = run.end - run.start
    total_cpu_s = run.cpu_samples[-1][1] - run.cpu_samples[0][1]
    source_rows = run.step_rows.get(INGEST, 0)
    return {
        "run_id": run.run_id,
        "pid": run.pid,
        "source_rows": source_rows,
        "total_wall_s": round(total_s, 3),
        "total_cpu_s": round(total_cpu_s, 2),
        "cpu_cores": round(total_cpu_s / total_s, 2) if total_s > 0 else None,  # busy cores, on average
        "peak_rss_bytes": max(rss for _, rss in run.samples),
        "rows_per_s": _rate(source_rows, total_s),
        "stages": _stage_figures(spans, owned, cpu, run, built, counts),
        "identity_resolution": _identity_figures(spans, owned, cpu, run, counts),
    }


def land_increment(paths: DataPaths):
    """Land the held-back day (untimed, in a subprocess) and return what the landing sensor
    would see: the new files and the run request for them."""
    from cx_pipeline.definitions import defs
    from cx_pipeline.defs.arrivals import latest_arrival, run_request
    from cx_pipeline.defs.ingestion import daily_partitions
    from cx_pipeline.ingest.arrivals import new_arrivals

    registry = load_registry()
    since = latest_arrival(registry, paths)
    command = [sys.executable, "-m", "cx_pipeline.cli", "generate", "--append-day", "--data-dir", str(paths.root)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    partitions = daily_partitions(registry)
    arrivals = new_arrivals(
        registry, paths, since_ns=since, now_ns=time.time_ns() + 10**18,  # no waiting for files to settle
        first_day=partitions.get_first_partition_key(), last_day=partitions.get_last_partition_key(),
    )  # fmt: skip
    if not arrivals.all_days:
        raise BenchError(f"no day landed in {paths.landing}: nothing to measure as an increment")
    return arrivals, run_request(arrivals, defs.resolve_asset_graph())


def take_back_increment(paths: DataPaths, files: list[str], summary: str) -> None:
    """Remove the landed day's files and put the sample's summary back: the sample is reusable."""
    for file in files:
        (paths.root / file).unlink(missing_ok=True)
    (paths.truth / "summary.json").write_text(summary, encoding="utf-8")


def measure_increment(paths: DataPaths, full_wall_s: float) -> dict[str, Any]:
    summary = (paths.truth / "summary.json").read_text(encoding="utf-8")
    arrivals, request = land_increment(paths)
    try:
        figures = _analysed(paths, measure_run(paths, request))
    finally:
        take_back_increment(paths, arrivals.files, summary)
    identity = figures["identity_resolution"]["wall_s"]
    return {
        "days": arrivals.all_days,
        "files": arrivals.files,
        **figures,
        "ratio_to_full_run": round(figures["total_wall_s"] / full_wall_s, 3),
        "identity_share": round(identity / figures["total_wall_s"], 3) if figures["total_wall_s"] else None,
    }


def run_bench(main: DataPaths, people: int, seed: int) -> dict[str, Any]:
    """Generate (if needed), run the full job measured, measure the floor, then land the held-back
    day and measure the increment; write and return the report."""
    paths = bench_paths(main, people)
    generated_s = prepare_sample(paths, people, seed)
    machine = machine_facts()
    _start_from_nothing(paths)
    run = measure_run(paths)
    floor_s, floor_rows = measure_floor(paths)
    full = _analysed(paths, run)
    increment = measure_increment(paths, run.end - run.start)

    total_s = run.end - run.start
    source_rows = full["source_rows"]
    report = {
        "people": people,
        "seed": seed,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "pid": run.pid,  # each measured run has a process of its own
        "data_dir": str(paths.root),
        "source_rows": source_rows,
        "total_wall_s": round(total_s, 3),
        # user + system seconds of the run's process tree, and the cores they kept busy on average
        "total_cpu_s": full["total_cpu_s"],
        "cpu_cores": full["cpu_cores"],
        "peak_rss_bytes": full["peak_rss_bytes"],
        "rows_per_s": _rate(source_rows, total_s),
        "floor_wall_s": round(floor_s, 3),
        "floor_rows": floor_rows,
        "ratio_to_floor": round(total_s / floor_s, 1),
        "stages": full["stages"],
        "identity_resolution": full["identity_resolution"],
        # the daily increment: the held-back day landed after the full run, run as the sensor would
        "increment_wall_s": increment["total_wall_s"],
        "increment_ratio": increment["ratio_to_full_run"],
        "increment": increment,
        "generate_wall_s": None if generated_s is None else round(generated_s, 1),
        "startup_wall_s": round(run.startup_s, 3),
        "rss_sample_interval_s": SAMPLE_INTERVAL_S,
        "rss_samples": len(run.samples),
        # Other work on the machine slows every stage: compare with the CPU count.
        "machine": machine | {"load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
    }
    target = report_path(main, people)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


# --- the table -----------------------------------------------------------------------------


def _bytes(n: int | None) -> str:
    return "" if n is None else f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _count(n: float | None) -> str:
    return "" if n is None else f"{n:,.0f}"


def bench_table(report: dict[str, Any]) -> Table:
    total = report["total_wall_s"]
    identity = report["identity_resolution"]
    table = Table(
        title=f"cx_pipeline bench: {report['people']:,} people (seed {report['seed']}), "
        f"{report['source_rows']:,} source rows",
        caption=f"pipeline / floor = {report['ratio_to_floor']}x. The increment's share is of the full run. "
        f"Identity resolution = "
        f"{' + '.join(identity['stages'])}. CPU s and peak RSS: the process tree (Python, dbt, "
        f"DuckDB), sampled every {report['rss_sample_interval_s']} s; the run kept "
        f"{report['cpu_cores']} cores busy on average.",
    )
    for column in ("stage", "wall s", "CPU s", "share", "peak RSS", "rows", "rows/s"):
        table.add_column(column, justify="left" if column == "stage" else "right")

    def row(figures: dict, name: str | None = None, share: str | None = None) -> None:
        cpu = figures.get("cpu_s")
        table.add_row(name or figures["stage"], f"{figures['wall_s']:.2f}", "" if cpu is None else f"{cpu:.1f}",
                      share if share is not None else f"{figures['wall_s'] / total:.0%}",
                      _bytes(figures["peak_rss_bytes"]), _count(figures["rows"]), _count(figures["rows_per_s"]))  # fmt: skip

    for stage in report["stages"]:
        row(stage)
    table.add_section()
    row(identity)
    table.add_section()
    row({"wall_s": total, "cpu_s": report["total_cpu_s"], "peak_rss_bytes": report["peak_rss_bytes"],
         "rows": report["source_rows"], "rows_per_s": report["rows_per_s"]}, "total (cx_full_run)")  # fmt: skip
    floor = report["floor_wall_s"]
    row({"wall_s": floor, "peak_rss_bytes": None, "rows": report["floor_rows"],
         "rows_per_s": _rate(report["floor_rows"], floor)}, "floor: DuckDB reads landing", share="")  # fmt: skip
    increment = report.get("increment")
    if increment:
        table.add_section()
        row({"wall_s": increment["total_wall_s"], "cpu_s": increment["total_cpu_s"],
             "peak_rss_bytes": increment["peak_rss_bytes"], "rows": increment["source_rows"],
             "rows_per_s": increment["rows_per_s"]},
            f"daily increment ({', '.join(increment['days'])})", share=f"{report['increment_ratio']:.0%}")  # fmt: skip
        row(increment["identity_resolution"], "  of which identity resolution",
            share=f"{increment['identity_share']:.0%} of it")  # fmt: skip
    return table


if __name__ == "__main__":
    # Through the module's real name: the pickled MeasuredRun must name cx_pipeline.bench, not __main__.
    from cx_pipeline.bench import _measure_run_main

    _measure_run_main(sys.argv[1:])
