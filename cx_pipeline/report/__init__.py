"""The CX report: data/published/report/index.html, the customer base and the pipeline at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cx_pipeline.paths import DataPaths


@dataclass(frozen=True)
class ReportResult:
    path: Path
    charts: list[str]  # the charts drawn; a chart whose data is absent is left out
    gate: str | None  # the quality gate on the page: open, closed, or None when never evaluated
    published_version: str | None


def build_report(paths: DataPaths) -> ReportResult:
    """Render the report from the published marts, the quality status and the reports beside them."""
    from cx_pipeline.ingest.registry import load_registry
    from cx_pipeline.operations import load_operations_settings
    from cx_pipeline.quality.settings import load_quality_settings
    from cx_pipeline.report.data import load_report_data
    from cx_pipeline.report.page import build_charts, render_report, write_report

    registry = load_registry()
    months = load_operations_settings().report.months
    quality = load_quality_settings(registry=registry)
    link_rate = quality.params("link_rate")
    floors = {source: link_rate.per_source.get(source, link_rate.min_rate) for source in registry.sources}
    data = load_report_data(paths, months, floors)
    charts = build_charts(data, months)
    html = render_report(data, charts=charts, months=months, runbook_base_url=quality.runbook_base_url)
    return ReportResult(
        path=write_report(paths, html),
        charts=[name for name, chart in charts.items() if chart is not None],
        gate=(data.status or {}).get("gate"),
        published_version=(data.manifest or {}).get("version"),
    )
