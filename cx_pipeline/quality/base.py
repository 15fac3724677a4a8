"""What every quality check produces: figures measured against limits, and the rows behind them.

A check measures one or more *findings* (a source's link rate, an attribute's conflict rate, a
failed expectation), each against the limit cx_pipeline/config/quality.yml sets for it. The check
passes when every finding does. Nothing here knows Dagster: cx_pipeline/defs/quality.py turns a
Measurement into an asset check result, a results file and, when it failed, an alert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

SAMPLE_ROWS = 10

Severity = Literal["error", "warn"]


class CheckParams(BaseModel):
    """Settings every check takes; each check extends it with its own thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # error: a failure blocks publishing; warn: it alerts but the marts are still published.
    severity: Severity


@dataclass(frozen=True)
class Finding:
    """One measured figure against its limit: `value` must stay at or below (max) / above (min) `limit`."""

    subject: str  # what was measured: a source, an attribute, a rule, an expectation
    value: float
    limit: float
    bound: Literal["max", "min"] = "max"
    count: int | None = None  # the rows or customers behind the value, when it is a rate
    total: int | None = None
    note: str = ""

    @property
    def passed(self) -> bool:
        if math.isnan(self.value):
            return False
        return self.value <= self.limit if self.bound == "max" else self.value >= self.limit

    def describe(self) -> str:
        if math.isnan(self.value):
            return f"{self.subject}: not measured" + (f" - {self.note}" if self.note else "")
        relation = ">" if self.bound == "max" else "<"
        ratio = f" ({self.count:,} of {self.total:,})" if self.count is not None and self.total is not None else ""
        verdict = (
            f"{format_value(self.value)}{ratio}"
            if self.passed
            else f"{format_value(self.value)}{ratio} {relation} {self.bound} {format_value(self.limit)}"
        )
        return f"{self.subject}: {verdict}" + (f" - {self.note}" if self.note else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "value": None if math.isnan(self.value) else self.value,
            "limit": self.limit,
            "bound": self.bound,
            "count": self.count,
            "total": self.total,
            "passed": self.passed,
            "note": self.note,
        }


@dataclass
class Measurement:
    findings: list[Finding]
    sample: pl.DataFrame | None = None  # the first rows behind the failing findings
    query: str | None = None  # SQL an operator can run to see every such row
    facts: dict[str, Any] = field(default_factory=dict)  # figures shown beside the findings
    details: dict[str, Any] | None = None  # the full machine-readable result (e.g. GX validation)

    @property
    def passed(self) -> bool:
        return all(f.passed for f in self.findings)

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if not f.passed]

    def summary(self, check: str) -> str:
        failing = self.failing
        if not failing:
            return f"{check}: passed ({len(self.findings)} measured)"
        shown = "; ".join(f.describe() for f in failing[:5])
        more = f"; and {len(failing) - 5} more" if len(failing) > 5 else ""
        return f"{check}: {len(failing)} of {len(self.findings)} failed: {shown}{more}"


def rate(count: int, total: int) -> float:
    """A share that is 0 when there is nothing to measure (an empty source breaks no rule)."""
    return count / total if total else 0.0


def format_value(value: float) -> str:
    """A figure for people: whole numbers with thousands separators, rates to four places."""
    if math.isnan(value):
        return "n/a"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4f}"
