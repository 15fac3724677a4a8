"""Incremental runs: daily partitions of the event streams, the landing sensor, the incremental
touchpoint timeline, and the sample's held-back days."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from cx_pipeline.defs.arrivals import LANDING_SENSOR, landing_files_sensor
from cx_pipeline.defs.resources import CxDataResource
from cx_pipeline.generate import append_day, generate_sample
from cx_pipeline.ingest import LandingFileError, ingest_source, load_registry
from cx_pipeline.ingest.partitions import ingested_days
from cx_pipeline.ingest.registry import RegistryError
from cx_pipeline.paths import data_paths
from ingest_fixtures import load_test_registry, registry_doc, write_landing, write_registry

# --- the registry ----------------------------------------------------------------------------


def test_the_event_streams_are_partitioned_by_day_and_the_snapshots_are_not():
    registry = load_registry()
    assert registry.partitioned_sources == ["web_events", "app_events", "email_events", "product_usage"]
    for name in ("crm_contacts", "orders", "support_cases", "product_users", "partner_referrals", "surveys"):
        assert not registry.source(name).partitioned, name
    assert registry.arrival.partitions_start.isoformat() == "2024-01-01"
    assert registry.arrival.settle_seconds == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["sources"]["clicks"].update(partitioned_by="hour"), "partition grain 'hour' is not one of: day"),
        (lambda d: d.update(arrival={"partitions_start": "someday"}), "'someday' is not a date"),
        (lambda d: d.update(arrival={"settle_seconds": -1}), "arrival.settle_seconds: must be a number of seconds"),
        (lambda d: d.update(arrival={"every": "day"}), "unknown key(s) every"),
    ],
)
def test_a_broken_partition_declaration_is_named(tmp_path, change, message):
    doc = registry_doc()
    change(doc)
    with pytest.raises(RegistryError) as error:
        load_registry(write_registry(tmp_path, doc))
    assert message in str(error.value)


# --- ingestion day by day --------------------------------------------------------------------


def _click(click_id: str, at: str, email: str | None = None) -> str:
    record = {"click_id": click_id, "kind": "view", "at": at}
    if email:
        record["user"] = {"email": email}
    return json.dumps(record)


@pytest.fixture
def clicks_by_day(tmp_path):
    """The test registry's NDJSON source as a daily stream, with two days landed."""
    doc = registry_doc()
    doc["sources"]["clicks"]["partitioned_by"] = "day"
    registry = load_registry(write_registry(tmp_path, doc))
    paths = data_paths(tmp_path / "data")
    write_landing(paths, "clicks", "2026-07-01.ndjson", _click("c1", "2026-07-01T09:00:00+09:00", "a@x.jp") + "\n")
    write_landing(paths, "clicks", "2026-07-02.ndjson", _click("c2", "2026-07-02T09:00:00+09:00") + "\n{broken\n")
    return registry, paths


def _outputs(paths, source: str) -> dict[str, list[dict]]:
    folder = paths.ingested_dir(source)
    return {f.name: pl.read_parquet(f).to_dicts() for f in sorted(folder.glob("*.parquet"))}


def test_a_day_is_ingested_on_its_own_and_the_source_outputs_hold_every_day(clicks_by_day):
    registry, paths = clicks_by_day
    spec = registry.source("clicks")
    full = ingest_source(spec, registry.defaults, paths)
    assert full.files == ["landing/clicks/2026-07-01.ndjson", "landing/clicks/2026-07-02.ndjson"]
    assert (full.rows_in, full.rows_accepted, full.rows_quarantined) == (3, 2, 1)
    assert ingested_days(paths, "clicks") == ["2026-07-01", "2026-07-02"]
    everything = _outputs(paths, "clicks")
    assert [r["source_record_id"] for r in everything["accepted.parquet"]] == ["c1", "c2"]

    # a new day: only its file is read, the source's outputs gain its rows
    write_landing(paths, "clicks", "2026-07-03.ndjson", _click("c3", "2026-07-03T10:00:00+09:00") + "\n")
    day = ingest_source(spec, registry.defaults, paths, days=["2026-07-03"])
    assert day.files == ["landing/clicks/2026-07-03.ndjson"]
    assert (day.rows_in, day.rows_accepted) == (1, 1)
    assert day.preview["source_record_id"].to_list() == ["c3"]
    accepted = _outputs(paths, "clicks")["accepted.parquet"]
    assert [r["source_record_id"] for r in accepted] == ["c1", "c2", "c3"]

    # re-running a day changes nothing
    before = _outputs(paths, "clicks")
    ingest_source(spec, registry.defaults, paths, days=["2026-07-02"])
    assert _outputs(paths, "clicks") == before
    # and a run over every day gives what the days gave one by one
    ingest_source(spec, registry.defaults, paths)
    assert _outputs(paths, "clicks") == before


