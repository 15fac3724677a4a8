"""Privacy checks: no raw email address or phone number reaches the published marts."""

from __future__ import annotations

import re

import duckdb
from pydantic import Field, field_validator

from cx_pipeline.privacy.pii_scan import scan_table
from cx_pipeline.quality.base import CheckParams, Finding, Measurement
from cx_pipeline.quality.catalog import CheckContext, mart_check


class PiiScanParams(CheckParams):
    # kind -> regular expressions (RE2, as DuckDB reads them) that match a raw value of that kind
    # anywhere in a text value. A keyed hash (64 hex characters) must match none of them.
    patterns: dict[str, list[str]] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind, regexes in value.items():
            if not regexes:
                raise ValueError(f"{kind}: at least one pattern")
            for regex in regexes:
                try:
                    re.compile(regex)
                except re.error as error:
                    raise ValueError(f"{kind}: invalid regular expression {regex!r}: {error}") from None
        return value


@mart_check(
    "pii_scan",
    params=PiiScanParams,
    description=(
        "No text column of the mart holds a raw email address or phone number: emails and phones are "
        "published as keyed hashes (docs/privacy.md)."
    ),
)
def pii_scan(con: duckdb.DuckDBPyConnection, mart: str, params: PiiScanParams, ctx: CheckContext) -> Measurement:
    hits, scanned = scan_table(con, "marts", mart, params.patterns)
    findings = [
        Finding(
            subject=f"{hit.column} ({hit.kind})",
            value=float(hit.values),
            limit=0.0,
            note=f"raw {hit.kind} values, e.g. {', '.join(hit.examples)}",
        )
        for hit in hits
    ] or [Finding(subject=f"{scanned} text columns", value=0.0, limit=0.0)]
    kinds = ", ".join(params.patterns)
    return Measurement(
        findings=findings,
        facts={"text_columns_scanned": scanned, "kinds": kinds},
        query=(
            f"-- the patterns: cx_pipeline/config/quality.yml checks.pii_scan.patterns\n"
            f"select * from marts.\"{mart}\" where regexp_matches(<column>, '<pattern>') limit 100"
        ),
    )
