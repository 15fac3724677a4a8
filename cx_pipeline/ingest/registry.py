"""The source registry (config/sources.yml) as typed, validated objects.

The registry is the contract between channel owners and the pipeline, so loading is strict:
any unknown key, type or reference fails with a message naming the file, the source and the
key, before a single landing file is read.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

from cx_pipeline.paths import SOURCE_REGISTRY

DEPARTMENTS = ("marketing", "sales", "commerce", "service", "product", "partner")
CHANNELS = ("web", "app", "email", "crm", "store", "phone", "chat", "partner", "survey")
FORMATS = ("csv", "ndjson", "parquet")
FIELD_TYPES = (
    "string", "name", "email", "phone", "int", "float", "decimal", "bool",
    "date", "timestamp", "country", "currency",
)
# Types whose values are text after normalisation (all land as Utf8).
TEXT_TYPES = frozenset({"string", "name", "email", "phone", "country", "currency"})
NUMERIC_TYPES = frozenset({"int", "float", "decimal"})
TEMPORAL_TYPES = frozenset({"date", "timestamp"})
# The identity graph's vocabulary, and the field type each identifier must be read as
# (an email identifier must be normalised as an email, opaque ids as plain strings).
IDENTIFIER_TYPES: dict[str, str] = {
    "email": "email",
    "phone": "phone",
    "crm_id": "string",
    "service_customer_no": "string",
    "device_id": "string",
    "app_login": "string",
    "cookie_id": "string",
}
ISO8601 = "iso8601"

_DEFAULTS_KEYS = {"phone_default_region", "timezone", "encoding", "currencies"}
_ARRIVAL_KEYS = {"partitions_start", "settle_seconds"}
_SOURCE_KEYS = {
    "description", "department", "channel", "format", "path", "encoding",
    "record_id", "touchpoint", "fields", "partitioned_by",
}
# How an event stream's landing files are cut: one (or more) files per day, named <YYYY-MM-DD>...
PARTITION_GRAINS = ("day",)
_REQUIRED_SOURCE_KEYS = ("department", "channel", "format", "path", "record_id", "touchpoint", "fields")
_FIELD_KEYS = {
    "column", "type", "required", "format", "timezone", "min", "max", "allowed", "identifier", "pii", "attribute",
}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ValueError):
    """The registry file breaks the contract documented in its header."""


@dataclass(frozen=True)
class RegistryDefaults:
    phone_default_region: str = "JP"
    timezone: str = "Asia/Tokyo"
    encoding: str = "utf-8"
    currencies: tuple[str, ...] = ("JPY", "USD", "EUR")


@dataclass(frozen=True)
class Arrival:
    """How landing files arrive: the first day a daily file may carry, and how long a file must
    stay unchanged before the landing sensor picks it up (a file still being copied is not read)."""

    partitions_start: date = date(2024, 1, 1)
    settle_seconds: float = 10.0


@dataclass(frozen=True)
class FieldSpec:
    name: str
    column: str
    type: str
    required: bool = False
    format: str | None = None
    timezone: str | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    identifier: str | None = None
    pii: bool = False
    attribute: bool = False  # describes the person: a candidate value for the golden record


@dataclass(frozen=True)
class TouchpointSpec:
    """A row's place on the customer timeline: its type (from a field or a constant) and time."""

    timestamp_field: str
    type_field: str | None = None
    type_value: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    name: str
    description: str
    department: str
    channel: str
    format: str
    path: str
    encoding: str
    record_id: tuple[str, ...]
    touchpoint: TouchpointSpec
    fields: tuple[FieldSpec, ...]
    # "day": an append-only event stream, one landing file per day (<YYYY-MM-DD>...<ext>) and a
    # Dagster daily partition per day; None: a snapshot re-read whole on every run.
    partitioned_by: str | None = None

    @property
    def partitioned(self) -> bool:
        return self.partitioned_by is not None

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"source {self.name!r} has no field {name!r}")

    @property
    def identifier_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.identifier)

    @property
    def pii_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.pii)

    @property
    def attribute_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.attribute)

    @property
    def required_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.required)


