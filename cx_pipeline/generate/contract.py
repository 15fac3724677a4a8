"""The landing-file contract: the generator's view of the source registry.

The generator writes exactly the columns declared in cx_pipeline/config/sources.yml, renders
timestamps in the declared format and zone, and derives which bad rows fit a source (required
fields, bounds, allowed values) from it, so a registry change shows up in the sample data without
touching the generator. Parsing and validation are the registry loader's; this adds only what
writing files needs (landing column names rather than canonical field names).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cx_pipeline.ingest.registry import FieldSpec, SourceSpec as RegisteredSource, load_registry
from cx_pipeline.paths import SOURCE_REGISTRY

__all__ = ["Contract", "FieldSpec", "SourceSpec", "load_contract"]


@dataclass(frozen=True)
class SourceSpec:
    registered: RegisteredSource
    default_timezone: str

    @property
    def name(self) -> str:
        return self.registered.name

    @property
    def format(self) -> str:  # csv | ndjson | parquet
        return self.registered.format

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return self.registered.fields

    @property
    def record_id(self) -> tuple[str, ...]:
        """The record id as landing column names."""
        return tuple(self.registered.field(name).column for name in self.registered.record_id)

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    @property
    def extension(self) -> str:
        return self.format

    @property
    def is_text(self) -> bool:
        return self.format in ("csv", "ndjson")

    def field(self, column: str) -> FieldSpec:
        """The field read from landing `column`."""
        return next(f for f in self.fields if f.column == column)


@dataclass(frozen=True)
class Contract:
    sources: dict[str, SourceSpec]
    currencies: tuple[str, ...]
    default_timezone: str


def load_contract(path: Path = SOURCE_REGISTRY) -> Contract:
    registry = load_registry(path)
    tz = registry.defaults.timezone
    return Contract(
        sources={name: SourceSpec(spec, tz) for name, spec in registry.sources.items()},
        currencies=tuple(registry.defaults.currencies),
        default_timezone=tz,
    )
