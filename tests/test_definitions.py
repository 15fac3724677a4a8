"""The asset graph's shape: a change to keys, groups or lineage shows up here first."""

from __future__ import annotations

import dagster as dg

from cx_pipeline.definitions import defs
from cx_pipeline.ingest.registry import load_registry
from published_marts import PUBLISHED_MARTS


def _graph():
    return defs.resolve_asset_graph()


def test_every_registry_source_is_an_ingestion_asset_and_a_dbt_source():
    graph = _graph()
    for source in load_registry().sources:
        key = dg.AssetKey(["ingested", source])
        assert key in graph.get_all_asset_keys()
        node = graph.get(key)
        assert node.group_name == "ingestion"
        assert dg.AssetKey(["landing", source]) in node.parent_keys
        # the dbt staging model reads the ingestion asset: one lineage graph
        assert any(child.path[:1] == ["staging"] for child in node.child_keys), source


def test_registry_union_feeds_identity_and_touchpoints():
    graph = _graph()
    identifiers = graph.get(dg.AssetKey(["ingested", "identifiers"]))
    assert {dg.AssetKey(["ingested", s]) for s in load_registry().sources} <= set(identifiers.parent_keys)
    assert dg.AssetKey(["staging", "stg_cx__identifiers"]) in identifiers.child_keys


def test_publish_depends_on_every_mart_and_groups_follow_the_flow():
    graph = _graph()
    published = graph.get(dg.AssetKey(["published", "cx_marts"]))
    assert set(published.parent_keys) == {dg.AssetKey(["marts", m]) for m in PUBLISHED_MARTS}
    assert graph.get(dg.AssetKey(["marts", "dim_customers"])).group_name == "customer_360"
    assert graph.get(dg.AssetKey(["marts", "source_link_rates"])).group_name == "customer_360"
    assert graph.get(dg.AssetKey(["intermediate", "int_identity_links"])).group_name == "identity"
    assert graph.get(dg.AssetKey(["staging", "stg_commerce__orders"])).group_name == "staging"


def test_the_lifecycle_group_holds_its_rules_seeds_history_marts_and_accuracy():
    graph = _graph()
    lifecycle = {key for key in graph.get_all_asset_keys() if graph.get(key).group_name == "lifecycle"}
    expected = {
        dg.AssetKey(["intermediate", "int_lifecycle__customer_stages"]),
        dg.AssetKey(["reference", "lifecycle_stages"]),
        dg.AssetKey(["snapshots", "customer_lifecycle_snapshot"]),
        dg.AssetKey(["marts", "customer_lifecycle"]),
        dg.AssetKey(["marts", "customer_phase_history"]),
        dg.AssetKey(["marts", "cx_kpis"]),
        dg.AssetKey(["lifecycle", "phase_accuracy"]),
    }
    assert expected <= lifecycle
    # the lifecycle reads customers through the published identity links
    record_customers = graph.get(dg.AssetKey(["intermediate", "int_lifecycle__record_customers"]))
    assert dg.AssetKey(["marts", "customer_identity_links"]) in record_customers.parent_keys
    accuracy = graph.get(dg.AssetKey(["lifecycle", "phase_accuracy"]))
    assert dg.AssetKey(["marts", "customer_lifecycle"]) in accuracy.parent_keys


def test_dbt_tests_are_asset_checks_and_jobs_exist():
    graph = _graph()
    check_keys = graph.asset_check_keys
    assert any(ck.asset_key == dg.AssetKey(["marts", "dim_customers"]) for ck in check_keys)
    assert defs.resolve_job_def("cx_full_run") is not None
    assert defs.resolve_job_def("publish_job") is not None


def test_every_quality_check_is_blocking_so_publish_waits_for_all_of_them():
    from cx_pipeline.defs.quality import quality_checks

    specs = [spec for definition in quality_checks for spec in definition.check_specs]
    assert specs and all(spec.blocking for spec in specs)
    graph = _graph()
    for source in load_registry().sources:
        checks = {key.name for key in graph.asset_check_keys if key.asset_key == dg.AssetKey(["ingested", source])}
        assert checks == {"gx_suite", "schema_drift", "row_reconciliation", "quarantine_rate", "freshness"}


def test_every_published_mart_is_scanned_for_raw_emails_and_phones_before_publishing():
    from cx_pipeline.defs.dbt import mart_model_names

    graph = _graph()
    scanned = {key.asset_key.path[-1] for key in graph.asset_check_keys if key.name == "pii_scan"}
    assert scanned == set(mart_model_names())


def test_failed_runs_have_a_sensor_running_by_default():
    sensor = defs.resolve_sensor_def("run_failure_alerts")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
def test_every_published_mart_has_an_enforced_contract_and_documented_columns():
    from cx_pipeline.defs.dbt import _manifest, mart_model_names

    nodes = {n["name"]: n for n in _manifest()["nodes"].values() if n["resource_type"] == "model"}
    assert set(mart_model_names()) == PUBLISHED_MARTS
    for name in PUBLISHED_MARTS:
        node = nodes[name]
        assert node["config"]["contract"]["enforced"], name
        assert node["description"].strip(), name
        undocumented = [c for c, spec in node["columns"].items() if not spec["description"].strip()]
        assert node["columns"] and not undocumented, (name, undocumented)


def test_customer_traits_counts_touches_for_every_channel_the_registry_allows():
    from cx_pipeline.defs.dbt import _manifest
    from cx_pipeline.ingest.registry import CHANNELS

    traits = next(n for n in _manifest()["nodes"].values() if n["name"] == "customer_traits")
    per_channel = {c.removeprefix("touchpoints_") for c in traits["columns"] if c.startswith("touchpoints_")}
    assert per_channel == set(CHANNELS)