@dataclass(frozen=True)
class Registry:
    path: Path
    defaults: RegistryDefaults
    sources: dict[str, SourceSpec]
    arrival: Arrival = Arrival()

    @property
    def partitioned_sources(self) -> list[str]:
        return [name for name, spec in self.sources.items() if spec.partitioned]

    def source(self, name: str) -> SourceSpec:
        try:
            return self.sources[name]
        except KeyError:
            raise KeyError(f"{self.path}: no source {name!r} (known: {', '.join(self.sources)})") from None


def load_registry(path: Path | str = SOURCE_REGISTRY) -> Registry:
    path = Path(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
    return parse_registry(document, path)


def parse_registry(document: Any, path: Path | str = "<registry>") -> Registry:
    """Validate an already-parsed registry document (used by load_registry and tests)."""
    path = Path(path)
    where = _Where(str(path))
    _expect(isinstance(document, dict), where, "the document must be a mapping with `defaults` and `sources`")
    _check_keys(document, {"defaults", "arrival", "sources"}, where)
    defaults = _parse_defaults(document.get("defaults") or {}, where.at("defaults"))
    arrival = _parse_arrival(document.get("arrival") or {}, where.at("arrival"))
    sources_doc = document.get("sources")
    _expect(isinstance(sources_doc, dict) and sources_doc, where.at("sources"), "must map source names to specs")
    sources = {
        name: _parse_source(name, spec, defaults, where.at(f"sources.{name}"))
        for name, spec in sources_doc.items()
    }
    return Registry(path=path, defaults=defaults, sources=sources, arrival=arrival)


class _Where:
    """Builds error messages that say exactly where in the registry a problem is."""

    def __init__(self, file: str, key: str = "") -> None:
        self.file, self.key = file, key

    def at(self, key: str) -> _Where:
        return _Where(self.file, f"{self.key}.{key}" if self.key else key)

    def error(self, message: str) -> RegistryError:
        return RegistryError(f"{self.file}: {self.key or '<top>'}: {message}")


def _expect(condition: bool, where: _Where, message: str) -> None:
    if not condition:
        raise where.error(message)


def _check_keys(mapping: dict, allowed: set[str], where: _Where) -> None:
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    _expect(not unknown, where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _one_of(value: Any, choices, where: _Where, what: str) -> str:
    _expect(value in choices, where, f"{what} {value!r} is not one of: {', '.join(choices)}")
    return value


def _check_encoding(value: Any, where: _Where) -> str:
    try:
        codecs.lookup(str(value))
    except LookupError:
        raise where.error(f"unknown text encoding {value!r}") from None
    return str(value)


def _check_timezone(value: Any, where: _Where) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise where.error(f"unknown IANA time zone {value!r}") from None
    return str(value)


def _parse_defaults(doc: Any, where: _Where) -> RegistryDefaults:
    _expect(isinstance(doc, dict), where, "must be a mapping")
    _check_keys(doc, _DEFAULTS_KEYS, where)
    base = RegistryDefaults()
    region = str(doc.get("phone_default_region", base.phone_default_region)).upper()
    _expect(
        phonenumbers.country_code_for_region(region) != 0,
        where.at("phone_default_region"),
        f"{region!r} is not a region phonenumbers knows (use an ISO 3166 alpha-2 code)",
    )
    currencies = doc.get("currencies", list(base.currencies))
    _expect(
        isinstance(currencies, list)
        and currencies
        and all(isinstance(c, str) and re.fullmatch(r"[A-Z]{3}", c) for c in currencies),
        where.at("currencies"),
        "must be a non-empty list of upper-case ISO 4217 codes",
    )
    return RegistryDefaults(
        phone_default_region=region,
        timezone=_check_timezone(doc.get("timezone", base.timezone), where.at("timezone")),
        encoding=_check_encoding(doc.get("encoding", base.encoding), where.at("encoding")),
        currencies=tuple(currencies),
    )


def _parse_arrival(doc: Any, where: _Where) -> Arrival:
    _expect(isinstance(doc, dict), where, "must be a mapping")
    _check_keys(doc, _ARRIVAL_KEYS, where)
    base = Arrival()
    start = doc.get("partitions_start", base.partitions_start)
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError:
            raise where.at("partitions_start").error(f"{start!r} is not a date (YYYY-MM-DD)") from None
    _expect(isinstance(start, date), where.at("partitions_start"), "must be a date (YYYY-MM-DD)")
    settle = doc.get("settle_seconds", base.settle_seconds)
    _expect(
        isinstance(settle, (int, float)) and not isinstance(settle, bool) and settle >= 0,
        where.at("settle_seconds"),
        "must be a number of seconds >= 0",
    )
    return Arrival(partitions_start=start, settle_seconds=float(settle))


def _parse_source(name: Any, doc: Any, defaults: RegistryDefaults, where: _Where) -> SourceSpec:
    _expect(isinstance(name, str) and bool(_NAME_RE.match(name)), where, "source names must be snake_case")
    _expect(isinstance(doc, dict), where, "must be a mapping")
    _check_keys(doc, _SOURCE_KEYS, where)
    for key in _REQUIRED_SOURCE_KEYS:
        _expect(key in doc, where.at(key), "is required")

    glob = doc["path"]
    _expect(
        isinstance(glob, str) and glob and not glob.startswith("/") and ".." not in Path(glob).parts,
        where.at("path"),
        f"{glob!r} must be a relative glob inside landing/{name}/",
    )
    fields_doc = doc["fields"]
    _expect(isinstance(fields_doc, dict) and fields_doc, where.at("fields"), "must map field names to specs")
    fields = tuple(_parse_field(f, spec, where.at(f"fields.{f}")) for f, spec in fields_doc.items())
    declared = {f.name: f for f in fields}
    columns = [f.column for f in fields]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    _expect(not duplicated, where.at("fields"), f"column(s) {', '.join(duplicated)} are read by more than one field")

    record_id = doc["record_id"]
    record_id = (record_id,) if isinstance(record_id, str) else record_id
    _expect(
        isinstance(record_id, (list, tuple)) and record_id and all(isinstance(r, str) for r in record_id),
        where.at("record_id"),
        "must be a field name or a list of field names",
    )
    for field_name in record_id:
        _expect(field_name in declared, where.at("record_id"), f"refers to undeclared field {field_name!r}")
        # A row without an id could be neither deduplicated nor traced back.
        _expect(declared[field_name].required, where.at("record_id"), f"field {field_name!r} must be required: true")

    return SourceSpec(
        name=name,
        description=str(doc.get("description", "")),
        department=_one_of(doc["department"], DEPARTMENTS, where.at("department"), "department"),
        channel=_one_of(doc["channel"], CHANNELS, where.at("channel"), "channel"),
        format=_one_of(doc["format"], FORMATS, where.at("format"), "format"),
        path=glob,
        encoding=_check_encoding(doc.get("encoding", defaults.encoding), where.at("encoding")),
        record_id=tuple(record_id),
        touchpoint=_parse_touchpoint(doc["touchpoint"], declared, where.at("touchpoint")),
        fields=fields,
        partitioned_by=(
            _one_of(doc["partitioned_by"], PARTITION_GRAINS, where.at("partitioned_by"), "partition grain")
            if doc.get("partitioned_by") is not None
            else None
        ),
    )


def _parse_touchpoint(doc: Any, declared: dict[str, FieldSpec], where: _Where) -> TouchpointSpec:
    _expect(isinstance(doc, dict), where, "must be a mapping with `type` and `timestamp`")
    _check_keys(doc, {"type", "timestamp"}, where)
    _expect("type" in doc and "timestamp" in doc, where, "needs both `type` and `timestamp`")

    timestamp = doc["timestamp"]
    _expect(timestamp in declared, where.at("timestamp"), f"refers to undeclared field {timestamp!r}")
    _expect(
        declared[timestamp].type in TEMPORAL_TYPES,
        where.at("timestamp"),
        f"field {timestamp!r} must be a date or timestamp, not {declared[timestamp].type}",
    )
    # Every accepted row becomes one touchpoint, so its time (and type) can never be null.
    _expect(declared[timestamp].required, where.at("timestamp"), f"field {timestamp!r} must be required: true")

    kind = doc["type"]
    _expect(
        isinstance(kind, dict) and len(kind) == 1 and set(kind) <= {"field", "value"},
        where.at("type"),
        "must be {field: <field>} or {value: <constant>}",
    )
    if "value" in kind:
        value = kind["value"]
        _expect(isinstance(value, str) and bool(_NAME_RE.match(value)), where.at("type.value"), "must be snake_case")
        return TouchpointSpec(timestamp_field=timestamp, type_value=value)
    field_name = kind["field"]
    _expect(field_name in declared, where.at("type.field"), f"refers to undeclared field {field_name!r}")
    _expect(declared[field_name].type == "string", where.at("type.field"), f"field {field_name!r} must be a string")
    _expect(declared[field_name].required, where.at("type.field"), f"field {field_name!r} must be required: true")
    return TouchpointSpec(timestamp_field=timestamp, type_field=field_name)


def _parse_field(name: Any, doc: Any, where: _Where) -> FieldSpec:
    _expect(isinstance(name, str) and bool(_NAME_RE.match(name)), where, "field names must be snake_case")
    _expect(isinstance(doc, dict), where, "must be a mapping")
    _check_keys(doc, _FIELD_KEYS, where)
    _expect(isinstance(doc.get("column"), str) and doc["column"] != "", where.at("column"), "is required")
    kind = _one_of(doc.get("type"), FIELD_TYPES, where.at("type"), "type")

    for flag in ("required", "pii", "attribute"):
        _expect(isinstance(doc.get(flag, False), bool), where.at(flag), "must be true or false")

    fmt = doc.get("format")
    if fmt is not None:
        _expect(kind in TEMPORAL_TYPES, where.at("format"), f"only date and timestamp fields take a format, not {kind}")
        _expect(
            isinstance(fmt, str) and (fmt == ISO8601 or "%" in fmt),
            where.at("format"),
            f"{fmt!r} must be a strftime pattern or {ISO8601!r}",
        )
    timezone = doc.get("timezone")
    if timezone is not None:
        _expect(kind == "timestamp", where.at("timezone"), f"only timestamp fields take a timezone, not {kind}")
        timezone = _check_timezone(timezone, where.at("timezone"))

    bounds = {}
    for bound in ("min", "max"):
        if bound in doc:
            value = doc[bound]
            _expect(kind in NUMERIC_TYPES, where.at(bound), f"only int, float and decimal fields take {bound}, not {kind}")
            _expect(
                isinstance(value, (int, float)) and not isinstance(value, bool), where.at(bound), "must be a number"
            )
            bounds[bound] = value
    if "min" in bounds and "max" in bounds:
        _expect(bounds["min"] <= bounds["max"], where, f"min {bounds['min']} is above max {bounds['max']}")

    allowed = doc.get("allowed")
    if allowed is not None:
        _expect(kind in TEXT_TYPES, where.at("allowed"), f"only text fields take allowed values, not {kind}")
        _expect(
            isinstance(allowed, list) and allowed and all(isinstance(a, str) for a in allowed),
            where.at("allowed"),
            "must be a non-empty list of strings",
        )
        allowed = tuple(allowed)

    identifier = doc.get("identifier")
    if identifier is not None:
        _one_of(identifier, tuple(IDENTIFIER_TYPES), where.at("identifier"), "identifier type")
        expected = IDENTIFIER_TYPES[identifier]
        _expect(
            kind == expected,
            where.at("identifier"),
            f"a {identifier} identifier must be a field of type {expected}, not {kind}",
        )

    return FieldSpec(
        name=name,
        column=doc["column"],
        type=kind,
        required=doc.get("required", False),
        format=fmt,
        timezone=timezone,
        min=bounds.get("min"),
        max=bounds.get("max"),
        allowed=allowed,
        identifier=identifier,
        pii=doc.get("pii", False),
        attribute=doc.get("attribute", False),
    )


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: YAML would silently keep only the last one."""


def _construct_unique_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)
