"""Publishing is atomic for readers, survives being killed, keeps the last versions, rolls back."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cx_pipeline.cli import app
from cx_pipeline.defs.dbt import mart_model_names
from cx_pipeline.paths import DataPaths
from cx_pipeline.publish import PublishError, current_version, list_versions, publish_marts, read_manifest, rollback

pytestmark = pytest.mark.e2e


def _counts(database: Path) -> tuple[int, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return (
            con.execute("select count(*) from dim_customers").fetchone()[0],
            con.execute("select count(*) from customer_identity_links").fetchone()[0],
        )


def _half_warehouse(paths: DataPaths, target: Path) -> None:
    """A second, consistent working database: half the customers, in every mart that has them."""
    shutil.copyfile(paths.warehouse, target)
    with duckdb.connect(str(target)) as con:
        for mart in mart_model_names():
            columns = {row[0] for row in con.execute(f"describe marts.{mart}").fetchall()}
            if "customer_id" in columns:
                con.execute(f"delete from marts.{mart} where hash(customer_id) % 2 = 0")


def _leftovers(paths: DataPaths) -> list[Path]:
    return [p for p in paths.published.rglob("*.tmp")]


def test_every_publish_is_kept_up_to_the_configured_number(run_copy):
    paths = run_copy
    versions = [
        publish_marts(paths, mart_model_names(), run_id=f"run{i:05d}", keep_versions=3).version for i in range(5)
    ]
    assert list_versions(paths) == versions[-3:]
    assert current_version(paths) == versions[-1]
    manifest = read_manifest(paths.versions / versions[-1])
    assert manifest["run_id"] == "run00004" and manifest["version"] == versions[-1]
    assert manifest["row_counts"]["dim_customers"] == _counts(paths.published_db)[0]
    # the live manifest is the version's manifest, and the live files are copies of the version's
    assert read_manifest(paths.published) == manifest
    kept = paths.versions / versions[-1]
    names = ["cx_marts.duckdb", *(f"{mart}.parquet" for mart in mart_model_names())]
    for name in names:
        assert (paths.published / name).read_bytes() == (kept / name).read_bytes(), name
    assert not _leftovers(paths)


def test_publish_memory_is_bounded_by_its_setting(run_copy, monkeypatch):
    paths = run_copy
    live = publish_marts(paths, mart_model_names(), run_id="run-bounded").version
    # far too little memory for the marts: DuckDB refuses rather than grow, and nothing changes
    monkeypatch.setenv("CX_PUBLISH_MEMORY_LIMIT", "1MB")
    with pytest.raises(PublishError, match="do not fit in CX_PUBLISH_MEMORY_LIMIT=1MB: raise it"):
        publish_marts(paths, mart_model_names(), run_id="run-starved")
    assert current_version(paths) == live and list_versions(paths)[-1] == live
    monkeypatch.setenv("CX_PUBLISH_MEMORY_LIMIT", "512MB")
    bounded = publish_marts(paths, mart_model_names(), run_id="run-512").version
    assert current_version(paths) == bounded != live
    assert not _leftovers(paths)  # the refused publish's temporary files went with the next one


def test_rollback_puts_the_previous_version_back_and_can_be_undone(run_copy, tmp_path):
    paths = run_copy
    full = publish_marts(paths, mart_model_names(), run_id="fullrun1").version
    full_counts = _counts(paths.published_db)
    _half_warehouse(paths, tmp_path / "half.duckdb")
    shutil.copyfile(tmp_path / "half.duckdb", paths.warehouse)
    half = publish_marts(paths, mart_model_names(), run_id="halfrun2").version
    half_counts = _counts(paths.published_db)
    assert half_counts != full_counts

    manifest = rollback(paths)
    assert manifest["version"] == full and manifest["rolled_back_from"] == half
    assert _counts(paths.published_db) == full_counts
    assert current_version(paths) == full
    with duckdb.connect() as con:  # the Parquet files went back too
        rows = con.execute(
            f"select count(*) from read_parquet('{paths.published / 'dim_customers.parquet'}')"
        ).fetchone()[0]
    assert rows == full_counts[0]

    runner = CliRunner()
    listed = runner.invoke(app, ["versions", "--data-dir", str(paths.root)])
    assert listed.exit_code == 0 and full in listed.output and half in listed.output
    forward = runner.invoke(app, ["rollback", "--to", half, "--data-dir", str(paths.root)])
    assert forward.exit_code == 0, forward.output
    assert _counts(paths.published_db) == half_counts

    unknown = runner.invoke(app, ["rollback", "--to", "19990101T000000.000Z-nothing", "--data-dir", str(paths.root)])
    assert unknown.exit_code == 1 and "not kept" in unknown.output
    with pytest.raises(PublishError):
        rollback(paths, to="no-such-version")


def test_rollback_with_nothing_older_changes_nothing(run_copy):
    paths = run_copy
    for version in list_versions(paths):
        shutil.rmtree(paths.versions / version)
    only = publish_marts(paths, mart_model_names(), run_id="onlyrun1").version
    before = paths.published_db.read_bytes()
    with pytest.raises(PublishError, match="no kept version older"):
        rollback(paths)
    assert paths.published_db.read_bytes() == before and current_version(paths) == only


READER = textwrap.dedent(
    """
    import json, sys, time
    import duckdb

    database, seconds, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    seen, errors = [], []
    # "pinned": one BI session open throughout; "fresh": a new connection per query. (Two
    # processes: DuckDB shares one open database between the connections of a process.)
    pinned = duckdb.connect(database, read_only=True) if mode == "pinned" else None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            con = pinned or duckdb.connect(database, read_only=True)
            customers = con.execute("select count(*) from dim_customers").fetchone()[0]
            links = con.execute("select count(*) from customer_identity_links").fetchone()[0]
            if not pinned:
                con.close()
            seen.append([customers, links])
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
    print(json.dumps({"seen": seen, "errors": errors}))
    """
)


def _working_counts(database: Path) -> tuple[int, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return (
            con.execute("select count(*) from marts.dim_customers").fetchone()[0],
            con.execute("select count(*) from marts.customer_identity_links").fetchone()[0],
        )


def test_a_reader_querying_in_a_loop_never_sees_an_error_or_a_mix(run_copy, tmp_path):
    paths = run_copy
    full = tmp_path / "full.duckdb"
    half = tmp_path / "half.duckdb"
    shutil.copyfile(paths.warehouse, full)
    _half_warehouse(paths, half)
    versions = {_working_counts(full), _working_counts(half)}
    assert len(versions) == 2
    publish_marts(paths, mart_model_names(), run_id="before00")

    readers = {
        mode: subprocess.Popen(
            [sys.executable, "-c", READER, str(paths.published_db), "8", mode], stdout=subprocess.PIPE, text=True
        )
        for mode in ("fresh", "pinned")
    }
    time.sleep(1.5)
    publishes = 0
    while readers["fresh"].poll() is None and publishes < 8:
        shutil.copyfile(half if publishes % 2 == 0 else full, paths.warehouse)
        publish_marts(paths, mart_model_names(), run_id=f"loop{publishes:04d}")
        publishes += 1
        time.sleep(0.2)
    reports = {mode: json.loads(reader.communicate(timeout=60)[0]) for mode, reader in readers.items()}

    assert publishes >= 4, "the reader finished before the publishes"
    assert reports["fresh"]["errors"] == [] and reports["pinned"]["errors"] == []
    seen = {tuple(pair) for pair in reports["fresh"]["seen"]}
    assert seen == versions, "a reader saw a mix of versions, or did not see the publishes happen"
    # the open session keeps reading the version it opened, undisturbed
    assert {tuple(pair) for pair in reports["pinned"]["seen"]} == {_working_counts(full)}


KILLABLE_PUBLISHER = textwrap.dedent(
    """
    import sys
    from cx_pipeline.paths import data_paths
    from cx_pipeline.publish import publish_marts

    paths = data_paths(sys.argv[1])
    marts = sys.argv[2].split(",")
    number = 0
    while True:  # publish until killed
        publish_marts(paths, marts, run_id=f"killed{number:04d}", keep_versions=3)
        number += 1
    """
)


def test_a_publish_killed_half_way_leaves_the_last_good_version_readable(run_copy):
    paths = run_copy
    marts = mart_model_names()
    publish_marts(paths, marts, run_id="goodrun1")
    rng = random.Random(5)
    interrupted = 0
    for _ in range(4):
        publisher = subprocess.Popen([sys.executable, "-c", KILLABLE_PUBLISHER, str(paths.root), ",".join(marts)])
        time.sleep(rng.uniform(1.2, 2.8))  # the import takes about a second, each publish a fraction
        publisher.send_signal(signal.SIGKILL)
        publisher.wait()
        interrupted += bool(_leftovers(paths))

        manifest = json.loads((paths.published / "manifest.json").read_text())
        assert manifest["version"] in list_versions(paths)
        customers, links = _counts(paths.published_db)
        assert customers > 0 and links == manifest["row_counts"]["customer_identity_links"]
    assert interrupted >= 1, "no kill landed in the middle of a publish"

    publish_marts(paths, marts, run_id="nextrun1")
    assert _leftovers(paths) == []