def test_a_record_id_seen_on_an_earlier_day_is_a_duplicate_that_names_where_it_was_first(clicks_by_day):
    registry, paths = clicks_by_day
    spec = registry.source("clicks")
    ingest_source(spec, registry.defaults, paths)
    write_landing(paths, "clicks", "2026-07-03.ndjson", _click("c1", "2026-07-03T10:00:00+09:00") + "\n")
    day = ingest_source(spec, registry.defaults, paths, days=["2026-07-03"])
    assert (day.rows_accepted, day.rows_quarantined) == (0, 1)
    [duplicate] = pl.read_parquet(paths.ingested_dir("clicks") / "days" / "2026-07-03" / "quarantine.parquet").to_dicts()
    assert duplicate["reason"] == "duplicate_record_id"
    assert duplicate["detail"] == (
        "clicks/2026-07-03.ndjson row 1 field 'click_id': record id 'c1' was already accepted from "
        "clicks/2026-07-01.ndjson row 1"
    )


def test_a_day_whose_files_are_gone_is_dropped(clicks_by_day):
    registry, paths = clicks_by_day
    spec = registry.source("clicks")
    ingest_source(spec, registry.defaults, paths)
    (paths.landing_dir("clicks") / "2026-07-01.ndjson").unlink()
    ingest_source(spec, registry.defaults, paths, days=["2026-07-01"])
    assert ingested_days(paths, "clicks") == ["2026-07-02"]
    assert [r["source_record_id"] for r in _outputs(paths, "clicks")["accepted.parquet"]] == ["c2"]


def test_a_daily_stream_file_not_named_for_its_day_is_an_error_naming_it(clicks_by_day):
    registry, paths = clicks_by_day
    write_landing(paths, "clicks", "export.ndjson", _click("c9", "2026-07-01T09:00:00+09:00") + "\n")
    with pytest.raises(LandingFileError, match=r"export\.ndjson: source 'clicks' is partitioned by day"):
        ingest_source(registry.source("clicks"), registry.defaults, paths)


def test_a_snapshot_source_has_no_days(tmp_path):
    registry = load_test_registry(tmp_path)
    with pytest.raises(ValueError, match="'people' is not partitioned"):
        ingest_source(registry.source("people"), registry.defaults, data_paths(tmp_path), days=["2026-07-01"])


def test_csv_is_streamed_block_by_block_with_the_same_rows_numbers_and_quarantine(tmp_path, monkeypatch):
    """Bounded memory: a CSV is parsed a block at a time; record numbers and malformed rows come
    out as if the file had been read whole."""
    from cx_pipeline.ingest import readers
    from ingest_fixtures import good_person, people_csv

    registry = load_test_registry(tmp_path)
    rows = [good_person(f"P{i}") for i in range(1, 60)]
    rows[10] = rows[10] + ",extra"  # too many fields: malformed
    rows[30] = "P31,only two"  # too few
    rows[45] = ",,,,,,,,,,,,"  # blank: not a record
    whole = data_paths(tmp_path / "whole")
    blocks = data_paths(tmp_path / "blocks")
    for paths in (whole, blocks):
        write_landing(paths, "people", "people.csv", people_csv(*rows))
    expected = ingest_source(registry.source("people"), registry.defaults, whole)

    reads = []
    original = readers.pa_csv.open_csv
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 512)  # a few rows a block
    monkeypatch.setattr(readers, "CHUNK_ROWS", 3)
    monkeypatch.setattr(readers.pa_csv, "open_csv", lambda *a, **k: reads.append(k["read_options"].block_size) or original(*a, **k))
    streamed = ingest_source(registry.source("people"), registry.defaults, blocks)
    assert reads == [512]
    assert (streamed.rows_in, streamed.rows_accepted, streamed.rows_quarantined, streamed.empty_records_skipped) == (
        expected.rows_in, expected.rows_accepted, expected.rows_quarantined, expected.empty_records_skipped
    ) == (58, 56, 2, 1)
    for name in ("accepted.parquet", "quarantine.parquet", "identifiers.parquet"):
        a = pl.read_parquet(whole.ingested_dir("people") / name).drop("_source_file", strict=False)
        b = pl.read_parquet(blocks.ingested_dir("people") / name).drop("_source_file", strict=False)
        assert a.equals(b), name
    quarantined = pl.read_parquet(blocks.ingested_dir("people") / "quarantine.parquet")
    assert quarantined["_source_row"].to_list() == [11, 31]


