"""Privacy settings (cx_pipeline/config/privacy.yml): loaded, validated against the source registry,
handed to dbt as the `privacy` var.

A consent signal that names a source, field or touchpoint type the registry does not have would
silently never fire, and a customer who opted out would be contacted: every name is checked here
and a mistake fails with the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cx_pipeline.ingest.registry import IDENTIFIER_TYPES, TEMPORAL_TYPES, Registry, load_registry
from cx_pipeline.paths import CONFIG_DIR

PRIVACY_CONFIG = CONFIG_DIR / "privacy.yml"
DBT_VAR = "privacy"
CUSTOMER_ID = "customer_id"

Choice = Literal["opt_in", "opt_out"]


class PrivacyConfigError(ValueError):
    """The privacy settings file is invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _TouchpointSignal(_Strict):
    types: list[str] = Field(min_length=1)


class _FieldSignal(_Strict):
    name: str
    at: str
    when_true: Choice | None = None
    when_false: Choice | None = None

    @model_validator(mode="after")
    def _records_something(self) -> _FieldSignal:
        if self.when_true is None and self.when_false is None:
            raise ValueError("give when_true, when_false or both: otherwise the field records no choice")
        return self


class _Signal(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    source: str
    touchpoint: _TouchpointSignal | None = None
    field: _FieldSignal | None = None
    choice: Choice | None = None
    channels: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> _Signal:
        if (self.touchpoint is None) == (self.field is None):
            raise ValueError("a signal is either `touchpoint:` or `field:`")
        if self.touchpoint is not None and self.choice is None:
            raise ValueError("a touchpoint signal needs `choice: opt_in | opt_out`")
        if self.field is not None and self.choice is not None:
            raise ValueError("a field signal takes its choice from when_true / when_false, not `choice`")
        return self


class _Action(_Strict):
    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)


class _Consent(_Strict):
    channels: list[str] = Field(min_length=1)
    without_a_choice: dict[str, Literal["allowed", "denied"]]
    signals: list[_Signal]
    do_not_contact_action: _Action


class _Pseudonymisation(_Strict):
    key_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    local_key_file: bool


class _Erasure(_Strict):
    request_identifier_types: list[str] = Field(min_length=1)


class _Document(_Strict):
    consent: _Consent
    pseudonymisation: _Pseudonymisation
    erasure: _Erasure


@dataclass(frozen=True)
class PrivacySettings:
    path: Path
    document: dict[str, Any]  # validated, in the file's shape

    @property
    def channels(self) -> list[str]:
        return self.document["consent"]["channels"]

    @property
    def key_env(self) -> str:
        return self.document["pseudonymisation"]["key_env"]

    @property
    def local_key_file(self) -> bool:
        return self.document["pseudonymisation"]["local_key_file"]

    @property
    def request_types(self) -> list[str]:
        """What an erasure request may name: the configured identifier types and customer_id."""
        return [*self.document["erasure"]["request_identifier_types"], CUSTOMER_ID]

    def dbt_vars(self) -> dict[str, Any]:
        """The consent rules as the dbt `privacy` var (plain JSON types)."""
        return {DBT_VAR: {"consent": self.document["consent"]}}


def load_privacy_settings(path: Path | str = PRIVACY_CONFIG, registry: Registry | None = None) -> PrivacySettings:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PrivacyConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_privacy_settings(raw, path, registry or load_registry())


def parse_privacy_settings(raw: Any, path: Path | str, registry: Registry) -> PrivacySettings:
    path = Path(path)
    try:
        document = _Document.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).strip(".")
        raise PrivacyConfigError(f"{path}: {where or '<top>'}: {first['msg'].removeprefix('Value error, ')}") from None
    _check_against_registry(document, path, registry)
    return PrivacySettings(path=path, document=document.model_dump(mode="json"))


def _check_against_registry(document: _Document, path: Path, registry: Registry) -> None:
    def fail(key: str, message: str) -> PrivacyConfigError:
        return PrivacyConfigError(f"{path}: {key}: {message}")

    consent = document.consent
    for i, channel in enumerate(consent.channels):
        if channel not in IDENTIFIER_TYPES:
            raise fail(f"consent.channels[{i}]", f"{channel!r} is not an identifier type ({', '.join(IDENTIFIER_TYPES)})")
    if set(consent.without_a_choice) != set(consent.channels):
        raise fail("consent.without_a_choice", f"needs exactly the channels {consent.channels}")
    names = [s.name for s in consent.signals]
    for i, signal in enumerate(consent.signals):
        key = f"consent.signals[{i}]"
        if names.count(signal.name) > 1:
            raise fail(f"{key}.name", f"{signal.name!r} is used twice")
        if signal.source not in registry.sources:
            raise fail(f"{key}.source", f"unknown source {signal.source!r} (known: {', '.join(registry.sources)})")
        spec = registry.source(signal.source)
        for channel in signal.channels:
            if channel not in consent.channels:
                raise fail(f"{key}.channels", f"{channel!r} is not one of consent.channels {consent.channels}")
        if signal.touchpoint is not None:
            type_field = spec.touchpoint.type_field
            allowed = spec.field(type_field).allowed if type_field else (spec.touchpoint.type_value,)
            for kind in signal.touchpoint.types:
                if allowed is not None and kind not in allowed:
                    raise fail(f"{key}.touchpoint.types", f"{signal.source} has no touchpoint type {kind!r} ({list(allowed)})")
        else:
            declared = {f.name: f for f in spec.fields}
            field, at = signal.field.name, signal.field.at
            if field not in declared or declared[field].type != "bool":
                raise fail(f"{key}.field.name", f"{signal.source} has no bool field {field!r}")
            if at not in declared or declared[at].type not in TEMPORAL_TYPES:
                raise fail(f"{key}.field.at", f"{signal.source} has no date or timestamp field {at!r}")
    for i, kind in enumerate(document.erasure.request_identifier_types):
        if kind not in IDENTIFIER_TYPES:
            raise fail(f"erasure.request_identifier_types[{i}]", f"{kind!r} is not an identifier type")
