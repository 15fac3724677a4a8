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
CRITERION_KINDS = ("same", "similar", "not_different")
# How an attribute is made comparable (dbt macro `match_value`): see identity.yml `match_attributes`.
COMPARE_AS = ("person_name", "postal_code", "organisation", "text")
# How a slip key folds a value (dbt macro `slip_key`): see identity.yml `slip_keys`.
SLIPS = ("swapped_letters", "doubled_letters")
GUARD_KINDS = ("junk_values", "junk_patterns", "max_records_per_value", "max_distinct_neighbours")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
# The identifier type `personal_email_domains` sorts into work and private addresses.
EMAIL_TYPE = "email"


class IdentityRulesError(ValueError):
    """The identity rules file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class Similarity:
    attribute: str  # a match attribute
    at_least: float  # Jaro-Winkler similarity, 0..1


@dataclass(frozen=True)
class MatchRule:
    name: str
    same: tuple[str, ...]  # identifier types or match attributes that must all be equal
    similar: tuple[Similarity, ...] = ()  # compared only within records equal on `same` (blocking)
    not_different: tuple[str, ...] = ()  # identifier types the two records must not disagree on
    # attributes whose values must not clearly differ: below this similarity in one writing system
    not_dissimilar: tuple[Similarity, ...] = ()


@dataclass(frozen=True)
class MatchAttribute:
    compare_as: str  # one of COMPARE_AS
    # registry attributes a record's value is taken from: the first alternative the record has;
    # an alternative of several attributes joins them with a space (last_name + first_name)
    sources: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class SlipKey:
    identifier: str  # the identifier type whose values it folds
    slip: str  # one of SLIPS


@dataclass(frozen=True)
class IdentityRules:
    path: Path
    match_rules: tuple[MatchRule, ...]
    match_attributes: dict[str, MatchAttribute]
    slip_keys: dict[str, SlipKey]  # name -> the identifier it folds and how; rules use the name as a type
    kanji_variants: dict[str, str]  # variant form -> common form, folded in person names
    anonymous_identifiers: tuple[str, ...]  # identifier types that name a browser or device, not a person
    # consumer mail providers: an email there is a private address, which no work address disagrees with
    personal_email_domains: tuple[str, ...]
    junk_values: dict[str, tuple[str, ...]]
    junk_patterns: dict[str, tuple[str, ...]]
    max_records_per_value: dict[str, int]
    max_distinct_neighbours: dict[str, dict[str, int]]  # type -> neighbour type -> limit

    def dbt_vars(self) -> dict[str, Any]:
        """The rules as the dbt `identity` var (plain JSON types, rule order kept: it is priority)."""
        return {
            DBT_VAR: {
                "match_rules": [
                    {
                        "name": r.name,
                        "same": list(r.same),
                        "similar": [{"attribute": c.attribute, "at_least": c.at_least} for c in r.similar],
                        "not_different": list(r.not_different),
                        "not_dissimilar": [{"attribute": c.attribute, "at_least": c.at_least} for c in r.not_dissimilar],
                    }
                    for r in self.match_rules
                ],
                "match_attributes": {
                    name: {"compare_as": a.compare_as, "from": [list(alt) for alt in a.sources]}
                    for name, a in self.match_attributes.items()
                },
                "slip_keys": {name: {"identifier": k.identifier, "slip": k.slip} for name, k in self.slip_keys.items()},
                "kanji_variants": dict(self.kanji_variants),
                "personal_email_domains": list(self.personal_email_domains),
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


def _check_type(path: Path, key: str, value: Any, known: set[str], what: str = "identifier type") -> str:
    if value not in known:
        raise _fail(path, key, f"unknown {what} {value!r}; expected one of {sorted(known)}")
    return value


def _registry_attributes(registry: Registry) -> set[str]:
    return {f.name for spec in registry.sources.values() for f in spec.attribute_fields}


def _named_entry(path: Path, section: str, name: Any, doc: Any, fields: tuple[str, ...], what: str) -> str:
    """The key of a named entry of a section (a snake_case name, exactly these fields)."""
    key = f"{section}.{name}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, key, f"{name!r} is not a snake_case name")
    if not isinstance(doc, dict) or set(doc) != set(fields):
        raise _fail(path, key, f"{what} has exactly " + " and ".join(f"`{f}`" for f in fields))
    return key


def _parse_match_attribute(path: Path, name: Any, doc: Any, registry_attributes: set[str]) -> MatchAttribute:
    key = _named_entry(path, "match_attributes", name, doc, ("compare_as", "from"), "a match attribute")
    compare_as = _check_type(path, f"{key}.compare_as", doc["compare_as"], set(COMPARE_AS), "comparison")
    alternatives = doc["from"]
    if not isinstance(alternatives, list) or not alternatives:
        raise _fail(path, f"{key}.from", "expected a list of registry attributes (or lists of them)")
    sources = []
    for i, alternative in enumerate(alternatives):
        parts = [alternative] if isinstance(alternative, str) else alternative
        if not isinstance(parts, list) or not parts:
            raise _fail(path, f"{key}.from[{i}]", "expected an attribute name or a list of them")
        what = "registry attribute (a field with `attribute: true`)"
        sources.append(tuple(_check_type(path, f"{key}.from[{i}]", p, registry_attributes, what) for p in parts))
    return MatchAttribute(compare_as=compare_as, sources=tuple(sources))


def _parse_slip_key(path: Path, name: Any, doc: Any, identifiers: set[str]) -> SlipKey:
    key = _named_entry(path, "slip_keys", name, doc, ("identifier", "slip"), "a slip key")
    return SlipKey(
        identifier=_check_type(path, f"{key}.identifier", doc["identifier"], identifiers),
        slip=_check_type(path, f"{key}.slip", doc["slip"], set(SLIPS), "slip"),
    )


def _parse_rule(path: Path, index: int, doc: Any, identifiers: set[str], attributes: set[str]) -> MatchRule:
    key = f"match_rules[{index}]"
    if not isinstance(doc, dict) or set(doc) != {"name", "criteria"}:
        raise _fail(path, key, "a rule has exactly `name` and `criteria`")
    name = doc["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, f"{key}.name", f"{name!r} is not a snake_case name")
    criteria = doc["criteria"]
    if not isinstance(criteria, list) or not criteria:
        raise _fail(path, f"{key}.criteria", "a rule needs at least one criterion")
    same: list[str] = []
    similar: list[Similarity] = []
    not_different: list[str] = []
    not_dissimilar: list[Similarity] = []

    def similarity(ckey: str, criterion: dict, kind: str) -> Similarity:
        attribute = _check_type(path, f"{ckey}.{kind}", criterion[kind], attributes, "match attribute")
        at_least = criterion["at_least"]
        if isinstance(at_least, bool) or not isinstance(at_least, int | float) or not 0 < at_least <= 1:
            raise _fail(path, f"{ckey}.at_least", f"expected a similarity in (0, 1], got {at_least!r}")
        return Similarity(attribute=attribute, at_least=float(at_least))

    for j, criterion in enumerate(criteria):
        ckey = f"{key}.criteria[{j}]"
        kinds = set(criterion) & set(CRITERION_KINDS) if isinstance(criterion, dict) else set()
        kind = kinds.pop() if len(kinds) == 1 else None
        if kind == "same" and len(criterion) == 1:
            what = "identifier type or match attribute"
            same.append(_check_type(path, f"{ckey}.same", criterion["same"], identifiers | attributes, what))
        elif kind == "similar" and set(criterion) == {"similar", "at_least"}:
            similar.append(similarity(ckey, criterion, "similar"))
        elif kind == "not_different" and set(criterion) == {"not_different", "at_least"}:
            not_dissimilar.append(similarity(ckey, criterion, "not_different"))
        elif kind == "not_different" and len(criterion) == 1:
            what = "identifier type or match attribute"
            value = criterion["not_different"]
            not_different.append(_check_type(path, f"{ckey}.not_different", value, identifiers | attributes, what))
        else:
            raise _fail(
                path, ckey,
                f"a criterion is one of {list(CRITERION_KINDS)}: {{same: email}}, "
                "{similar: full_name, at_least: 0.9}, {not_different: phone} or "
                "{not_different: full_name, at_least: 0.7}",
            )
    vetoes = not_different + [c.attribute for c in not_dissimilar]
    if (
        len(set(same)) != len(same)
        or len({c.attribute for c in similar}) != len(similar)
        or len(set(vetoes)) != len(vetoes)
    ):
        raise _fail(path, f"{key}.criteria", "the same identifier type or attribute twice")
    if (similar or vetoes) and not same:
        # Comparing every record with every other is quadratic: `same` criteria are the blocking key.
        raise _fail(
            path, f"{key}.criteria",
            "a rule with `similar` or `not_different` compares record pairs: it needs at least one "
            "`same` criterion to block on",
        )
    return MatchRule(
        name=name, same=tuple(same), similar=tuple(similar), not_different=tuple(not_different),
        not_dissimilar=tuple(not_dissimilar),
    )


def _per_type(path: Path, key: str, doc: Any, known: set[str], item) -> dict:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise _fail(path, key, "expected a mapping of identifier type to a value")
    return {_check_type(path, f"{key}.{t}", t, known): item(f"{key}.{t}", v) for t, v in doc.items()}


def parse_identity_rules(doc: Any, path: Path, registry: Registry) -> IdentityRules:
    sections = {
        "anonymous_identifiers", "match_attributes", "slip_keys", "kanji_variants", "personal_email_domains",
        "match_rules", "guards",
    }
    if not isinstance(doc, dict) or set(doc) - sections:
        raise _fail(path, "<top>", f"expected the sections {sorted(sections)}")
    identifiers = _identifier_types(registry)
    attributes_doc = doc.get("match_attributes") or {}
    if not isinstance(attributes_doc, dict):
        raise _fail(path, "match_attributes", "expected a mapping of attribute name to its comparison")
    registry_attributes = _registry_attributes(registry)
    match_attributes = {
        name: _parse_match_attribute(path, name, a, registry_attributes) for name, a in attributes_doc.items()
    }
    kanji_variants = doc.get("kanji_variants") or {}
    if not isinstance(kanji_variants, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) == 1 and len(v) == 1 for k, v in kanji_variants.items()
    ):
        raise _fail(path, "kanji_variants", "expected a mapping of one character to one character")
    anonymous = doc.get("anonymous_identifiers") or []
    if not isinstance(anonymous, list):
        raise _fail(path, "anonymous_identifiers", "expected a list of identifier types")
    anonymous = tuple(_check_type(path, f"anonymous_identifiers[{i}]", t, identifiers) for i, t in enumerate(anonymous))
    domains = doc.get("personal_email_domains") or []
    if not isinstance(domains, list):
        raise _fail(path, "personal_email_domains", "expected a list of mail domains such as gmail.com")
    for i, domain in enumerate(domains):
        if not isinstance(domain, str) or not _DOMAIN.match(domain):
            raise _fail(path, f"personal_email_domains[{i}]", f"{domain!r} is not a lower-case mail domain such as gmail.com")
    if domains and EMAIL_TYPE not in identifiers:
        raise _fail(path, "personal_email_domains", f"the registry declares no {EMAIL_TYPE!r} identifier to sort")
    clash = identifiers & set(match_attributes)
    if clash:
        raise _fail(path, "match_attributes", f"{sorted(clash)} already name identifier types")
    slips_doc = doc.get("slip_keys") or {}
    if not isinstance(slips_doc, dict):
        raise _fail(path, "slip_keys", "expected a mapping of key name to its identifier and slip")
    slip_keys = {name: _parse_slip_key(path, name, k, identifiers) for name, k in slips_doc.items()}
    clash = (identifiers | set(match_attributes)) & set(slip_keys)
    if clash:
        raise _fail(path, "slip_keys", f"{sorted(clash)} already name identifier types or match attributes")
    # a slip key is compared like an identifier type
    identifiers = identifiers | set(slip_keys)
    rules = tuple(
        _parse_rule(path, i, r, identifiers, set(match_attributes))
        for i, r in enumerate(doc.get("match_rules") or [])
    )
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

    # Guards on values apply to identifiers and match attributes alike (a postcode shared by a
    # whole building); neighbour guards only to identifiers.
    known = identifiers | set(match_attributes)
    return IdentityRules(
        path=path,
        match_rules=rules,
        match_attributes=match_attributes,
        slip_keys=slip_keys,
        kanji_variants=kanji_variants,
        anonymous_identifiers=anonymous,
        personal_email_domains=tuple(domains),
        junk_values=_per_type(path, "guards.junk_values", guards.get("junk_values"), known, strings),
        junk_patterns=_per_type(path, "guards.junk_patterns", guards.get("junk_patterns"), known, patterns),
        max_records_per_value=_per_type(
            path, "guards.max_records_per_value", guards.get("max_records_per_value"), known, limit
        ),
        max_distinct_neighbours=_per_type(
            path, "guards.max_distinct_neighbours", guards.get("max_distinct_neighbours"), identifiers,
            lambda key, doc: _per_type(path, key, doc, identifiers, limit),
        ),
    )


def load_identity_rules(path: Path | str = IDENTITY_RULES, registry: Registry | None = None) -> IdentityRules:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise _fail(path, "<yaml>", str(error)) from None
    return parse_identity_rules(doc, path, registry or load_registry())