# --- the sample's held-back days -------------------------------------------------------------


def test_held_back_days_land_one_at_a_time_as_the_whole_sample_has_them(tmp_path):
    whole = generate_sample(tmp_path / "whole", people=300, seed=4)
    held = generate_sample(tmp_path / "held", people=300, seed=4, hold_back_days=2)
    assert held["landed_through"] == "2026-06-28" and whole["landed_through"] == "2026-06-30"
    for day in ("2026-06-29", "2026-06-30"):
        assert append_day(tmp_path / "held")["day"] == day
    with pytest.raises(ValueError, match="every day up to 2026-06-30 has landed"):
        append_day(tmp_path / "held")

    for name in load_registry().partitioned_sources:
        folder = tmp_path / "held" / name
        assert sorted(p.name.split(".")[0] for p in folder.iterdir()) == ["2026-06-28", "2026-06-29", "2026-06-30"]
        [whole_file] = (tmp_path / "whole" / name).iterdir()
        if whole_file.suffix == ".parquet":
            days = pl.concat([pl.read_parquet(p) for p in sorted(folder.iterdir())])
            assert days.sort(days.columns).equals(pl.read_parquet(whole_file).sort(days.columns))
        else:
            lines = [line for p in sorted(folder.iterdir()) for line in p.read_text().splitlines()]
            whole_lines = whole_file.read_text().splitlines()
            if whole_file.suffix == ".csv":  # one header per file
                lines = [line for line in lines if line != whole_lines[0]]
                whole_lines = whole_lines[1:]
            assert sorted(lines) == sorted(whole_lines)
    summary = json.loads((tmp_path / "held" / "_truth" / "summary.json").read_text())
    assert summary["total_rows"] == whole["total_rows"] and summary["landed_through"] == "2026-06-30"


# --- the landing sensor ----------------------------------------------------------------------


@pytest.fixture
def sensor_env(isolated_env, monkeypatch):
    """A data folder with one day of every event stream and every snapshot source landed, and a
    clock that runs a minute ahead (past the settle time) unless a test holds it."""
    from cx_pipeline.defs import arrivals

    paths = data_paths(isolated_env)
    for name, spec in load_registry().sources.items():
        suffix = spec.path.removeprefix("*")
        write_landing(paths, name, f"2026-06-30{suffix}" if spec.partitioned else f"{name}{suffix}", "")
    clock = {"ahead_s": 60}
    monkeypatch.setattr(arrivals, "now_ns", lambda: time.time_ns() + clock["ahead_s"] * 10**9)
    return paths, clock


def _evaluate(paths, instance: dg.DagsterInstance, cursor: str | None):
    from cx_pipeline.definitions import defs

    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=defs,
        sensor_name=LANDING_SENSOR,
        resources={"cx_data": CxDataResource(root=str(paths.root))},
    )
    return landing_files_sensor(context), context.cursor


def _land(paths, source: str, name: str) -> Path:
    return write_landing(paths, source, name, "")


