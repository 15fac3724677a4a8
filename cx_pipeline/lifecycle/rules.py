"""Lifecycle rules (cx_pipeline/config/lifecycle.yml): loaded, validated, handed to dbt as a var.

The models under dbt_project/models/intermediate/lifecycle/ render their SQL from the `lifecycle`
var. Validation checks every name against the source registry (sources, touchpoint types, CRM
stages, currencies), so a typo fails with the file and key instead of a rule that never fires.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cx_pipeline.ingest.registry import Registry, load_registry
from cx_pipeline.paths import CONFIG_DIR

LIFECYCLE_RULES = CONFIG_DIR / "lifecycle.yml"
DBT_VAR = "lifecycle"
CRM_SOURCE = "crm_contacts"
CRM_STAGE_FIELD = "stage"
SUPPORT_SOURCE = "support_cases"
SEVERITY_FIELD = "severity"

# The shape of the file: section -> key -> kind. Kinds are checked by _value().
SCHEMA: dict[str, Any] = {
    "as_of": "as_of",
    "timezone": "timezone",
    "not_activity": "touchpoints",
    "purchase": {
        "anonymous_touchpoints": "touchpoints",
        "engaged_crm_stages": "crm_stages",
        "evaluating_crm_stages": "crm_stages",
        "evaluating_touchpoints": "touchpoints",
    },
    "use": {
        "purchased_crm_stages": "crm_stages",
        "customer_only_sources": "sources",
        "successful_use_day": {"min_active_minutes": "count", "min_feature_events": "count"},
        "at_risk": {
            "min_days_since_first_success": "count",
            "min_days_inactive": "count",
            "low_csat_at_most": "count",
            "low_csat_within_days": "positive",
            "severe_case_severities": "case_severities",
            "severe_case_open_days": "count",
        },
    },
    "expand": {
        "promoter_nps_at_least": "count",
        "renewal_every_days": "positive",
        "renewal_tolerance_days": "count",
        "upsell_min_share_of_first_order": "share",
    },
    "lapsed": {
        "churned_crm_stages": "crm_stages",
        "inactive_days": "positive",
        "no_order_days": "positive",
    },
}


class LifecycleRulesError(ValueError):
    """The lifecycle rules file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class LifecycleRules:
    path: Path
    rules: dict[str, Any]  # the validated document, in the file's shape

    @property
    def as_of(self) -> dt.date | None:
        """The configured as-of day, or None for `latest`."""
        value = self.rules["as_of"]
        return None if value == "latest" else dt.date.fromisoformat(value)

    def dbt_vars(self) -> dict[str, Any]:
        """The rules as the dbt `lifecycle` var (plain JSON types)."""
        return {DBT_VAR: self.rules}


def _fail(path: Path, key: str, message: str) -> LifecycleRulesError:
    return LifecycleRulesError(f"{path}: {key}: {message}")


