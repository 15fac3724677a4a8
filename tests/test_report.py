"""The CX report: one self-contained page with charts, rendered in headless Chromium and looked at.

Green: the session run's published marts, reported by `cx-pipeline report`. Red: a silo injected
into the working database fails a blocking check, publishing is refused, and the report says so
above charts of the last good version.
"""

from __future__ import annotations

import base64
import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from browser import colour_counts, pixels_near, screenshot
from cx_pipeline.cli import app
from cx_pipeline.publish import read_manifest
from cx_pipeline.report.charts import PHASE_COLOURS
from gate_helpers import publish, run_checks, warehouse

pytestmark = pytest.mark.e2e

CHARTS = ("funnel", "phases", "milestones", "silos", "link_rates", "match_quality", "links_by_rule", "checks")
# namespaces an SVG declares; nothing is fetched from them
SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
BANNER_RED_BACKGROUND = "#fdecea"


@pytest.fixture
def reported_copy(run_copy, pipeline_run):
    """The run copy with the session run's reports beside it (match quality, phase accuracy, check results)."""
    for folder in ("identity", "lifecycle", "quality"):
        shutil.copytree(pipeline_run.paths.root / folder, run_copy.root / folder, dirs_exist_ok=True)
    return run_copy


def _report(paths) -> str:
    result = CliRunner().invoke(app, ["report", "--data-dir", str(paths.root)])
    assert result.exit_code == 0, result.output
    assert str(paths.report) in result.output.replace("\n", "")
    return paths.report.read_text(encoding="utf-8")


def _chart_svgs(html: str) -> dict[str, str]:
    found = re.findall(r'<figure id="chart-([a-z_]+)">.*?<img src="data:image/svg\+xml;base64,([^"]+)"', html, re.S)
    return {key: base64.b64decode(data).decode("utf-8") for key, data in found}


def assert_self_contained(html: str) -> None:
    """Nothing the page shows comes from elsewhere: no script, stylesheet, font or remote image."""
    assert not re.search(r"https?://", html), re.findall(r"https?://\S+", html)[:5]
    assert not re.search(r"<script|<link|@import|url\(|<iframe|<object", html, re.I)
    for source in re.findall(r'<img[^>]+src="([^"]+)"', html):
        assert source.startswith("data:image/svg+xml;base64,"), source[:80]
    for key, svg in _chart_svgs(html).items():
        assert set(re.findall(r"https?://[^\"' )]+", svg)) <= SVG_NAMESPACES, key
        assert "<image" not in svg and "<script" not in svg, key


def test_the_report_draws_every_chart_from_the_published_marts(reported_copy, tmp_path):
    paths = reported_copy
    html = _report(paths)
    assert_self_contained(html)

    charts = _chart_svgs(html)
    assert set(CHARTS) <= set(charts), sorted(charts)
    # one run, one as-of day: no change between runs to draw yet, and the page says so
    assert "transitions" not in charts and "from the second run on" in html
    # the charts carry the data: every source's link rate, every lifecycle step, every department
    for source in ("orders", "crm_contacts", "web_events"):
        assert source in charts["link_rates"]
    for step in ("first touch", "purchased", "expanded"):
        assert step in charts["funnel"]
    assert "marketing" in charts["silos"] and "service" in charts["silos"]

    status = json.loads(paths.quality_status.read_text())
    assert status["gate"] == "open" and status["counts"]["passed"] == len(status["checks"]) > 100
    assert "All checks passed" in html
    assert read_manifest(paths.published)["version"] in html

    # what a person sees: the charts painted in their colours, not blank boxes or broken images
    png = screenshot(paths.report.as_uri(), tmp_path / "report.png")
    counts = colour_counts(png)
    assert len(counts) > 500, f"only {len(counts)} colours: a blank page?"
    for phase, colour in PHASE_COLOURS.items():
        if phase != "lapsed":  # lapsed bars are thin on a small sample
            assert pixels_near(counts, colour) > 2_000, (phase, pixels_near(counts, colour))
    assert pixels_near(counts, "#08306b", tolerance=40) > 1_000  # the heatmap's dark blues
    assert pixels_near(counts, BANNER_RED_BACKGROUND, tolerance=2) == 0


def test_a_refused_publish_shows_red_status_above_the_last_good_version(reported_copy, tmp_path):
    paths = reported_copy
    live = read_manifest(paths.published)["version"]
    # orders' customers lose every link to other departments: a silo the link_rate check blocks on
    warehouse(
        paths,
        "update marts.customer_identity_links set customer_id = 'silo-' || source_record_id where source = 'orders'",
    )
    checked = run_checks(paths, "marts/customer_identity_links")
    assert not [e for e in checked.get_asset_check_evaluations() if e.check_name == "link_rate"][0].passed
    assert not publish(paths).success

    html = _report(paths)
    assert_self_contained(html)
    status = json.loads(paths.quality_status.read_text())
    assert status["gate"] == "closed"
    [silo] = [c for c in status["checks"] if c["check"] == "link_rate"]
    assert silo["outcome"] == "failed (error)" and any(f["subject"] == "orders" for f in silo["failing"])

    assert "Publishing refused" in html and f"BI keeps reading version {live}" in html
    assert "link_rate on marts/customer_identity_links" in html
    assert "docs/runbooks/link_rate.md" in html
    # the charts still show the last good version
    assert set(CHARTS) <= set(_chart_svgs(html))

    png = screenshot(paths.report.as_uri(), tmp_path / "refused.png", height=1200)
    counts = colour_counts(png)
    assert pixels_near(counts, BANNER_RED_BACKGROUND, tolerance=2) > 20_000  # the red banner
    assert pixels_near(counts, "#c62828", tolerance=10) > 500


def test_the_report_sensors_follow_full_runs_and_publishes_but_not_cli_runs(pipeline_run):
    import dagster as dg

    from cx_pipeline.defs.alerts import CLI_LAUNCHER, LAUNCHED_BY_TAG
    from cx_pipeline.defs.report import _report_after

    result = pipeline_run.result
    with dg.DagsterInstance.from_config(str(pipeline_run.paths.dagster_home)) as instance:
        run = instance.get_run_by_id(result.run_id)
        context = dg.build_run_status_sensor_context(
            sensor_name="report_after_success",
            dagster_event=result.get_run_success_event(),
            dagster_instance=instance,
            dagster_run=run,
        )
        request = _report_after(context)
        assert isinstance(request, dg.RunRequest) and request.run_key == f"report-after-{run.run_id}"

        cli_run = run.with_tags({**run.tags, LAUNCHED_BY_TAG: CLI_LAUNCHER})
        context = dg.build_run_status_sensor_context(
            sensor_name="report_after_success",
            dagster_event=result.get_run_success_event(),
            dagster_instance=instance,
            dagster_run=cli_run,
        )
        assert isinstance(_report_after(context), dg.SkipReason)
