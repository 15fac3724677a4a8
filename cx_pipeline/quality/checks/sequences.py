"""Impossible sequences on the customer timeline: events in the future, events before their cause."""

from __future__ import annotations

import re
from datetime import timedelta

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from cx_pipeline.ingest.registry import DEPARTMENTS
from cx_pipeline.quality.base import SAMPLE_ROWS, CheckParams, Finding, Measurement, rate
from cx_pipeline.quality.catalog import CheckContext, warehouse_check
from cx_pipeline.lib.sql import sql_list, sql_literal
from cx_pipeline.quality.checks.params import known, registry_of

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
        ).fetchall()[0]
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


# --- product use or support before any purchase ---------------------------------------------


class UseBeforePurchaseLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # share of customers with use events whose first one is earlier than their first purchase
    before_first_purchase: float = Field(ge=0, le=1)
    # share of customers with use events and no purchase recorded at all: the purchase lives in
    # a system that does not connect (a silo), or the use is not theirs (a wrong merge)
    without_purchase: float = Field(ge=0, le=1)


class UseBeforePurchaseParams(CheckParams):
    # how much earlier than the purchase day a use event may be (same-day entry, time zones)
    tolerance_days: int = Field(ge=0)
    use_events: Selector  # the touchpoints only a customer who bought can have
    max_rate: UseBeforePurchaseLimits


LIFECYCLE_SIGNALS = ("intermediate", "int_lifecycle__customer_signals")


def _use_before_purchase_sql(params: UseBeforePurchaseParams) -> str:
    # The recorded purchase: an order, a signed contract or a CRM customer stage; the lifecycle
    # phase itself also counts use as evidence of a purchase, so it cannot be the yardstick here.
    return f"""
with first_use as (
    select customer_id, min(occurred_at) as first_use_at, arg_min(source, occurred_at) as first_use_source
    from marts.fct_touchpoints as t
    where {params.use_events.sql("t")}
    group by customer_id
),
purchases as (
    select customer_id, least(first_order_on, crm_contract_on, crm_purchased_on) as first_purchase_on
    from intermediate.int_lifecycle__customer_signals
)
select first_use.customer_id, lifecycle.phase, lifecycle.sub_stage, first_use.first_use_source,
    first_use.first_use_at, purchases.first_purchase_on,
    purchases.first_purchase_on is null as without_purchase,
    purchases.first_purchase_on > first_use.first_use_at::date + {params.tolerance_days} as before_first_purchase
from first_use
left join purchases using (customer_id)
left join marts.customer_lifecycle as lifecycle using (customer_id)"""


@warehouse_check(
    "use_before_purchase",
    asset=("marts", "customer_lifecycle"),
    reads=(TOUCHPOINTS, LIFECYCLE_SIGNALS),
    params=UseBeforePurchaseParams,
    description=(
        "Among customers who used the product or opened a support case, the shares whose first such "
        "event comes before their first recorded purchase, or who have no purchase recorded at all, "
        "stay under their ceilings."
    ),
)
def use_before_purchase(
    con: duckdb.DuckDBPyConnection, params: UseBeforePurchaseParams, ctx: CheckContext
) -> Measurement:
    query = _use_before_purchase_sql(params)
    users, before, without = con.execute(
        f"select count(*), count(*) filter (where before_first_purchase), count(*) filter (where without_purchase) "
        f"from ({query})"
    ).fetchall()[0]  # fetchone() leaves the result open, and the sample query below would be refused
    notes = {
        "before_first_purchase": "first use or support case earlier than the first order, contract or CRM customer stage",
        "without_purchase": "used the product or opened a support case, with no order, contract or CRM customer stage",
    }
    limits = params.max_rate.model_dump()
    findings = [
        Finding(name, rate(count, users), limits[name], count=count, total=users, note=notes[name])
        for name, count in (("before_first_purchase", before), ("without_purchase", without))
    ]
    failing = [f.subject for f in findings if not f.passed]
    sample = (
        con.sql(
            f"select * from ({query}) where {' or '.join(failing)} order by customer_id limit {SAMPLE_ROWS}"
        ).pl()
        if failing
        else None
    )
    return Measurement(findings=findings, sample=sample, query=query)
