"""End to end: generated landing data -> ingestion -> dbt -> published marts, in-process."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest

from cx_pipeline.ingest.registry import load_registry
from gate_helpers import materializations
from published_marts import PUBLISHED_MARTS

pytestmark = pytest.mark.e2e


def test_run_succeeds_and_materializes_every_asset(pipeline_run):
    result = pipeline_run.result
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    materialized = materializations(result)
    for source in load_registry().sources:
        assert f"ingested/{source}" in materialized
    for mart in PUBLISHED_MARTS:
        assert f"marts/{mart}" in materialized
    assert "published/cx_marts" in materialized


def test_ingestion_accounts_for_every_row(pipeline_run):
    materialized = materializations(pipeline_run.result)
    total_quarantined = 0
    for source in load_registry().sources:
        meta = materialized[f"ingested/{source}"]
        rows_in, accepted, quarantined = (meta[k].value for k in ("rows_in", "rows_accepted", "rows_quarantined"))
        assert rows_in == accepted + quarantined
        assert accepted > 0, f"{source}: nothing accepted"
        # the accepted file holds exactly the accepted rows, the quarantine file the rest
        ingested = pipeline_run.paths.ingested_dir(source)
        assert pl.scan_parquet(ingested / "accepted.parquet").select(pl.len()).collect().item() == accepted
        assert pl.scan_parquet(ingested / "quarantine.parquet").select(pl.len()).collect().item() == quarantined
        total_quarantined += quarantined
    # the generator injects bad rows: some must have been caught
    assert total_quarantined > 0


def test_published_marts_are_readable_read_only(pipeline_run):
    paths = pipeline_run.paths
    with duckdb.connect(str(paths.published_db), read_only=True) as con:
        tables = {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}
        assert PUBLISHED_MARTS <= tables
        customers = con.execute("select count(*), count(distinct customer_id) from dim_customers").fetchall()[0]
        assert customers[0] > 0 and customers[0] == customers[1]
        # every link points at a published customer
        orphans = con.execute(
            "select count(*) from customer_identity_links l "
            "left join dim_customers c using (customer_id) where c.customer_id is null"
        ).fetchall()[0][0]
        assert orphans == 0
        touchpoints = con.execute("select count(*) from fct_touchpoints").fetchall()[0][0]

    accepted_total = sum(
        pl.scan_parquet(paths.ingested_dir(s) / "accepted.parquet").select(pl.len()).collect().item()
        for s in load_registry().sources
    )
    assert touchpoints == accepted_total, "every accepted row is one touchpoint"

    for mart in PUBLISHED_MARTS:
        parquet = paths.published / f"{mart}.parquet"
        assert parquet.exists()
    manifest = json.loads((paths.published / "manifest.json").read_text())
    assert set(manifest["row_counts"]) == PUBLISHED_MARTS
    assert manifest["row_counts"]["fct_touchpoints"] == touchpoints


def test_identity_graph_joins_channels_of_one_person(pipeline_run):
    """Some customers are known to several departments; every accepted record has a customer."""
    with duckdb.connect(str(pipeline_run.paths.published_db), read_only=True) as con:
        multi_source = con.execute("select count(*) from dim_customers where source_count >= 2").fetchall()[0][0]
        links, unlinked = con.execute(
            "select count(*), count(*) filter (where customer_id is null) from fct_touchpoints"
        ).fetchall()[0]
    assert multi_source > 0
    assert unlinked == 0 and links > 0


def test_nothing_written_outside_the_data_folder(pipeline_run):
    root = pipeline_run.paths.root
    for sub in ("landing", "ingested", "warehouse", "published", "dbt_runs"):
        assert (root / sub).is_dir()
    assert pipeline_run.paths.warehouse.exists()
    # dbt's run artifacts land in the data folder, not in the dbt project
    run_folder = pipeline_run.paths.dbt_runs / pipeline_run.result.run_id
    assert (run_folder / "run_results.json").exists()


def test_match_quality_is_measured_against_the_truth(pipeline_run):
    meta = materializations(pipeline_run.result)["identity/match_quality"]
    assert meta["ground_truth"].value == "present"
    records = meta["match_records_evaluated"].value
    accepted_total = sum(
        meta_value.value
        for key, materialization in materializations(pipeline_run.result).items()
        if key.startswith("ingested/") and "rows_accepted" in materialization
        for meta_value in [materialization["rows_accepted"]]
    )
    # every accepted record that has a truth row is evaluated: the truth covers all generated rows
    assert records == accepted_total
    # the guards keep shared and placeholder identifiers from merging people
    assert meta["match_precision"].value >= 0.995
    assert meta["match_largest_cluster_people"].value <= 3
    # the identity graph links across channels: far beyond the email-only baseline (recall ~0.2)
    assert meta["match_recall"].value >= 0.5
    report = json.loads((pipeline_run.paths.identity / "match_quality.json").read_text())
    assert report["records_evaluated"] == records
    # what fired and what linked is visible in the UI: the sample's placeholders trip junk guards,
    # and the similarity rules link records the exact rules cannot
    assert meta["guarded_values"].value > 0 and "junk_" in meta["guards_fired"].value
    assert "similar_name_same_postal_code" in meta["records_by_rule"].value


def test_golden_record_and_key_ring(pipeline_run):
    with duckdb.connect(str(pipeline_run.paths.published_db), read_only=True) as con:
        junk_golden = con.execute(
            "select count(*) from customer_contact_points "
            "where is_golden and guard in ('junk_value', 'junk_pattern')"
        ).fetchall()[0][0]
        # the key ring keeps values the golden record did not pick
        extra = con.execute(
            "select count(*) from customer_contact_points where identifier_type = 'email' and not is_golden"
        ).fetchall()[0][0]
        golden_emails_in_ring = con.execute(
            "select count(*) from dim_customers d join customer_contact_points p "
            "on p.customer_id = d.customer_id and p.identifier_type = 'email' "
            "and p.identifier_value = d.email and p.is_golden"
        ).fetchall()[0][0]
        with_email = con.execute("select count(email) from dim_customers").fetchall()[0][0]
    assert junk_golden == 0, "a placeholder identifier became a golden value"
    assert extra > 0
    assert golden_emails_in_ring == with_email > 0


def test_a_rerun_on_the_same_data_keeps_every_customer_id_and_the_phase_history(run_copy):
    """On a copy of the session run (other tests read the session run's published version)."""
    from dagster import DagsterInstance

    from cx_pipeline.definitions import defs

    def links() -> set[tuple]:
        with duckdb.connect(str(run_copy.published_db), read_only=True) as con:
            return set(con.execute("select source, source_record_id, customer_id from customer_identity_links").fetchall())

    def history() -> set[tuple]:
        with duckdb.connect(str(run_copy.published_db), read_only=True) as con:
            return set(con.execute("select * from customer_phase_history").fetchall())

    before, history_before = links(), history()
    rerun = defs.resolve_job_def("cx_full_run").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert rerun.success
    assert links() == before and len(before) > 0
    # nothing changed, so the phase history gains no row
    assert history() == history_before and len(history_before) > 0
