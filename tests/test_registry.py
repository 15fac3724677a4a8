"""The source registry: the real one loads, and every contract break fails loudly and precisely."""

from __future__ import annotations

import dataclasses

import pytest

from cx_pipeline.ingest.registry import (
    CHANNELS,
    DEPARTMENTS,
    FIELD_TYPES,
    IDENTIFIER_TYPES,
    RegistryError,
    load_registry,
)
from cx_pipeline.paths import SOURCE_REGISTRY
from ingest_fixtures import registry_doc, write_registry


def test_the_project_registry_loads():
    registry = load_registry()
    assert registry.path == SOURCE_REGISTRY
    assert registry.defaults.phone_default_region == "JP"
    assert registry.defaults.timezone == "Asia/Tokyo"
    assert registry.defaults.currencies == ("JPY", "USD", "EUR")
    assert len(registry.sources) >= 9
    for spec in registry.sources.values():
        assert spec.department in DEPARTMENTS and spec.channel in CHANNELS
        assert all(f.type in FIELD_TYPES for f in spec.fields)
        assert spec.encoding == "utf-8"  # inherited from defaults


def test_specs_expose_what_later_stages_need():
    registry = load_registry()
    orders = registry.source("orders")
    assert orders.record_id == ("order_id",)
    assert [f.name for f in orders.fields][:3] == ["order_id", "email", "phone"]  # registry order kept
    assert {f.name: f.identifier for f in orders.identifier_fields} == {"email": "email", "phone": "phone"}
    assert {f.name for f in orders.pii_fields} == {"email", "phone", "full_name", "postal_code"}
    assert {f.name for f in orders.attribute_fields} == {"email", "phone", "full_name", "postal_code"}
    assert orders.field("amount").min == 0 and orders.field("amount").type == "decimal"
    assert orders.field("email").column == "buyer_email"
    assert orders.touchpoint.type_value == "order_placed" and orders.touchpoint.timestamp_field == "ordered_at"

    web = registry.source("web_events")
    assert web.touchpoint.type_field == "event_type" and web.touchpoint.type_value is None
    assert web.field("event_type").allowed == ("page_view", "pricing_view", "form_submit", "demo_request")

    assert registry.source("product_usage").record_id == ("account_id", "app_login", "usage_date")
    assert registry.source("email_events").field("event_ts").timezone == "UTC"


def test_specs_are_frozen():
    spec = load_registry().source("orders")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]


def test_unknown_source_names_the_known_ones():
    with pytest.raises(KeyError, match="no source 'nope'.*orders"):
        load_registry().source("nope")


def test_a_minimal_registry_gets_defaults(tmp_path):
    doc = registry_doc()
    del doc["defaults"]
    registry = load_registry(write_registry(tmp_path, doc))
    assert registry.defaults.phone_default_region == "JP"
    assert registry.source("people").description == "CSV with every field type."


def _break(mutate) -> dict:
    doc = registry_doc()
    mutate(doc)
    return doc


def _people(doc: dict) -> dict:
    return doc["sources"]["people"]


def _fields(doc: dict) -> dict:
    return doc["sources"]["people"]["fields"]


