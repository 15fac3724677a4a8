"""Consistency checks: do a customer's records agree with each other, and are identifiers real?"""

from __future__ import annotations

import duckdb
from pydantic import Field, ValidationInfo, field_validator

from cx_pipeline.ingest.registry import IDENTIFIER_TYPES
from cx_pipeline.quality.base import SAMPLE_ROWS, CheckParams, Finding, Measurement, rate
from cx_pipeline.quality.catalog import CheckContext, warehouse_check
from cx_pipeline.lib.sql import sql_list
from cx_pipeline.quality.checks.params import known, registry_of

GUARDS = ("junk_value", "junk_pattern", "too_many_records", "too_many_neighbours")


# --- conflicting attributes -----------------------------------------------------------------


class ConflictingAttributesParams(CheckParams):
    # attribute -> highest share of customers (with two or more records carrying it) whose
    # records disagree on its value. Attributes people legitimately have several of (emails,
    # name spellings) belong elsewhere: the golden record picks one.
    max_rate: dict[str, float] = Field(min_length=1)

    @field_validator("max_rate")
    @classmethod
    def _attributes_exist(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        registry = registry_of(info)
        known(value, {f.name for s in registry.sources.values() for f in s.attribute_fields}, "attribute")
        for attribute, limit in value.items():
            if not 0 <= limit <= 1:
                raise ValueError(f"{attribute}: a rate between 0 and 1, got {limit}")
        return value


@warehouse_check(
    "conflicting_attributes",
    asset=("marts", "dim_customers"),
    reads=(("staging", "stg_cx__attributes"), ("marts", "customer_identity_links")),
    params=ConflictingAttributesParams,
    description=(
        "Per attribute (country, postal code...), the share of customers whose records disagree on it "
        "stays under its ceiling; above it, records of different people are being merged or a source "
        "writes wrong values."
    ),
)
def conflicting_attributes(
    con: duckdb.DuckDBPyConnection, params: ConflictingAttributesParams, ctx: CheckContext
) -> Measurement:
    query = f"""
with observed as (
    select
        links.customer_id, attributes.attribute, attributes.attribute_value,
        attributes.source, attributes.source_record_id
    from staging.stg_cx__attributes as attributes
    inner join marts.customer_identity_links as links using (source, source_record_id)
    where attributes.attribute in ({sql_list(params.max_rate)})
        and nullif(trim(attributes.attribute_value), '') is not null
)
select
    customer_id,
    attribute,
    count(distinct source || ':' || source_record_id) as records,
    count(distinct attribute_value) as distinct_values,
    string_agg(distinct attribute_value, ' | ' order by attribute_value) as values_seen,
    string_agg(distinct source, ', ' order by source) as sources
from observed
group by customer_id, attribute"""
    counts = {
        attribute: (conflicted, comparable)
        for attribute, conflicted, comparable in con.execute(
            f"select attribute, count(*) filter (where distinct_values > 1), count(*) from ({query}) "
            "where records >= 2 group by attribute"
        ).fetchall()
    }
    findings = [
        Finding(
            attribute,
            rate(*counts.get(attribute, (0, 0))),
            limit,
            count=counts.get(attribute, (0, 0))[0],
            total=counts.get(attribute, (0, 0))[1],
        )
        for attribute, limit in params.max_rate.items()
    ]
    failing = [f.subject for f in findings if not f.passed]
    sample = None
    if failing:
        sample = con.sql(
            f"select * from ({query}) where distinct_values > 1 and attribute in ({sql_list(failing)}) "
            f"order by attribute, customer_id limit {SAMPLE_ROWS}"
        ).pl()
    return Measurement(findings=findings, sample=sample, query=query.strip() + "\n-- where distinct_values > 1")


# --- junk identifiers -----------------------------------------------------------------------


class JunkIdentifiersParams(CheckParams):
    max_rate: float = Field(ge=0, le=1)
    per_type: dict[str, float] = Field(default_factory=dict)
    # which over-merge guards (cx_pipeline/config/identity.yml) count as junk
    guards: list[str] = Field(min_length=1)

    @field_validator("per_type")
    @classmethod
    def _types_exist(cls, value: dict[str, float]) -> dict[str, float]:
        known(value, IDENTIFIER_TYPES, "identifier type")
        return value

    @field_validator("guards")
    @classmethod
    def _guards_exist(cls, value: list[str]) -> list[str]:
        known(value, GUARDS, "guard")
        return value


@warehouse_check(
    "junk_identifiers",
    asset=("marts", "customer_contact_points"),
    reads=(("intermediate", "int_identity__identifiers_guarded"),),
    params=JunkIdentifiersParams,
    description=(
        "Per identifier type, the share of identifier values the identity guards flag as junk "
        "(placeholders, role accounts) stays under its ceiling; above it, a form or an export "
        "is filling in defaults."
    ),
)
def junk_identifiers(con: duckdb.DuckDBPyConnection, params: JunkIdentifiersParams, ctx: CheckContext) -> Measurement:
    junk = f"guard in ({sql_list(params.guards)})"
    rows = con.execute(
        f"select identifier_type, count(*) filter (where {junk}), count(*) "
        "from intermediate.int_identity__identifiers_guarded group by identifier_type order by identifier_type"
    ).fetchall()
    findings = [
        Finding(kind, rate(flagged, total), params.per_type.get(kind, params.max_rate), count=flagged, total=total)
        for kind, flagged, total in rows
    ]
    failing = [f.subject for f in findings if not f.passed]
    query = f"""
select identifier_type, identifier_value, guard, count(*) as records, string_agg(distinct source, ', ') as sources
from intermediate.int_identity__identifiers_guarded
where {junk}
group by all
order by records desc"""
    sample = None
    if failing:
        sample = con.sql(
            f"select * from ({query}) where identifier_type in ({sql_list(failing)}) limit {SAMPLE_ROWS}"
        ).pl()
    return Measurement(
        findings=findings, sample=sample, query=query.strip(), facts={"guards_counted": ", ".join(params.guards)}
    )