def test_the_sensor_watches_from_when_it_starts_and_runs_a_new_day_as_a_partition(sensor_env):
    paths, _ = sensor_env
    with dg.DagsterInstance.ephemeral() as instance:
        first, cursor = _evaluate(paths, instance, None)
        assert isinstance(first, dg.SkipReason) and "from now on" in first.skip_message
        nothing, cursor = _evaluate(paths, instance, cursor)
        assert isinstance(nothing, dg.SkipReason) and nothing.skip_message == "No new landing files."

        _land(paths, "web_events", "2026-07-01.ndjson")
        _land(paths, "app_events", "2026-07-01.parquet")
        request, after = _evaluate(paths, instance, cursor)
        assert isinstance(request, dg.RunRequest)
        assert request.job_name == "cx_full_run" and request.partition_key == "2026-07-01"
        selected = set(request.asset_selection)
        assert {dg.AssetKey(["ingested", "web_events"]), dg.AssetKey(["ingested", "app_events"])} <= selected
        for other in ("email_events", "product_usage", "crm_contacts", "orders"):
            assert dg.AssetKey(["ingested", other]) not in selected  # nothing new there
        downstream = ("ingested/touchpoints", "marts/fct_touchpoints", "marts/dim_customers", "published/cx_marts")
        assert {dg.AssetKey(k.split("/")) for k in downstream} <= selected
        assert json.loads(request.tags["cx/landed_files"]) == [
            "landing/web_events/2026-07-01.ndjson",
            "landing/app_events/2026-07-01.parquet",
        ]
        assert int(after) > int(cursor)

        # the same files are not run twice
        again, _ = _evaluate(paths, instance, after)
        assert isinstance(again, dg.SkipReason)


def test_several_new_days_are_one_run_over_their_range_and_a_snapshot_file_joins_it(sensor_env):
    paths, _ = sensor_env
    with dg.DagsterInstance.ephemeral() as instance:
        _, cursor = _evaluate(paths, instance, None)
        _land(paths, "web_events", "2026-07-01.ndjson")
        _land(paths, "email_events", "2026-07-03.csv")
        orders = paths.landing_dir("orders") / "orders.csv"
        orders.write_text("order_id\n", encoding="utf-8")  # the snapshot is delivered again
        request, _ = _evaluate(paths, instance, cursor)
        assert request.partition_key is None
        assert request.tags["dagster/asset_partition_range_start"] == "2026-07-01"
        assert request.tags["dagster/asset_partition_range_end"] == "2026-07-03"
        selected = set(request.asset_selection)
        for source in ("web_events", "email_events", "orders"):
            assert dg.AssetKey(["ingested", source]) in selected
        assert dg.AssetKey(["ingested", "crm_contacts"]) not in selected


def test_a_file_still_being_written_waits_and_a_misnamed_one_is_not_run(sensor_env):
    paths, clock = sensor_env
    with dg.DagsterInstance.ephemeral() as instance:
        _, cursor = _evaluate(paths, instance, None)
        clock["ahead_s"] = 0  # now: the new file changed less than settle_seconds ago
        _land(paths, "web_events", "2026-07-01.ndjson")
        _land(paths, "web_events", "latest.ndjson")
        waiting, held = _evaluate(paths, instance, cursor)
        assert isinstance(waiting, dg.SkipReason) and held == cursor

        clock["ahead_s"] = 60
        request, _ = _evaluate(paths, instance, held)
        assert request.partition_key == "2026-07-01"
        assert json.loads(request.tags["cx/landed_files"]) == ["landing/web_events/2026-07-01.ndjson"]


def test_a_file_moved_in_with_an_old_modification_time_still_counts(sensor_env):
    paths, _ = sensor_env
    with dg.DagsterInstance.ephemeral() as instance:
        _, cursor = _evaluate(paths, instance, None)
        moved = _land(paths, "product_usage", "2026-07-02.parquet")
        os.utime(moved, (1_600_000_000, 1_600_000_000))  # as `cp -p` or rsync leave it
        request, _ = _evaluate(paths, instance, cursor)
        assert request.partition_key == "2026-07-02"


def test_the_ingestion_assets_of_event_streams_are_daily_partitioned_and_backfill_in_one_run():
    from cx_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    for source, spec in load_registry().sources.items():
        node = graph.get(dg.AssetKey(["ingested", source]))
        if spec.partitioned:
            assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition), source
            assert node.partitions_def.get_first_partition_key() == "2024-01-01"
            assert node.backfill_policy == dg.BackfillPolicy.single_run()
        else:
            assert node.partitions_def is None, source
    assert graph.get(dg.AssetKey(["marts", "fct_touchpoints"])).partitions_def is None
    assert {s.name for s in defs.sensors} >= {LANDING_SENSOR, "run_failure_alerts"}


