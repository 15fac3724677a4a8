"""Silo checks: does each department's data still join the rest of the customer view?

A source whose records stop linking to customers other departments know (a renamed key, a
hashed email, a new id format) is a silo again, and every cross-channel figure built on it is
quietly wrong. These checks read the marts in the working database, before publishing.
"""

from __future__ import annotations

import duckdb
from pydantic import Field, ValidationInfo, field_validator

from cx_pipeline.identity.rules import load_identity_rules
from cx_pipeline.quality.base import SAMPLE_ROWS, CheckParams, Finding, Measurement, rate
from cx_pipeline.quality.catalog import CheckContext, warehouse_check
from cx_pipeline.lib.sql import sql_list, sql_literal
from cx_pipeline.quality.checks.params import known, registry_of

LINKS = ("marts", "customer_identity_links")
CUSTOMERS = ("marts", "dim_customers")
CONTACT_POINTS = ("marts", "customer_contact_points")


def _departments_sql(ctx: CheckContext) -> str:
    rows = ", ".join(
        f"({sql_literal(name)}, {sql_literal(spec.department)})" for name, spec in ctx.registry.sources.items()
    )
    return f"select * from (values {rows}) as departments(source, department)"


# --- link rate per source -------------------------------------------------------------------


class LinkRateParams(CheckParams):
    min_rate: float = Field(ge=0, le=1)
    per_source: dict[str, float] = Field(default_factory=dict)

    @field_validator("per_source")
    @classmethod
    def _sources_exist(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        known(value, registry_of(info).sources, "source")
        return value


def _link_rate_sql(ctx: CheckContext) -> str:
    return f"""
with departments as ({_departments_sql(ctx)}),
records as (
    select links.customer_id, links.source, links.source_record_id, links.match_rule, departments.department
    from marts.customer_identity_links as links
    inner join departments using (source)
),
customers as (
    select customer_id, count(distinct department) as departments from records group by customer_id
)
select records.*, customers.departments > 1 as known_elsewhere
from records inner join customers using (customer_id)"""


@warehouse_check(
    "link_rate",
    asset=LINKS,
    params=LinkRateParams,
    description=(
        "Per source, the share of records whose customer is also known to another department stays above "
        "its floor; below it, the source has become a silo."
    ),
)
def link_rate(con: duckdb.DuckDBPyConnection, params: LinkRateParams, ctx: CheckContext) -> Measurement:
    query = _link_rate_sql(ctx)
    counts = dict(
        (
            (source, (linked, total))
            for source, linked, total in con.execute(
                f"select source, count(*) filter (where known_elsewhere), count(*) from ({query}) group by source"
            ).fetchall()
        )
    )
    findings = []
    for source in ctx.registry.sources:
        linked, total = counts.get(source, (0, 0))
        note = "" if total else "no records"
        floor = params.per_source.get(source, params.min_rate)
        findings.append(Finding(source, rate(linked, total), floor, bound="min", count=linked, total=total, note=note))
    failing = [f.subject for f in findings if not f.passed]
    sample = None
    if failing:
        sample = con.sql(
            f"select customer_id, source, source_record_id, match_rule from ({query}) "
            f"where not known_elsewhere and source in ({sql_list(failing)}) "
            f"order by source, source_record_id limit {SAMPLE_ROWS}"
        ).pl()
    return Measurement(findings=findings, sample=sample, query=query.strip() + "\n-- where not known_elsewhere")


# --- siloed customers -----------------------------------------------------------------------


class SiloedCustomersParams(CheckParams):
    max_share: float = Field(ge=0, le=1)


@warehouse_check(
    "siloed_customers",
    asset=CUSTOMERS,
    reads=(CONTACT_POINTS,),
    params=SiloedCustomersParams,
    description="The share of identified customers known to one department only stays under its ceiling.",
)
def siloed_customers(con: duckdb.DuckDBPyConnection, params: SiloedCustomersParams, ctx: CheckContext) -> Measurement:
    # Customers known only by anonymous identifiers (a cookie, a device: `anonymous_identifiers`
    # in cx_pipeline/config/identity.yml) are not counted: nothing could join them to another department.
    anonymous = load_identity_rules(registry=ctx.registry).anonymous_identifiers
    query = f"""
with identified as (
    select distinct customer_id
    from marts.customer_contact_points
    where identifier_type not in ({sql_list(anonymous) or "''"})
)
select customers.customer_id, customers.department_count, customers.source_count, customers.email, customers.phone
from marts.dim_customers as customers
inner join identified using (customer_id)"""
    # fetchall: DuckDB 2 keeps a half-read result open and refuses the sample query below
    siloed, total = con.execute(
        f"select count(*) filter (where department_count = 1), count(*) from ({query})"
    ).fetchall()[0]
    finding = Finding("identified customers", rate(siloed, total), params.max_share, count=siloed, total=total)
    sample = None
    if not finding.passed:
        sample = con.sql(
            f"select * from ({query}) where department_count = 1 order by customer_id limit {SAMPLE_ROWS}"
        ).pl()
    return Measurement(findings=[finding], sample=sample, query=query.strip() + "\n-- where department_count = 1")
