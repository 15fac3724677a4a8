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


# --- the UI as an operator sees it (#8) ------------------------------------------------------

FLOW_GROUPS = {"ingestion", "identity", "customer_360", "lifecycle", "quality", "publish"}


def test_every_asset_has_a_group_owner_description_kind_and_code_version():
    graph = _graph()
    keys = graph.get_all_asset_keys()
    assert len(keys) > 60
    for key in keys:
        node = graph.get(key)
        where = key.to_user_string()
        assert node.group_name, where
        assert "team:data-eng" in node.owners, (where, node.owners)
        assert node.description and node.description.strip(), where
        assert node.code_version, where
        assert node.kinds, where
    assert FLOW_GROUPS <= {graph.get(key).group_name for key in keys}
    # a source's department owns its data too
    assert "team:commerce" in graph.get(dg.AssetKey(["ingested", "orders"])).owners


def test_code_versions_follow_the_rules_a_model_reads(monkeypatch):
    import cx_pipeline.defs.dbt as dbt_defs

    manifest = dbt_defs._manifest()
    props = next(n for n in manifest["nodes"].values() if n["name"] == "int_identity__match_keys")
    plain = next(n for n in manifest["nodes"].values() if n["name"] == "stg_commerce__orders")
    before = dbt_defs.dbt_code_version(manifest, props), dbt_defs.dbt_code_version(manifest, plain)
    rules = dbt_defs.dbt_rule_vars()
    rules["identity"]["match_rules"] = rules["identity"]["match_rules"][:1]
    monkeypatch.setattr(dbt_defs, "dbt_rule_vars", lambda: rules)
    dbt_defs._rule_vars_json.cache_clear()
    try:
        after = dbt_defs.dbt_code_version(manifest, props), dbt_defs.dbt_code_version(manifest, plain)
    finally:
        monkeypatch.undo()
        dbt_defs._rule_vars_json.cache_clear()
    assert after[0] != before[0]  # reads the match rules
    assert after[1] == before[1]  # a rename-only staging model does not


def test_a_source_code_version_moves_with_its_registry_entry():
    from dataclasses import replace

    from cx_pipeline.defs.ingestion import _source_version

    registry = load_registry()
    orders = registry.source("orders")
    assert _source_version(orders, registry) == _source_version(orders, registry)
    assert _source_version(replace(orders, path="*.tsv"), registry) != _source_version(orders, registry)


def test_a_daily_schedule_launches_the_full_run_and_sensors_are_on():
    from cx_pipeline.operations import load_operations_settings

    schedule = defs.resolve_schedule_def("cx_daily_run")
    settings = load_operations_settings().schedule
    assert schedule.job_name == "cx_full_run"
    assert schedule.cron_schedule == settings.cron and schedule.execution_timezone == settings.timezone
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    for name in ("run_failure_alerts", "report_after_success", "report_after_failure"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING, name


def test_jobs_publish_alone_and_report_after_every_run():
    def selected(job: str) -> set[dg.AssetKey]:
        return set(defs.resolve_job_def(job).asset_layer.selected_asset_keys)

    report_assets = {dg.AssetKey(["quality", "check_status"]), dg.AssetKey(["report", "cx_report"])}
    assert selected("publish_job") == {dg.AssetKey(["published", "cx_marts"])}
    assert selected("cx_report") == report_assets
    full = selected("cx_full_run")
    assert not full & report_assets  # a refused publish must not skip the report
    assert dg.AssetKey(["published", "cx_marts"]) in full
    report = _graph().get(dg.AssetKey(["report", "cx_report"]))
    assert {dg.AssetKey(["published", "cx_marts"]), dg.AssetKey(["quality", "check_status"])} <= set(report.parent_keys)



def test_the_dbt_cli_skips_dagster_dbts_version_subprocess_and_in_process_adapter(tmp_path, monkeypatch):
    """CxDbtCliResource overrides two dagster-dbt internals. Were they renamed, the overrides would
    silently stop saving time, so their names are pinned here."""
    import subprocess
    from importlib.metadata import version

    from dagster_dbt import DbtCliResource

    from cx_pipeline.dbt_project import CxDbtCliResource, cx_dbt_cli

    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), name
        assert name in vars(CxDbtCliResource), name

    spawned: list[list[str]] = []
    real_popen = subprocess.Popen

    def recording_popen(args, *rest, **kwargs):
        spawned.append([str(arg) for arg in args])
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    dbt = cx_dbt_cli()
    invocation = dbt.cli(["--quiet", "ls", "--select", "dim_customers"], target_path=tmp_path / "target").wait()
    assert invocation.is_successful()
    assert "model.cx_pipeline.dim_customers" in {node["unique_id"] for node in invocation.get_artifact("manifest.json")["nodes"].values()}
    assert invocation.adapter is None
    assert str(dbt._cli_version) == version("dbt-core")
    # one process, dbt ls itself: no `dbt --version` before it
    assert len(spawned) == 1 and "ls" in spawned[0] and "--version" not in spawned[0], spawned
