"""What the CX report shows, read from what BI users read: the published marts and their manifest,
plus the reports beside them (match quality, phase accuracy) and the quality gate's latest verdict
(data/quality/status.json, written by the quality/check_status asset).

The charts show the published version, never the working database: data that failed a blocking
check is not shown as if it were the customer base. A refused publish shows as the gate's red
status above charts of the last good version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from cx_pipeline.paths import DataPaths

MILESTONES = {
    "first_touch_on": "first touch",
    "purchased_on": "purchased",
    "first_value_on": "first value",
    "expanded_on": "expanded",
    "lapsed_on": "lapsed",
}

QUERIES = {
    "funnel": """
        select step_order, step, phase, customers_reached, conversion_from_previous, conversion_from_first
        from lifecycle_funnel order by step_order""",
    "stages": """
        select s.phase, s.phase_label_en as phase_label, s.sub_stage, s.stage_label_en as stage_label,
               s.phase_order, s.stage_order, count(l.customer_id) as customers
        from dim_lifecycle_stages as s left join customer_lifecycle as l using (sub_stage)
        group by all order by s.phase_order, s.stage_order""",
    "transitions": """
        select transitioned_on, direction, to_phase, count(*) as customers
        from customer_phase_transitions where direction <> 'first_seen'
        group by all order by transitioned_on""",
    "coverage": "select channel, department, customers_in_channel, coverage_rate from channel_department_coverage",
    "link_rates": "select source, department, channel, records, linked_records, link_rate from source_link_rates order by source",
    "links_by_rule": """
        select match_rule, count(*) as records from customer_identity_links group by all order by records desc""",
    "overall_kpis": "select nps, nps_respondents, average_csat, csat_responses from cx_kpis where phase = 'all' and channel = 'all'",
    "customers": """
        select count(*) as customers, avg((department_count > 1)::int) as known_to_several_departments
        from dim_customers""",
    "siloed": "select count(distinct customer_id) as siloed_customers from siloed_customers",
    "as_of": "select max(as_of_date) as as_of_date from customer_lifecycle",
}


def _milestones_sql(months: int) -> str:
    unpivoted = " union all ".join(
        f"select '{label}' as milestone, {column} as day from customer_lifecycle where {column} is not null"
        for column, label in MILESTONES.items()
    )
    return f"""
        with days as ({unpivoted}), as_of as (select max(as_of_date) as as_of_date from customer_lifecycle)
        select date_trunc('month', day)::date as month, milestone, count(*) as customers
        from days, as_of
        where day > as_of.as_of_date - interval {int(months)} month
        group by all order by month, milestone"""


@dataclass
class ReportData:
    paths: DataPaths
    manifest: dict[str, Any] | None
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    match_quality: dict[str, Any] | None = None
    phase_accuracy: dict[str, Any] | None = None
    status: dict[str, Any] | None = None
    link_rate_floors: dict[str, float] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        return bool(self.tables)

    def one(self, table: str) -> dict[str, Any]:
        frame = self.tables.get(table)
        return frame.row(0, named=True) if frame is not None and frame.height else {}

    @property
    def as_of(self) -> date | None:
        return self.one("as_of").get("as_of_date")


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def read_published_tables(database: Path, months: int) -> dict[str, pl.DataFrame]:
    """Every table the report charts, from the published file (opened read-only, as BI does)."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {name: con.sql(query).pl() for name, query in QUERIES.items()}
        tables["milestones"] = con.sql(_milestones_sql(months)).pl()
    return tables


def load_report_data(paths: DataPaths, months: int, link_rate_floors: dict[str, float]) -> ReportData:
    manifest = _read_json(paths.published / "manifest.json")
    tables = read_published_tables(paths.published_db, months) if paths.published_db.is_file() else {}
    return ReportData(
        paths=paths,
        manifest=manifest,
        tables=tables,
        match_quality=_read_json(paths.identity / "match_quality.json"),
        phase_accuracy=_read_json(paths.lifecycle / "phase_accuracy.json"),
        status=_read_json(paths.quality_status),
        link_rate_floors=link_rate_floors,
    )
