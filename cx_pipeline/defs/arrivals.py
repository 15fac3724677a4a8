"""The landing sensor: files that land start a run for what they change.

New day files of an event stream start a run of those days' partitions (one day: a run for that
partition; several: one run over the range, as a single-run backfill), with the sources they
belong to and everything downstream of them; a snapshot source's new file joins the same run,
read whole. Files already there when the sensor is first turned on are the full run's business:
it starts watching from then. Backfills of any days are launched from the UI (the partitioned
ingestion assets' Materialize button).
"""

import json
import time

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from cx_pipeline.defs.ingestion import daily_partitions, ingested_key
from cx_pipeline.defs.resources import CxDataResource
from cx_pipeline.ingest.arrivals import Arrivals, arrived_ns, new_arrivals
from cx_pipeline.ingest.ingest import landing_files
from cx_pipeline.ingest.registry import load_registry

LANDING_SENSOR = "landing_files"
TARGET_JOB = "cx_full_run"
LANDED_FILES_TAG = "cx/landed_files"


def now_ns() -> int:
    return time.time_ns()


def latest_arrival(registry, paths) -> int:
    return max((arrived_ns(p) for spec in registry.sources.values() for p in landing_files(spec, paths)), default=0)


def run_request(arrivals: Arrivals, graph) -> dg.RunRequest:
    """One run for everything that landed: the days as a partition (or a range of them), the
    sources the files belong to, and every asset downstream of those sources."""
    changed = [ingested_key(source) for source in arrivals.sources]
    selection = dg.AssetSelection.assets(*changed).downstream().resolve(graph)
    days = arrivals.all_days
    tags = {LANDED_FILES_TAG: json.dumps(arrivals.files[:20])[:4000]}
    partition_key = None
    if len(days) == 1:
        partition_key = days[0]
    elif days:
        tags.update({ASSET_PARTITION_RANGE_START_TAG: days[0], ASSET_PARTITION_RANGE_END_TAG: days[-1]})
    return dg.RunRequest(
        run_key=f"landed-{arrivals.cursor}",
        job_name=TARGET_JOB,
        partition_key=partition_key,
        asset_selection=sorted(selection, key=lambda k: k.path),
        tags=tags,
    )


@dg.sensor(
    name=LANDING_SENSOR,
    job_name=TARGET_JOB,
    minimum_interval_seconds=30,
    description=(
        "Starts a run when landing files arrive: new day files of an event stream run those days' "
        "partitions, a snapshot source's new file re-reads that source; everything downstream follows."
    ),
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def landing_files_sensor(context: dg.SensorEvaluationContext, cx_data: CxDataResource):
    registry = load_registry()
    paths = cx_data.paths()
    if context.cursor is None:
        # First look: what is there already is the full run's; watch from now on.
        context.update_cursor(str(latest_arrival(registry, paths)))
        return dg.SkipReason("Watching data/landing/ from now on: files that land from here start runs.")
    partitions = daily_partitions(registry)
    arrivals = new_arrivals(
        registry,
        paths,
        since_ns=int(context.cursor),
        now_ns=now_ns(),
        first_day=partitions.get_first_partition_key(),
        last_day=partitions.get_last_partition_key(),
    )
    for problem in arrivals.unusable:
        context.log.warning(f"landing file not run: {problem}")
    if arrivals.settling:
        context.log.info(f"still being written, next time: {', '.join(arrivals.settling)}")
    context.update_cursor(str(arrivals.cursor))
    if not arrivals.sources:
        return dg.SkipReason("No new landing files.")
    context.log.info(f"landed: {', '.join(arrivals.files)}")
    return run_request(arrivals, context.repository_def.asset_graph)
