"""The CX report page and the quality status without a pipeline run: what shows when data is absent."""

from __future__ import annotations

from cx_pipeline.paths import data_paths
from cx_pipeline.quality.status import build_status
from cx_pipeline.report.data import load_report_data
from cx_pipeline.report.page import build_charts, render_report


def _check(check: str, severity: str, passed: bool | None) -> dict:
    return {
        "asset": "marts/dim_customers", "check": check, "severity": severity, "passed": passed,
        "run_id": None, "runbook": f"docs/runbooks/{check}.md",
    }  # fmt: skip


def test_the_gate_closes_on_a_failed_or_unevaluated_error_check_only(tmp_path):
    paths = data_paths(tmp_path)
    warned = build_status(paths, [_check("gx_suite", "error", True), _check("freshness", "warn", False)], "v1")
    assert warned["gate"] == "open"
    assert warned["counts"] == {"passed": 1, "failed (warn)": 1, "failed (error)": 0, "not evaluated": 0}
    stale = build_status(paths, [_check("gx_suite", "error", None)], "v1")
    assert stale["gate"] == "closed" and stale["counts"]["not evaluated"] == 1
    failed = build_status(paths, [_check("link_rate", "error", False)], None)
    assert failed["gate"] == "closed" and failed["checks"][0]["kind"] == "link_rate"


def test_with_nothing_published_the_page_says_so_and_still_shows_the_checks(tmp_path):
    paths = data_paths(tmp_path)
    data = load_report_data(paths, months=12, link_rate_floors={})
    data.status = build_status(paths, [_check("link_rate", "error", False), _check("gx_suite", "error", True)], None)
    charts = build_charts(data, 12)
    assert [name for name, chart in charts.items() if chart] == ["checks"]
    html = render_report(data, charts=charts, months=12, runbook_base_url=None)
    assert "Nothing has been published yet" in html
    assert "Publishing refused: 1 blocking check(s) did not pass" in html
    assert 'href="file://' in html and "docs/runbooks/link_rate.md" in html


def test_runbook_links_use_the_configured_base_url(tmp_path):
    paths = data_paths(tmp_path)
    data = load_report_data(paths, months=12, link_rate_floors={})
    data.status = build_status(paths, [_check("link_rate", "error", False)], None)
    html = render_report(data, charts={}, months=12, runbook_base_url="https://git.example.com/cx/-/blob/main/")
    assert 'href="https://git.example.com/cx/-/blob/main/docs/runbooks/link_rate.md"' in html
