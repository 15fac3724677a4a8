"""Each check fails on a purpose-made bad sample: an error check blocks publishing (the published
files stay byte-identical), a warn check alerts and lets the marts through.

Every test works on a copy of the session run's data folder, with the Dagster history of that
clean run: the bad sample is made (in the landing files, the ingestion outputs or the working
database), the checks of the affected asset run, then `publish_job` runs as `cx-pipeline publish`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from cx_pipeline.paths import DataPaths
from cx_pipeline.publish import read_manifest
from cx_pipeline.quality.settings import QUALITY_CONFIG, QUALITY_CONFIG_ENV
from gate_helpers import alerts, evaluations, failure_message, publish, published_digests, run_checks, warehouse

pytestmark = pytest.mark.e2e


def _run(paths: DataPaths, asset: str, rebuild: bool) -> dg.ExecuteInProcessResult:
    return run_checks(paths, asset, rebuild=rebuild)


_warehouse = warehouse


def _rewrite_csv(path: Path, change: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    frame = pl.read_csv(path, infer_schema=False)
    change(frame).write_csv(path)


# --- the bad samples ---------------------------------------------------------------------------


def _epoch_zero_order(paths: DataPaths) -> None:
    """An order dated 1970-01-01 (a default date): valid for ingestion, implausible for the suite."""
    path = paths.landing_dir("orders") / "orders.csv"
    _rewrite_csv(
        path,
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) < 3)
            .then(pl.lit("1970-01-01T00:00:00+00:00"))
            .otherwise("ordered_at")
            .alias("ordered_at")
        ),
    )


def _new_column(paths: DataPaths) -> None:
    path = paths.landing_dir("surveys") / "surveys.csv"
    _rewrite_csv(path, lambda f: f.with_columns(pl.lit("web").alias("survey_channel")))


def _lost_rows(paths: DataPaths) -> None:
    """A truncated ingestion output: five accepted orders gone after ingestion wrote them."""
    accepted = paths.ingested_dir("orders") / "accepted.parquet"
    pl.read_parquet(accepted).slice(5).write_parquet(accepted)


def _broken_timestamps(paths: DataPaths) -> None:
    """A fifth of the email events with a timestamp format ingestion does not read."""
    [path] = paths.landing_dir("email_events").glob("*.csv")  # a daily stream: its one day file
    _rewrite_csv(
        path,
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) % 5 == 0)
            .then(pl.lit("12/03/2024 01:00"))
            .otherwise("event_ts")
            .alias("event_ts")
        ),
    )


def _no_activity_customers(paths: DataPaths) -> None:
    _warehouse(
        paths,
        "update marts.dim_customers set touchpoint_count = 0 "
        "where customer_id in (select customer_id from marts.dim_customers order by customer_id limit 3)",
    )


def _orders_silo(paths: DataPaths) -> None:
    """Orders records no longer link: each its own customer."""
    _warehouse(
        paths,
        "update marts.customer_identity_links set customer_id = 'silo-' || source_record_id where source = 'orders'",
    )


def _over_merge(paths: DataPaths) -> None:
    """Customers merged into five: their records now disagree on country and postal code."""
    _warehouse(paths, "update marts.customer_identity_links set customer_id = 'merged-' || (hash(customer_id) % 5)")


def _future_touchpoints(paths: DataPaths) -> None:
    _warehouse(
        paths,
        "update marts.fct_touchpoints set occurred_at = now() + interval 30 day "
        "where touchpoint_id in (select touchpoint_id from marts.fct_touchpoints "
        "where source = 'surveys' order by touchpoint_id limit 3)",
    )


def _orders_moved_back(paths: DataPaths) -> None:
    """Every order 800 days earlier: before the customer's first contact."""
    _warehouse(
        paths,
        "update marts.fct_touchpoints set occurred_at = occurred_at - interval 800 day "
        "where touchpoint_type = 'order_placed'",
    )


def _usage_moved_back(paths: DataPaths) -> None:
    """Every product usage record 800 days earlier: before the customer bought anything."""
    _warehouse(
        paths,
        "update marts.fct_touchpoints set occurred_at = occurred_at - interval 800 day where source = 'product_usage'",
    )


ERROR_CHECKS = [
    # check, asset, bad sample, rebuild the asset from landing first
    ("gx_suite", "ingested/orders", _epoch_zero_order, True),
    ("schema_drift", "ingested/surveys", _new_column, True),
    ("row_reconciliation", "ingested/orders", _lost_rows, False),
    ("quarantine_rate", "ingested/email_events", _broken_timestamps, True),
    ("gx_suite", "marts/dim_customers", _no_activity_customers, False),
    ("link_rate", "marts/customer_identity_links", _orders_silo, False),
    ("conflicting_attributes", "marts/dim_customers", _over_merge, False),
    ("future_events", "marts/fct_touchpoints", _future_touchpoints, False),
    ("timeline_order", "marts/fct_touchpoints", _orders_moved_back, False),
    ("use_before_purchase", "marts/customer_lifecycle", _usage_moved_back, False),
]


@pytest.mark.parametrize(
    ("check", "asset", "make_bad", "rebuild"), ERROR_CHECKS, ids=[f"{c}-{a}" for c, a, *_ in ERROR_CHECKS]
)
def test_an_error_check_fails_on_its_bad_sample_and_blocks_publishing(run_copy, check, asset, make_bad, rebuild):
    paths = run_copy
    before = published_digests(paths)
    make_bad(paths)

    checked = _run(paths, asset, rebuild)
    evaluation = evaluations(checked)[(asset, check)]
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    metadata = evaluation.metadata
    assert metadata["runbook"].value.endswith(f"docs/runbooks/{check}.md")
    assert "**no**" in metadata["findings"].value  # the failing figures are shown
    assert Path(metadata["results"].value).exists()

    alert = [a for a in alerts(paths) if a["kind"] == "check_failed" and a["check"] == check and a["asset"] == asset][
        -1
    ]
    assert alert["runbook"] == f"docs/runbooks/{check}.md" and alert["blocking"] and alert["failing"]

    published = publish(paths)
    assert not published.success
    assert f"{check} on {asset}: failed" in failure_message(published)
    assert published_digests(paths) == before


