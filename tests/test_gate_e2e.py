"""The quality gate end to end: clean data publishes; a silo or an inconsistency injected into
the landing data, or a failing dbt test, fails the run with a runbook-linked alert and leaves the
published marts untouched."""

from __future__ import annotations

import json
import re

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from cx_pipeline.alerting import read_alerts
from cx_pipeline.cli import app
from cx_pipeline.defs.dbt import cx_dbt_models
from cx_pipeline.ingest.registry import load_registry
from cx_pipeline.publish import read_manifest
from gate_helpers import evaluations, execute, failure_message, publish, published_digests

pytestmark = pytest.mark.e2e


def test_clean_data_passes_every_check_and_publishes(pipeline_run):
    paths, result = pipeline_run.paths, pipeline_run.result
    assert result.success
    failed = [
        (e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations() if not e.passed
    ]
    assert failed == []
    manifest = read_manifest(paths.published)
    assert manifest["run_id"] == result.run_id
    assert manifest["checks"] and all(c["passed"] for c in manifest["checks"])
    checked = {(c["asset"], c["check"]) for c in manifest["checks"]}
    for source in load_registry().sources:
        for check in ("gx_suite", "schema_drift", "row_reconciliation", "quarantine_rate", "freshness"):
            assert (f"ingested/{source}", check) in checked
    assert ("marts/customer_identity_links", "link_rate") in checked
    assert ("marts/dim_customers", "unique_dim_customers_customer_id") in checked  # dbt tests count too

    results = paths.quality / result.run_id
    gx = json.loads((results / "ingested.orders.gx_suite.json").read_text())
    assert gx["passed"] and gx["validation"]["success"] and gx["runbook"] == "docs/runbooks/gx_suite.md"
    assert len(list(results.glob("*.json"))) == len(
        {c for c in checked if not c[1].startswith(("not_null", "unique", "relationships", "accepted"))}
    )
    assert not [a for a in read_alerts(paths.alerts) if a["run_id"] == result.run_id]
    assert (paths.versions / manifest["version"] / "cx_marts.duckdb").exists()


def _scramble_join_keys(paths, source: str, columns: list[str]) -> None:
    """Every record of `source` gets identifiers nobody else has: the source becomes a silo."""
    landing = paths.landing_dir(source) / f"{source}.csv"
    frame = pl.read_csv(landing, infer_schema=False)
    row = pl.int_range(pl.len()).cast(pl.String)
    scrambled = {
        "buyer_email": pl.concat_str(pl.lit("buyer"), row, pl.lit("@scrambled-"), row, pl.lit(".jp")),
        "buyer_phone": pl.concat_str(pl.lit("+8190"), (pl.int_range(pl.len()) + 40_000_000).cast(pl.String)),
    }
    frame.with_columns(scrambled[c].alias(c) for c in columns).write_csv(landing)


def test_a_silo_in_the_landing_data_fails_the_run_alerts_and_leaves_published_untouched(run_copy):
    paths = run_copy
    before = published_digests(paths)
    _scramble_join_keys(paths, "orders", ["buyer_email", "buyer_phone"])

    runner = CliRunner()
    run = runner.invoke(app, ["run", "--data-dir", str(paths.root)])
    assert run.exit_code == 1
    assert "docs/runbooks/link_rate.md" in run.output
    assert published_digests(paths) == before

    alerts = read_alerts(paths.alerts)
    [silo] = [a for a in alerts if a["kind"] == "check_failed" and a["check"] == "link_rate"]
    assert silo["asset"] == "marts/customer_identity_links" and silo["blocking"]
    assert silo["runbook"] == "docs/runbooks/link_rate.md"
    assert any(f.startswith("orders: 0") for f in silo["failing"]), silo["failing"]
    [run_alert] = [a for a in alerts if a["kind"] == "run_failed"]
    assert run_alert["runbook"] == "docs/runbooks/link_rate.md" and run_alert["run_id"] == silo["run_id"]

    # publishing what the failed run built is refused too, with the reason
    again = runner.invoke(app, ["publish", "--data-dir", str(paths.root)])
    assert again.exit_code == 1 and "link_rate" in again.output
    assert published_digests(paths) == before
    refusal = read_alerts(paths.alerts)[-1]
    assert refusal["kind"] == "run_failed" and refusal["job"] == "publish_job"
    # orders without their join keys are a silo to link_rate and, as customers using the product
    # without a recorded purchase, to use_before_purchase too: at least link_rate refuses
    assert re.search(r"publishing refused: \d+ blocking check\(s\) did not pass$", refusal["title"])
    assert refusal["runbook"] == "docs/runbooks/link_rate.md" and refusal["check"] == "link_rate"


def test_an_inconsistency_in_the_landing_data_fails_the_run(run_copy):
    """Orders that disagree with the CRM on postal codes, and a survey answered in the future."""
    paths = run_copy
    before = published_digests(paths)
    orders = paths.landing_dir("orders") / "orders.csv"
    frame = pl.read_csv(orders, infer_schema=False)
    frame.with_columns(
        pl.concat_str(pl.lit("9"), (pl.int_range(pl.len()) + 100_000).cast(pl.String)).alias("postal_code")
    ).write_csv(orders)
    surveys = paths.landing_dir("surveys") / "surveys.csv"
    frame = pl.read_csv(surveys, infer_schema=False)
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("2031-01-01T09:00:00+09:00"))
        .otherwise("responded_at")
        .alias("responded_at")
    ).write_csv(surveys)

    result = execute(paths, dg.AssetSelection.all())
    assert not result.success
    checks = evaluations(result)
    conflicts = checks[("marts/dim_customers", "conflicting_attributes")]
    assert not conflicts.passed and "postal_code" in conflicts.metadata["summary"].value
    future = checks[("marts/fct_touchpoints", "future_events")]
    assert not future.passed and "surveys: 1" in future.metadata["summary"].value
    assert published_digests(paths) == before
    flagged = {a["check"] for a in read_alerts(paths.alerts) if a["kind"] == "check_failed"}
    assert {"conflicting_attributes", "future_events"} <= flagged


def test_a_failing_dbt_error_test_blocks_publishing(run_copy):
    """A duplicated touchpoint (an ingestion output written twice) fails a dbt test on staging:
    dbt skips everything downstream of it, and nothing is published."""
    paths = run_copy
    before = published_digests(paths)
    touchpoints = paths.ingested / "touchpoints.parquet"
    frame = pl.read_parquet(touchpoints)
    pl.concat([frame, frame.head(1)]).write_parquet(touchpoints)

    result = execute(paths, dg.AssetSelection.assets(*cx_dbt_models.keys).downstream())
    assert not result.success
    name = "unique_combination_of_columns_stg_cx__touchpoints_source__source_record_id"
    test = evaluations(result)[("staging/stg_cx__touchpoints", name)]
    assert not test.passed and test.severity == dg.AssetCheckSeverity.ERROR
    assert test.metadata["runbook"].value.endswith("docs/runbooks/dbt_unique_combination_of_columns.md")
    assert not any(
        e.asset_key == dg.AssetKey(["published", "cx_marts"]) for e in result.get_asset_materialization_events()
    )
    [alert] = [a for a in read_alerts(paths.alerts) if a["check"] == name]
    assert alert["runbook"] == "docs/runbooks/dbt_unique_combination_of_columns.md" and alert["blocking"]
    assert published_digests(paths) == before

    refused = publish(paths)
    assert not refused.success
    assert f"{name} on staging/stg_cx__touchpoints: failed" in failure_message(refused)
    assert published_digests(paths) == before