BREAKS = {
    "unknown field type": (
        lambda d: _fields(d)["score"].update(type="integer"),
        "sources.people.fields.score.type: type 'integer' is not one of",
    ),
    "unknown field key": (
        lambda d: _fields(d)["score"].update(nullable=True),
        "sources.people.fields.score: unknown key(s) nullable",
    ),
    "unknown source key": (
        lambda d: _people(d).update(owner="me"),
        "sources.people: unknown key(s) owner",
    ),
    "unknown top-level key": (lambda d: d.update(extra=1), "<top>: unknown key(s) extra"),
    "unknown defaults key": (
        lambda d: d["defaults"].update(locale="ja"),
        "defaults: unknown key(s) locale",
    ),
    "missing column": (
        lambda d: _fields(d)["score"].pop("column"),
        "sources.people.fields.score.column: is required",
    ),
    "missing source key": (lambda d: _people(d).pop("format"), "sources.people.format: is required"),
    "bad department": (
        lambda d: _people(d).update(department="finance"),
        "sources.people.department: department 'finance' is not one of: marketing",
    ),
    "bad channel": (lambda d: _people(d).update(channel="fax"), "sources.people.channel: channel 'fax'"),
    "bad format": (lambda d: _people(d).update(format="xlsx"), "sources.people.format: format 'xlsx'"),
    "record_id undeclared": (
        lambda d: _people(d).update(record_id="nope"),
        "sources.people.record_id: refers to undeclared field 'nope'",
    ),
    "composite record_id undeclared": (
        lambda d: _people(d).update(record_id=["person_id", "nope"]),
        "sources.people.record_id: refers to undeclared field 'nope'",
    ),
    "record_id not required": (
        lambda d: _fields(d)["person_id"].pop("required"),
        "sources.people.record_id: field 'person_id' must be required: true",
    ),
    "touchpoint timestamp undeclared": (
        lambda d: _people(d)["touchpoint"].update(timestamp="nope"),
        "sources.people.touchpoint.timestamp: refers to undeclared field 'nope'",
    ),
    "touchpoint timestamp not temporal": (
        lambda d: _people(d)["touchpoint"].update(timestamp="score"),
        "sources.people.touchpoint.timestamp: field 'score' must be a date or timestamp, not int",
    ),
    "touchpoint type field undeclared": (
        lambda d: _people(d)["touchpoint"].update(type={"field": "nope"}),
        "sources.people.touchpoint.type.field: refers to undeclared field 'nope'",
    ),
    "touchpoint type malformed": (
        lambda d: _people(d)["touchpoint"].update(type={"field": "tier", "value": "x"}),
        "sources.people.touchpoint.type: must be {field: <field>} or {value: <constant>}",
    ),
    "identifier on an int": (
        lambda d: _fields(d)["score"].update(identifier="crm_id"),
        "sources.people.fields.score.identifier: a crm_id identifier must be a field of type string, not int",
    ),
    "email identifier on a string": (
        lambda d: _fields(d)["tier"].update(identifier="email"),
        "sources.people.fields.tier.identifier: a email identifier must be a field of type email, not string",
    ),
    "unknown identifier type": (
        lambda d: _fields(d)["tier"].update(identifier="loyalty_card"),
        "sources.people.fields.tier.identifier: identifier type 'loyalty_card' is not one of",
    ),
    "allowed on a number": (
        lambda d: _fields(d)["score"].update(allowed=["1"]),
        "sources.people.fields.score.allowed: only text fields take allowed values, not int",
    ),
    "min on a string": (
        lambda d: _fields(d)["tier"].update(min=0),
        "sources.people.fields.tier.min: only int, float and decimal fields take min, not string",
    ),
    "min above max": (
        lambda d: _fields(d)["score"].update(min=11),
        "sources.people.fields.score: min 11 is above max 10",
    ),
    "format on a string": (
        lambda d: _fields(d)["tier"].update(format="%Y"),
        "sources.people.fields.tier.format: only date and timestamp fields take a format, not string",
    ),
    "format without directives": (
        lambda d: _fields(d)["birthday"].update(format="YYYY-MM-DD"),
        "sources.people.fields.birthday.format: 'YYYY-MM-DD' must be a strftime pattern or 'iso8601'",
    ),
    "unknown timezone": (
        lambda d: _fields(d)["seen_at"].update(timezone="Mars/Olympus"),
        "sources.people.fields.seen_at.timezone: unknown IANA time zone 'Mars/Olympus'",
    ),
    "timezone on a date": (
        lambda d: _fields(d)["birthday"].update(timezone="UTC"),
        "sources.people.fields.birthday.timezone: only timestamp fields take a timezone, not date",
    ),
    "non-boolean required": (
        lambda d: _fields(d)["tier"].update(required="yes"),
        "sources.people.fields.tier.required: must be true or false",
    ),
    "non-boolean attribute": (
        lambda d: _fields(d)["tier"].update(attribute="maybe"),
        "sources.people.fields.tier.attribute: must be true or false",
    ),
    "two fields read one column": (
        lambda d: _fields(d)["tier"].update(column="score"),
        "sources.people.fields: column(s) score are read by more than one field",
    ),
    "unknown encoding": (
        lambda d: _people(d).update(encoding="klingon-8"),
        "sources.people.encoding: unknown text encoding 'klingon-8'",
    ),
    "bad default region": (
        lambda d: d["defaults"].update(phone_default_region="XX"),
        "defaults.phone_default_region: 'XX' is not a region phonenumbers knows",
    ),
    "bad currencies": (
        lambda d: d["defaults"].update(currencies=["yen"]),
        "defaults.currencies: must be a non-empty list of upper-case ISO 4217 codes",
    ),
    "path escaping the landing folder": (
        lambda d: _people(d).update(path="../other/*.csv"),
        "sources.people.path: '../other/*.csv' must be a relative glob inside landing/people/",
    ),
    "source name not snake_case": (
        lambda d: d["sources"].update({"Bad-Name": d["sources"].pop("people")}),
        "sources.Bad-Name: source names must be snake_case",
    ),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_contract_breaks_name_file_source_and_key(tmp_path, case):
    mutate, message = BREAKS[case]
    path = write_registry(tmp_path, _break(mutate))
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_duplicate_yaml_keys_are_refused(tmp_path):
    path = tmp_path / "sources.yml"
    path.write_text(
        "sources:\n"
        "  a:\n    department: sales\n"
        "  a:\n    department: commerce\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match=r"sources.yml: not valid YAML: .*duplicate key 'a'"):
        load_registry(path)


def test_identifier_vocabulary_matches_the_registry_header():
    header = SOURCE_REGISTRY.read_text(encoding="utf-8").split("defaults:")[0]
    documented = header.split("identifier type this field contributes to the identity graph")[1]
    for identifier in IDENTIFIER_TYPES:
        assert identifier in documented
