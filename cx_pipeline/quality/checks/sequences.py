"""Impossible sequences on the customer timeline: events in the future, events before their cause."""

from __future__ import annotations

import re
from datetime import timedelta

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from cx_pipeline.ingest.registry import DEPARTMENTS
from cx_pipeline.quality.base import SAMPLE_ROWS, CheckParams, Finding, Measurement, rate
from cx_pipeline.quality.catalog import CheckContext, warehouse_check
from cx_pipeline.quality.checks.params import known, registry_of, sql_list, sql_literal

TOUCHPOINTS = ("marts", "fct_touchpoints")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# --- events in the future -------------------------------------------------------------------


class FutureEventsParams(CheckParams):
    # clock skew allowed between a source system and the pipeline
    tolerance_hours: float = Field(ge=0)
    max_events: int = Field(ge=0)


@warehouse_check(
    "future_events",
    asset=TOUCHPOINTS,
    params=FutureEventsParams,
    description="No source has more touchpoints dated after the check ran (plus a clock-skew tolerance) than allowed.",
)
def future_events(con: duckdb.DuckDBPyConnection, params: FutureEventsParams, ctx: CheckContext) -> Measurement:
    cutoff = ctx.as_of + timedelta(hours=params.tolerance_hours)
    query = f"select * from marts.fct_touchpoints where occurred_at > {sql_literal(cutoff.isoformat())}::timestamptz"
    counts = dict(con.execute(f"select source, count(*) from ({query}) group by source").fetchall())
    findings = [
        Finding(
            source,
            float(counts.get(source, 0)),
            float(params.max_events),
            note="touchpoints in the future" if counts.get(source) else "",
        )
        for source in ctx.registry.sources
    ]
    sample = None
    if any(not f.passed for f in findings):
        sample = con.sql(f"{query} order by occurred_at desc limit {SAMPLE_ROWS}").pl()
    return Measurement(
        findings=findings, sample=sample, query=query, facts={"cutoff": cutoff.isoformat(timespec="seconds")}
    )


# --- events before what must precede them ---------------------------------------------------


class Selector(BaseModel):
    """Touchpoints matching every key given; within a key, any of the listed values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[str] | None = None
    departments: list[str] | None = None
    touchpoint_types: list[str] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Selector:
        if not (self.sources or self.departments or self.touchpoint_types):
            raise ValueError("select by at least one of sources, departments, touchpoint_types")
        return self

    @field_validator("sources")
    @classmethod
    def _sources_exist(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        known(value or [], registry_of(info).sources, "source")
        return value

    @field_validator("departments")
    @classmethod
    def _departments_exist(cls, value: list[str] | None) -> list[str] | None:
        known(value or [], DEPARTMENTS, "department")
        return value

    @field_validator("touchpoint_types")
    @classmethod
    def _snake_case(cls, value: list[str] | None) -> list[str] | None:
        for kind in value or []:
            if not _NAME.match(kind):
                raise ValueError(f"touchpoint type {kind!r} is not snake_case")
        return value

    def sql(self, alias: str) -> str:
        parts = [
            f"{alias}.{column} in ({sql_list(values)})"
            for column, values in (
                ("source", self.sources),
                ("department", self.departments),
                ("touchpoint_type", self.touchpoint_types),
            )
            if values
        ]
        return " and ".join(parts)


class SequenceRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME.pattern)
    description: str
    event: Selector  # the touchpoints that must not come first...
    must_follow: Selector  # ...before the customer's earliest one of these
    max_rate: float = Field(ge=0, le=1)


class TimelineOrderParams(CheckParams):
    # how much earlier than its anchor an event may be before it counts (clock skew, same-day entry)
    tolerance_hours: float = Field(ge=0)
    rules: list[SequenceRule] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, value: list[SequenceRule]) -> list[SequenceRule]:
        names = [rule.name for rule in value]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate rule names in {names}")
        return value


def _rule_sql(rule: SequenceRule, tolerance_hours: float) -> str:
    return f"""
with anchors as (
    select customer_id, min(occurred_at) as must_follow_at
    from marts.fct_touchpoints as t
    where {rule.must_follow.sql("t")}
    group by customer_id
)
select t.customer_id, t.source, t.source_record_id, t.touchpoint_type, t.occurred_at, anchors.must_follow_at,
    t.occurred_at < anchors.must_follow_at - interval '{tolerance_hours} hours' as out_of_order
from marts.fct_touchpoints as t
inner join anchors using (customer_id)
where {rule.event.sql("t")}"""


@warehouse_check(
    "timeline_order",
    asset=TOUCHPOINTS,
    params=TimelineOrderParams,
    description=(
        "For each sequence rule, the share of a customer's events that come before what must precede "
        "them (an order before any first contact, usage before the first order) stays under its ceiling."
    ),
)
def timeline_order(con: duckdb.DuckDBPyConnection, params: TimelineOrderParams, ctx: CheckContext) -> Measurement:
    findings, samples = [], []
    for rule in params.rules:
        query = _rule_sql(rule, params.tolerance_hours)
        violations, total = con.execute(
            f"select count(*) filter (where out_of_order), count(*) from ({query})"
        ).fetchone()
        finding = Finding(
            rule.name, rate(violations, total), rule.max_rate, count=violations, total=total, note=rule.description
        )
        findings.append(finding)
        if not finding.passed:
            samples.append(
                f"select {sql_literal(rule.name)} as rule, * exclude (out_of_order) from ({query}) "
                f"where out_of_order order by customer_id limit {SAMPLE_ROWS}"
            )
    sample = con.sql(" union all ".join(f"({s})" for s in samples)).pl().head(SAMPLE_ROWS) if samples else None
    return Measurement(
        findings=findings,
        sample=sample,
        query="\n\n".join(
            f"-- {rule.name}{_rule_sql(rule, params.tolerance_hours)}\n-- where out_of_order" for rule in params.rules
        ),
    )