def test_failing_rows_and_observed_values_are_in_the_metadata(run_copy):
    """GX failures show the expectation, the observed values and the rows behind them."""
    paths = run_copy
    _epoch_zero_order(paths)
    evaluation = evaluations(_run(paths, "ingested/orders", rebuild=True))[("ingested/orders", "gx_suite")]
    findings = evaluation.metadata["findings"].value
    assert "expect_column_values_to_be_between(ordered_at)" in findings and "1970-01-01" in findings
    sample = evaluation.metadata["sample_failing_rows"].value
    assert sample.count("1970-01-01") == 3


WARN_CHECKS = [
    ("freshness", "ingested/web_events", lambda paths: _age_landing(paths, "web_events", days=10)),
    (
        "siloed_customers",
        "marts/dim_customers",
        lambda paths: _warehouse(paths, "update marts.dim_customers set department_count = 1"),
    ),
    (
        "junk_identifiers",
        "marts/customer_contact_points",
        lambda paths: _warehouse(
            paths,
            "update intermediate.int_identity__identifiers_guarded set guard = 'junk_value' "
            "where identifier_type = 'phone'",
        ),
    ),
]


def _age_landing(paths: DataPaths, source: str, days: int) -> None:
    import os
    import time

    old = time.time() - days * 86_400
    for path in paths.landing_dir(source).iterdir():
        os.utime(path, (old, old))


@pytest.mark.parametrize(("check", "asset", "make_bad"), WARN_CHECKS, ids=[c for c, *_ in WARN_CHECKS])
def test_a_warn_check_alerts_but_the_marts_are_still_published(run_copy, check, asset, make_bad):
    paths = run_copy
    before = published_digests(paths)
    make_bad(paths)

    evaluation = evaluations(_run(paths, asset, rebuild=False))[(asset, check)]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    alert = [a for a in alerts(paths) if a["kind"] == "check_failed" and a["check"] == check][-1]
    assert alert["severity"] == "warn" and not alert["blocking"]
    assert alert["runbook"] == f"docs/runbooks/{check}.md"

    published = publish(paths)
    assert published.success, failure_message(published)
    assert published_digests(paths) != before
    recorded = {(c["check"], c["asset"]): c for c in read_manifest(paths.published)["checks"]}
    assert recorded[(check, asset)]["passed"] is False and recorded[(check, asset)]["severity"] == "warn"


def test_a_warn_check_set_to_error_blocks(run_copy, tmp_path, monkeypatch):
    """Severity is configuration: the same stale source blocks once freshness is an error check."""
    paths = run_copy
    settings = yaml.safe_load(QUALITY_CONFIG.read_text())
    settings["checks"]["freshness"]["severity"] = "error"
    strict = tmp_path / "quality.yml"
    strict.write_text(yaml.safe_dump(settings))
    monkeypatch.setenv(QUALITY_CONFIG_ENV, str(strict))
    before = published_digests(paths)
    _age_landing(paths, "web_events", days=10)

    evaluation = evaluations(_run(paths, "ingested/web_events", rebuild=False))[("ingested/web_events", "freshness")]
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR and not evaluation.passed
    published = publish(paths)
    assert not published.success and "freshness on ingested/web_events: failed" in failure_message(published)
    assert published_digests(paths) == before


def test_fixing_the_data_and_rerunning_the_check_lets_publish_through(run_copy):
    paths = run_copy
    _future_touchpoints(paths)
    _run(paths, "marts/fct_touchpoints", rebuild=False)
    assert not publish(paths).success

    _warehouse(
        paths, "update marts.fct_touchpoints set occurred_at = occurred_at - interval 3 year where occurred_at > now()"
    )
    rerun = evaluations(_run(paths, "marts/fct_touchpoints", rebuild=False))
    assert rerun[("marts/fct_touchpoints", "future_events")].passed
    assert publish(paths).success


def test_a_check_that_cannot_run_fails_and_blocks(run_copy, monkeypatch):
    """A missing suite file is not a pass."""
    import cx_pipeline.quality.expectations as expectations

    monkeypatch.setattr(expectations, "MART_SUITES", run_copy.root / "no_such_folder")
    evaluation = evaluations(_run(run_copy, "marts/fct_touchpoints", rebuild=False))[
        ("marts/fct_touchpoints", "gx_suite")
    ]
    assert not evaluation.passed and "no suite file" in evaluation.metadata["summary"].value
    assert not publish(run_copy).success


def test_publish_refuses_marts_rebuilt_since_their_checks_ran(run_copy):
    """A mart materialized after its checks (e.g. alone from the UI) is unchecked: not published."""
    from cx_pipeline.defs.quality import mart_key

    with dg.DagsterInstance.from_config(str(run_copy.dagster_home)) as dagster:
        dagster.report_runless_asset_event(dg.AssetMaterialization(asset_key=mart_key("fct_touchpoints")))
    before = published_digests(run_copy)
    published = publish(run_copy)
    assert not published.success
    assert "future_events on marts/fct_touchpoints: not evaluated since its asset was last built" in failure_message(
        published
    )
    assert published_digests(run_copy) == before