class _Checker:
    def __init__(self, path: Path, registry: Registry) -> None:
        self.path = path
        self.registry = registry

    def fail(self, key: str, message: str) -> LifecycleRulesError:
        return _fail(self.path, key, message)

    def section(self, key: str, doc: Any, schema: dict[str, Any]) -> dict[str, Any]:
        where = key or "<top>"
        if not isinstance(doc, dict):
            raise self.fail(where, f"expected a mapping with {sorted(schema)}")
        unknown, missing = set(doc) - set(schema), set(schema) - set(doc)
        if unknown:
            raise self.fail(where, f"unknown key(s) {sorted(unknown)}; expected {sorted(schema)}")
        if missing:
            raise self.fail(where, f"missing key(s) {sorted(missing)}")
        out = {}
        for name, kind in schema.items():
            sub = f"{key}.{name}" if key else name
            out[name] = self.section(sub, doc[name], kind) if isinstance(kind, dict) else self.value(sub, doc[name], kind)
        return out

    def value(self, key: str, value: Any, kind: str) -> Any:
        return getattr(self, f"_{kind}")(key, value)

    def _as_of(self, key: str, value: Any) -> str:
        if isinstance(value, dt.date):  # YAML reads an unquoted 2026-06-30 as a date
            return value.isoformat()
        if value == "latest":
            return value
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise self.fail(key, f"expected `latest` or a date YYYY-MM-DD, got {value!r}") from None

    def _timezone(self, key: str, value: Any) -> str:
        try:
            zoneinfo.ZoneInfo(str(value))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, f"unknown time zone {value!r}") from None
        return str(value)

    def _count(self, key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, f"expected a whole number >= 0, got {value!r}")
        return value

    def _positive(self, key: str, value: Any) -> int:
        if self._count(key, value) < 1:
            raise self.fail(key, f"expected a whole number >= 1, got {value!r}")
        return value

    def _strings(self, key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "expected a non-empty list of names")
        return list(value)

    def _source(self, key: str, name: str) -> None:
        if name not in self.registry.sources:
            raise self.fail(key, f"unknown source {name!r}; the registry declares {sorted(self.registry.sources)}")

    def _sources(self, key: str, value: Any) -> list[str]:
        names = self._strings(key, value)
        for i, name in enumerate(names):
            self._source(f"{key}[{i}]", name)
        return names

    def _touchpoints(self, key: str, value: Any) -> dict[str, list[str]]:
        """{source: [touchpoint type, ...]} with types the source can produce."""
        if not isinstance(value, dict) or not value:
            raise self.fail(key, "expected a mapping of source to a list of touchpoint types")
        out = {}
        for source, types in value.items():
            self._source(f"{key}.{source}", source)
            possible = self._touchpoint_types(source)
            for i, name in enumerate(self._strings(f"{key}.{source}", types)):
                if name not in possible:
                    raise self.fail(f"{key}.{source}[{i}]", f"{source} has no touchpoint type {name!r}; "
                                                            f"it has {sorted(possible)}")
            out[source] = list(types)
        return out

    def _touchpoint_types(self, source: str) -> set[str]:
        spec = self.registry.sources[source]
        if spec.touchpoint.type_value is not None:
            return {spec.touchpoint.type_value}
        return set(spec.field(spec.touchpoint.type_field).allowed or ())

    def _allowed_values(self, key: str, value: Any, source: str, field: str, what: str) -> list[str]:
        """A non-empty list of values the registry allows in `source`.`field`."""
        allowed = set(self.registry.sources[source].field(field).allowed or ())
        names = self._strings(key, value)
        for i, name in enumerate(names):
            if name not in allowed:
                raise self.fail(f"{key}[{i}]", f"unknown {what} {name!r}; {source}.{field} allows {sorted(allowed)}")
        return names

    def _crm_stages(self, key: str, value: Any) -> list[str]:
        return self._allowed_values(key, value, CRM_SOURCE, CRM_STAGE_FIELD, "CRM stage")

    def _case_severities(self, key: str, value: Any) -> list[str]:
        return self._allowed_values(key, value, SUPPORT_SOURCE, SEVERITY_FIELD, "case severity")

    def _share(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.fail(key, f"expected a share > 0 (0.25 is a quarter), got {value!r}")
        return value


def parse_lifecycle_rules(doc: Any, path: Path, registry: Registry) -> LifecycleRules:
    checker = _Checker(path, registry)
    for source, what in ((CRM_SOURCE, "CRM stages"), (SUPPORT_SOURCE, "case severities")):
        if source not in registry.sources:
            raise checker.fail("<top>", f"the lifecycle rules read {what} from {source!r}, absent from the registry")
    rules = checker.section("", doc, SCHEMA)
    overlap = set(rules["purchase"]["engaged_crm_stages"]) & set(rules["purchase"]["evaluating_crm_stages"])
    if overlap:
        raise checker.fail("purchase", f"CRM stage(s) {sorted(overlap)} both engaged and evaluating")
    return LifecycleRules(path=path, rules=rules)


def load_lifecycle_rules(path: Path | str = LIFECYCLE_RULES, registry: Registry | None = None) -> LifecycleRules:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise _fail(path, "<yaml>", str(error)) from None
    return parse_lifecycle_rules(doc, path, registry or load_registry())
