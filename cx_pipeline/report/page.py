"""The CX report page: one HTML file with its charts, styles and links inside, readable offline.

No script, stylesheet, font or image is fetched: charts are SVG pictures embedded as data: URIs,
the styles are inline. Links point at the runbooks (the configured runbook URL, else the file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from cx_pipeline.paths import PROJECT_ROOT, DataPaths
from cx_pipeline.quality.status import FAILED_ERROR, FAILED_WARN, NOT_EVALUATED, OUTCOMES, PASSED
from cx_pipeline.report import charts
from cx_pipeline.report.charts import Chart
from cx_pipeline.report.data import ReportData

TEMPLATE = "report.html.j2"
# The checks table lists what needs attention first.
DISPLAY_ORDER = {FAILED_ERROR: 0, NOT_EVALUATED: 1, FAILED_WARN: 2, PASSED: 3}


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Banner:
    level: str  # ok, warn, bad
    title: str
    text: str


def _percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}" if digits else f"{round(value):,}"


def runbook_href(runbook: str, base_url: str | None) -> str:
    return base_url.rstrip("/") + "/" + runbook if base_url else (PROJECT_ROOT / runbook).as_uri()


def _banner(data: ReportData) -> Banner:
    status, manifest = data.status, data.manifest
    live = f"version {manifest['version']} published {manifest['published_at']}" if manifest else None
    if status is None:
        return Banner("warn", "Quality status unknown", "No quality status has been recorded yet (data/quality/status.json).")
    counts = status["counts"]
    blocked = status["gate"] == "closed"
    if blocked:
        failing = counts[FAILED_ERROR] + counts[NOT_EVALUATED]
        reads = f"BI keeps reading {live}." if live else "Nothing has been published yet."
        return Banner(
            "bad",
            f"Publishing refused: {failing} blocking check(s) did not pass",
            f"The latest data did not pass the quality gate; {reads} The failed checks and their runbooks are below.",
        )
    if counts[FAILED_WARN]:
        return Banner(
            "warn",
            f"Published with {counts[FAILED_WARN]} warning(s)",
            f"Every blocking check passed; {counts[FAILED_WARN]} warning check(s) failed (below). Live: {live}.",
        )
    return Banner("ok", "All checks passed", f"Every one of the {counts[PASSED]} checks passed. Live: {live}.")


def _tiles(data: ReportData) -> list[Tile]:
    customers, kpis = data.one("customers"), data.one("overall_kpis")
    siloed = data.one("siloed").get("siloed_customers")
    tiles = [
        Tile("customers", _number(customers.get("customers")), "after identity resolution"),
        Tile(
            "known to several departments",
            _percent(customers.get("known_to_several_departments")),
            "the connected share of the customer base",
        ),
        Tile("siloed customers", _number(siloed), "known to one department only"),
        Tile("NPS", _number(kpis.get("nps"), 1), f"{_number(kpis.get('nps_respondents'))} respondents"),
        Tile("average CSAT", _number(kpis.get("average_csat"), 2), f"{_number(kpis.get('csat_responses'))} responses"),
    ]
    if data.match_quality:
        identified = data.match_quality.get("identified_records") or {}
        tiles.append(
            Tile(
                "match precision / recall",
                f"{_percent(data.match_quality['precision'])} / {_percent(data.match_quality['recall'])}",
                f"identified records: recall {_percent(identified.get('recall'))}",
            )
        )
    if data.phase_accuracy:
        customers_accuracy = (data.phase_accuracy.get("customers") or {}).get("phase_accuracy")
        tiles.append(Tile("lifecycle phase accuracy", _percent(customers_accuracy), "against the sample's truth"))
    return tiles


def _check_frame(status: dict | None) -> pl.DataFrame | None:
    if not status or not status["checks"]:
        return None
    order = {name: i for i, name in enumerate(OUTCOMES)}
    rows = pl.DataFrame([{"kind": c["kind"], "outcome": c["outcome"]} for c in status["checks"]])
    return (
        rows.group_by("kind", "outcome")
        .len("count")
        .with_columns(outcome_order=pl.col.outcome.replace_strict(order, return_dtype=pl.Int64))
        .sort("kind", "outcome_order")
    )


def build_charts(data: ReportData, months: int) -> dict[str, Chart | None]:
    """Every chart of the page, None where its data is absent (nothing published, no ground truth)."""
    tables = data.tables
    built: dict[str, Chart | None] = dict.fromkeys(
        ["funnel", "phases", "milestones", "transitions", "silos", "link_rates", "match_quality", "links_by_rule", "checks"]
    )
    if data.published:
        built["funnel"] = charts.funnel(tables["funnel"])
        built["phases"] = charts.phase_distribution(tables["stages"])
        if tables["milestones"].height:
            built["milestones"] = charts.milestones(tables["milestones"], months)
        if tables["transitions"].height:
            built["transitions"] = charts.recorded_transitions(tables["transitions"])
        built["silos"] = charts.silo_heatmap(tables["coverage"])
        built["link_rates"] = charts.link_rates(tables["link_rates"], data.link_rate_floors)
        built["links_by_rule"] = charts.links_by_rule(tables["links_by_rule"])
    if data.match_quality:
        built["match_quality"] = charts.match_quality(data.match_quality)
    check_frame = _check_frame(data.status)
    if check_frame is not None:
        built["checks"] = charts.check_status(check_frame)
    return built


def render_report(
    data: ReportData, *, charts: dict[str, Chart | None], months: int, runbook_base_url: str | None
) -> str:
    environment = Environment(
        loader=PackageLoader("cx_pipeline.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["percent"] = _percent
    environment.filters["number"] = _number
    environment.globals["runbook_href"] = lambda runbook: runbook_href(runbook, runbook_base_url)
    checks = (data.status or {}).get("checks", [])
    return environment.get_template(TEMPLATE).render(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        data=data,
        banner=_banner(data),
        tiles=_tiles(data) if data.published else [],
        charts=charts,
        failed_checks=sorted(
            (c for c in checks if c["outcome"] != PASSED), key=lambda c: (DISPLAY_ORDER[c["outcome"]], c["asset"])
        ),
        checks=sorted(checks, key=lambda c: (DISPLAY_ORDER[c["outcome"]], c["kind"], c["asset"], c["check"])),
        months=months,
        published_db=data.paths.published_db,
    )


def write_report(paths: DataPaths, html: str) -> Path:
    """Written beside and renamed into place: a reader never opens half a page."""
    target = paths.report
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staging.write_text(html, encoding="utf-8")
    staging.replace(target)
    return target