# --- a daily increment end to end ------------------------------------------------------------


def _warehouse(paths, sql: str, *params):
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _timeline(paths) -> pl.DataFrame:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.sql("select * from marts.fct_touchpoints order by touchpoint_id").pl()


def _mart_counts(paths) -> dict[str, int]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()]  # fmt: skip
        return {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in tables}


def _ingested(paths) -> dict[str, int]:
    """Every ingestion output, as a hash of its rows."""
    return {
        f.relative_to(paths.ingested).as_posix(): int(pl.read_parquet(f).hash_rows(seed=1).sum())
        for f in sorted(paths.ingested.rglob("*.parquet"))
    }


def _new_day(paths, day: str) -> tuple[str, str]:
    """A day of web events: a few visits by known cookies, and one form that ties a cookie of one
    customer to the email of another (identity resolution merges them: records change customer)."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        # an anonymous visitor (no country, name or email to conflict with: the gate would
        # rightly block a merge of two people of different countries)
        cookie_owner, cookie = con.execute(
            "select p.customer_id, p.identifier_value from marts.customer_contact_points p "
            "join marts.dim_customers c using (customer_id) "
            "where p.identifier_type = 'cookie_id' and c.country is null and c.email is null "
            "order by p.customer_id, p.identifier_value limit 1"
        ).fetchone()
        # the marts carry emails as pseudonyms: the raw address is in the working database
        email_owner, email = con.execute(
            "with emails as (select l.customer_id, g.identifier_value from intermediate.int_identity__identifiers_guarded g "
            "join intermediate.int_identity_links l using (source, source_record_id) "
            "where g.identifier_type = 'email' and g.guard is null) "
            "select customer_id, identifier_value from emails p where customer_id <> ? "
            "and 1 = (select count(distinct customer_id) from emails q where q.identifier_value = p.identifier_value) "
            "order by customer_id, identifier_value limit 1",
            [cookie_owner],
        ).fetchone()
    events = [
        {"event_id": f"wev-{day}-{i}", "cookie_id": cookie, "event_type": "page_view", "event_ts": f"{day}T0{i}:00:00+09:00",
         "page_url": "/pricing", "utm_source": None, "email": None}
        for i in range(1, 4)
    ] + [{"event_id": f"wev-{day}-form", "cookie_id": cookie, "event_type": "form_submit",
          "event_ts": f"{day}T09:30:00+09:00", "page_url": "/contact", "utm_source": None, "email": email}]  # fmt: skip
    path = paths.landing_dir("web_events") / f"{day}.ndjson"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return cookie_owner, email_owner


def _run_request(paths, instance, cursor):
    result, _ = _evaluate(paths, instance, cursor)
    assert isinstance(result, dg.RunRequest), result
    return result


@pytest.mark.e2e
def test_a_daily_increment_runs_one_partition_merges_the_timeline_and_a_rerun_changes_nothing(run_copy, monkeypatch):
    from cx_pipeline.defs import arrivals
    from cx_pipeline.execution import execute_run_request

    paths = run_copy
    monkeypatch.setattr(arrivals, "now_ns", lambda: time.time_ns() + 60 * 10**9)
    with dg.DagsterInstance.get() as instance:
        _, cursor = _evaluate(paths, instance, None)
        before = _timeline(paths)
        cookie_owner, email_owner = _new_day(paths, "2026-07-01")
        request = _run_request(paths, instance, cursor)
        assert request.partition_key == "2026-07-01"

        result = execute_run_request(request, instance)
        assert result.success
        day_run = [
            e.event_specific_data.materialization
            for e in result.all_events
            if e.event_type_value == "ASSET_MATERIALIZATION"
            and e.event_specific_data.materialization.asset_key == dg.AssetKey(["ingested", "web_events"])
        ]
        assert [(m.partition, m.metadata["rows_in"].value) for m in day_run] == [("2026-07-01", 4)]
        assert ingested_days(paths, "web_events")[-1] == "2026-07-01"

        # the timeline gained the day, and the merged customers' touchpoints moved with them
        after = _timeline(paths)
        assert after.height == before.height + 4
        [(merged,)] = _warehouse(
            paths,
            "select count(distinct customer_id) from marts.fct_touchpoints "
            "where source_record_id like 'wev-2026-07-01-%'",
        )
        assert merged == 1
        stale = _warehouse(
            paths,
            "select count(*) from marts.fct_touchpoints t join intermediate.int_identity_links l "
            "using (source, source_record_id) where t.customer_id <> l.customer_id",
        )
        assert stale == [(0,)]
        assert _warehouse(paths, "select count(*) from intermediate.int_identity_links") == [(after.height,)]
        moved = after.join(before, on="touchpoint_id").filter(pl.col("customer_id") != pl.col("customer_id_right"))
        assert moved.height > 0  # records of one of the two customers now carry the other's id
        assert set(moved["customer_id_right"].to_list()) <= {cookie_owner, email_owner}

        # re-running the partition changes nothing: ingestion outputs, the timeline, every mart
        ingested, marts = _ingested(paths), _mart_counts(paths)
        rerun = execute_run_request(request, instance)
        assert rerun.success
        # and dbt started from the last run's parse (dbt_runs/) instead of parsing the project again
        log = (paths.dbt_runs / rerun.run_id / "dbt.log").read_text(encoding="utf-8")
        assert "Partial parsing enabled" in log and "Unable to do partial parsing" not in log
        # the run id reaches the models as an environment variable, rendered afresh on every run
        for model in ("marts/fct_touchpoints.sql", "marts/customer_id_changes.sql"):
            compiled = paths.dbt_runs / rerun.run_id / "compiled" / "cx_pipeline" / "models" / model
            assert f"run_id = '{rerun.run_id}'" in compiled.read_text(encoding="utf-8"), model
        assert _ingested(paths) == ingested
        assert _timeline(paths).equals(after)
        assert _mart_counts(paths) == marts

        # the incremental timeline is what a full build gives
        full_refresh = _full_refresh_timeline(paths)
        assert full_refresh.equals(after)

        # and ingesting without a partition (every day, as a full run does) gives the outputs the
        # increments gave. Only ingestion runs: dbt on unchanged outputs changes nothing (the rerun).
        full_ingest = _ingest_every_day(instance)
        assert full_ingest.success
        assert {m.partition for m in full_ingest.asset_materializations_for_node("ingested__web_events")} == {None}
        assert _ingested(paths) == ingested


def _ingest_every_day(instance: dg.DagsterInstance):
    """The full run's ingestion assets (and their checks), without a partition: every day."""
    from cx_pipeline.definitions import defs
    from cx_pipeline.execution import RUN_CONFIG

    job = defs.resolve_job_def("cx_full_run")
    ingestion = [key for key in job.asset_layer.selected_asset_keys if key.path[0] == "ingested"]
    return job.execute_in_process(instance=instance, raise_on_error=False, run_config=RUN_CONFIG, asset_selection=ingestion)


def _full_refresh_timeline(paths) -> pl.DataFrame:
    """fct_touchpoints built from scratch into a copy of the warehouse."""
    import shutil
    import subprocess

    from cx_pipeline.dbt_project import cx_dbt_project
    from cx_pipeline.defs.dbt import dbt_rule_vars
    from cx_pipeline.paths import venv_executable

    copy = data_paths(paths.root.parent / "full_refresh")
    copy.warehouse.parent.mkdir(parents=True)
    shutil.copy(paths.warehouse, copy.warehouse)
    shutil.copytree(paths.ingested, copy.ingested)
    env = {**os.environ, "CX_DATA_DIR": str(copy.root)}
    subprocess.run(
        [venv_executable("dbt"), "run", "--full-refresh", "--select", "fct_touchpoints", "--vars", json.dumps(dbt_rule_vars()),
         "--project-dir", str(cx_dbt_project.project_dir), "--profiles-dir", str(cx_dbt_project.profiles_dir),
         "--target-path", str(copy.root / "target")],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    return _timeline(copy)
