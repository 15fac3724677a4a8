"""Survivorship rules (cx_pipeline/config/survivorship.yml): loaded, validated, handed to dbt.

Like the identity rules, dbt receives them as a var (`survivorship`); the golden-record model
renders its ranking from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cx_pipeline.ingest.registry import Registry, load_registry
from cx_pipeline.paths import CONFIG_DIR

SURVIVORSHIP_RULES = CONFIG_DIR / "survivorship.yml"
DBT_VAR = "survivorship"
RULES = ("source_priority", "most_recent", "most_frequent")


class SurvivorshipError(ValueError):
    """The survivorship file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class AttributeRule:
    attribute: str
    rule: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Survivorship:
    path: Path
    attributes: tuple[AttributeRule, ...]

    def dbt_vars(self) -> dict[str, Any]:
        return {
            DBT_VAR: {
                a.attribute: {"rule": a.rule, "sources": list(a.sources)} for a in self.attributes
            }
        }


def _fail(path: Path, key: str, message: str) -> SurvivorshipError:
    return SurvivorshipError(f"{path}: {key}: {message}")


def parse_survivorship(doc: Any, path: Path, registry: Registry) -> Survivorship:
    if not isinstance(doc, dict) or set(doc) != {"attributes"} or not isinstance(doc["attributes"], dict):
        raise _fail(path, "<top>", "expected one mapping `attributes: {<attribute>: {rule: ...}}`")
    declared = {f.name for spec in registry.sources.values() for f in spec.attribute_fields}
    rules = []
    for attribute, spec in doc["attributes"].items():
        key = f"attributes.{attribute}"
        if attribute not in declared:
            raise _fail(path, key, f"no source marks a field {attribute!r} with `attribute: true`; "
                                   f"attributes are {sorted(declared)}")
        if not isinstance(spec, dict) or set(spec) - {"rule", "sources"}:
            raise _fail(path, key, "expected {rule: ..., sources: [...]}")
        rule = spec.get("rule")
        if rule not in RULES:
            raise _fail(path, f"{key}.rule", f"{rule!r} is not one of {list(RULES)}")
        sources = spec.get("sources", [])
        if rule == "source_priority" and not sources:
            raise _fail(path, f"{key}.sources", "source_priority needs the sources in order")
        if rule != "source_priority" and sources:
            raise _fail(path, f"{key}.sources", f"only source_priority takes sources, not {rule}")
        for i, source in enumerate(sources):
            if source not in registry.sources:
                raise _fail(path, f"{key}.sources[{i}]", f"unknown source {source!r}")
            if attribute not in {f.name for f in registry.sources[source].attribute_fields}:
                raise _fail(path, f"{key}.sources[{i}]", f"source {source!r} has no attribute {attribute!r}")
        rules.append(AttributeRule(attribute, rule, tuple(sources)))
    return Survivorship(path=path, attributes=tuple(rules))


def load_survivorship(path: Path | str = SURVIVORSHIP_RULES, registry: Registry | None = None) -> Survivorship:
    path = Path(path)
    return parse_survivorship(yaml.safe_load(path.read_text(encoding="utf-8")), path, registry or load_registry())
