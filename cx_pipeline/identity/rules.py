"""Identity rules (cx_pipeline/config/identity.yml): loaded, validated, handed to dbt as a var.

dbt cannot read a YAML file of ours, so the Dagster dbt asset passes the validated rules with
`--vars '{"identity": ...}'`; the models under dbt_project/models/intermediate/identity/ render
their SQL from it. Validation here turns a typo into an error naming the file and key, instead of
a rule that silently matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cx_pipeline.ingest.registry import Registry, load_registry
from cx_pipeline.paths import CONFIG_DIR

IDENTITY_RULES = CONFIG_DIR / "identity.yml"
DBT_VAR = "identity"
CRITERION_KINDS = ("same",)
GUARD_KINDS = ("junk_values", "junk_patterns", "max_records_per_value", "max_distinct_neighbours")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class IdentityRulesError(ValueError):
    """The identity rules file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class MatchRule:
    name: str
    same: tuple[str, ...]  # identifier types that must all be equal


@dataclass(frozen=True)
class IdentityRules:
    path: Path
    match_rules: tuple[MatchRule, ...]
    junk_values: dict[str, tuple[str, ...]]
    junk_patterns: dict[str, tuple[str, ...]]
    max_records_per_value: dict[str, int]
    max_distinct_neighbours: dict[str, dict[str, int]]  # type -> neighbour type -> limit

    def dbt_vars(self) -> dict[str, Any]:
        """The rules as the dbt `identity` var (plain JSON types, rule order kept: it is priority)."""
        return {
            DBT_VAR: {
                "match_rules": [{"name": r.name, "same": list(r.same)} for r in self.match_rules],
                "junk_values": {t: list(v) for t, v in self.junk_values.items()},
                "junk_patterns": {t: list(v) for t, v in self.junk_patterns.items()},
                "max_records_per_value": dict(self.max_records_per_value),
                "max_distinct_neighbours": {t: dict(n) for t, n in self.max_distinct_neighbours.items()},
            }
        }


def _fail(path: Path, key: str, message: str) -> IdentityRulesError:
    return IdentityRulesError(f"{path}: {key}: {message}")


def _identifier_types(registry: Registry) -> set[str]:
    return {f.identifier for spec in registry.sources.values() for f in spec.identifier_fields}


def _check_type(path: Path, key: str, value: Any, known: set[str]) -> str:
    if value not in known:
        raise _fail(path, key, f"unknown identifier type {value!r}; the registry declares {sorted(known)}")
    return value


def _parse_rule(path: Path, index: int, doc: Any, known: set[str]) -> MatchRule:
    key = f"match_rules[{index}]"
    if not isinstance(doc, dict) or set(doc) != {"name", "criteria"}:
        raise _fail(path, key, "a rule has exactly `name` and `criteria`")
    name = doc["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, f"{key}.name", f"{name!r} is not a snake_case name")
    criteria = doc["criteria"]
    if not isinstance(criteria, list) or not criteria:
        raise _fail(path, f"{key}.criteria", "a rule needs at least one criterion")
    same = []
    for j, criterion in enumerate(criteria):
        ckey = f"{key}.criteria[{j}]"
        if not isinstance(criterion, dict) or len(criterion) != 1 or next(iter(criterion)) not in CRITERION_KINDS:
            raise _fail(path, ckey, f"a criterion is one of {list(CRITERION_KINDS)}, e.g. {{same: email}}")
        same.append(_check_type(path, f"{ckey}.same", criterion["same"], known))
    if len(set(same)) != len(same):
        raise _fail(path, f"{key}.criteria", "the same identifier type twice")
    return MatchRule(name=name, same=tuple(same))


def _per_type(path: Path, key: str, doc: Any, known: set[str], item) -> dict:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise _fail(path, key, "expected a mapping of identifier type to a value")
    return {_check_type(path, f"{key}.{t}", t, known): item(f"{key}.{t}", v) for t, v in doc.items()}


def parse_identity_rules(doc: Any, path: Path, registry: Registry) -> IdentityRules:
    if not isinstance(doc, dict) or set(doc) - {"match_rules", "guards"}:
        raise _fail(path, "<top>", "expected `match_rules` and `guards`")
    known = _identifier_types(registry)
    rules = tuple(_parse_rule(path, i, r, known) for i, r in enumerate(doc.get("match_rules") or []))
    if not rules:
        raise _fail(path, "match_rules", "at least one rule is needed")
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise _fail(path, "match_rules", f"duplicate rule names in {names}")

    guards = doc.get("guards") or {}
    if set(guards) - set(GUARD_KINDS):
        raise _fail(path, "guards", f"unknown guard(s) {sorted(set(guards) - set(GUARD_KINDS))}")

    def strings(key: str, values: Any) -> tuple[str, ...]:
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _fail(path, key, "expected a list of strings")
        return tuple(values)

    def patterns(key: str, values: Any) -> tuple[str, ...]:
        for i, pattern in enumerate(strings(key, values)):
            try:
                re.compile(pattern)
            except re.error as error:
                raise _fail(path, f"{key}[{i}]", f"invalid regular expression {pattern!r}: {error}") from None
        return tuple(values)

    def limit(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail(path, key, f"expected a whole number >= 1, got {value!r}")
        return value

    return IdentityRules(
        path=path,
        match_rules=rules,
        junk_values=_per_type(path, "guards.junk_values", guards.get("junk_values"), known, strings),
        junk_patterns=_per_type(path, "guards.junk_patterns", guards.get("junk_patterns"), known, patterns),
        max_records_per_value=_per_type(
            path, "guards.max_records_per_value", guards.get("max_records_per_value"), known, limit
        ),
        max_distinct_neighbours=_per_type(
            path, "guards.max_distinct_neighbours", guards.get("max_distinct_neighbours"), known,
            lambda key, doc: _per_type(path, key, doc, known, limit),
        ),
    )


def load_identity_rules(path: Path | str = IDENTITY_RULES, registry: Registry | None = None) -> IdentityRules:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise _fail(path, "<yaml>", str(error)) from None
    return parse_identity_rules(doc, path, registry or load_registry())
