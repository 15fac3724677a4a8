"""What the Dagster UI shows on the assets after a run: row counts, previews, key figures."""

from __future__ import annotations

import pytest

from cx_pipeline.ingest.registry import load_registry
from gate_helpers import materializations
from published_marts import PUBLISHED_MARTS

pytestmark = pytest.mark.e2e


def test_every_dbt_table_has_its_row_count_and_a_preview(pipeline_run):
    materialized = materializations(pipeline_run.result)
    dbt_assets = {k: m for k, m in materialized.items() if "unique_id" in m}
    assert len(dbt_assets) > 40
    # the one view whose config opts out (describe_after_build: false): its reader computes it
    assert "not_described" in dbt_assets.pop("intermediate/int_identity__edges")
    for key, metadata in dbt_assets.items():
        assert "metadata_error" not in metadata, (key, metadata.get("metadata_error"))
        assert "not_described" not in metadata, key
        assert metadata["dagster/row_count"].value >= 0, key
        assert metadata["preview"].value.startswith("|"), key  # a markdown table
    for mart in PUBLISHED_MARTS - {"customer_id_changes"}:  # no merge or split in one run
        assert materialized[f"marts/{mart}"]["dagster/row_count"].value > 0, mart


def test_marts_carry_their_key_figures(pipeline_run):
    import duckdb

    materialized = materializations(pipeline_run.result)
    with duckdb.connect(str(pipeline_run.paths.published_db), read_only=True) as con:
        lowest = con.execute("select min(link_rate) from source_link_rates").fetchall()[0][0]
        phases = dict(con.execute("select phase, count(*) from customer_lifecycle group by all").fetchall())
    assert materialized["marts/source_link_rates"]["lowest_link_rate"].value == pytest.approx(lowest, abs=1e-4)
    by_phase = materialized["marts/customer_lifecycle"]["customers_by_phase"].value
    for phase, customers in phases.items():
        assert f"| {phase}" in by_phase and str(customers) in by_phase
    assert 0 < materialized["marts/customer_identity_links"]["link_rate"].value <= 1
    assert "same_email" in materialized["marts/customer_identity_links"]["records_by_rule"].value


def test_landing_assets_are_observed_and_union_tables_previewed(pipeline_run):
    result = pipeline_run.result
    observed = {
        "/".join(e.asset_key.path): e.event_specific_data.asset_observation.metadata
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    }
    materialized = materializations(result)
    for source in load_registry().sources:
        landing = observed[f"landing/{source}"]
        assert landing["dagster/row_count"].value == materialized[f"ingested/{source}"]["rows_in"].value
        assert landing["file_count"].value >= 1
    for table in ("identifiers", "touchpoints", "attributes"):
        assert materialized[f"ingested/{table}"]["preview"].value.startswith("|")
