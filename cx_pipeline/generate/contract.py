"""The landing-file contract, read from the source registry (cx_pipeline/config/sources.yml).

The generator writes exactly the columns declared there, renders timestamps in the declared format and
zone, and derives which bad rows fit a source (required fields, bounds, allowed values) from it, so a
registry change shows up in the sample data without touching the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from cx_pipeline.paths import SOURCE_REGISTRY


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


@dataclass(frozen=True)
class SourceSpec:
    name: str
    format: str  # csv | ndjson | parquet
    fields: tuple[FieldSpec, ...]
    record_id: tuple[str, ...]  # landing column names
    default_timezone: str

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
        return next(f for f in self.fields if f.column == column)


@dataclass(frozen=True)
class Contract:
    sources: dict[str, SourceSpec]
    currencies: tuple[str, ...]
    default_timezone: str


def load_contract(path: Path = SOURCE_REGISTRY) -> Contract:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    defaults = raw.get("defaults", {})
    tz = defaults.get("timezone", "Asia/Tokyo")
    sources = {}
    for name, spec in raw["sources"].items():
        fields = tuple(
            FieldSpec(
                name=fname,
                column=f["column"],
                type=f["type"],
                required=bool(f.get("required", False)),
                format=f.get("format"),
                timezone=f.get("timezone"),
                min=f.get("min"),
                max=f.get("max"),
                allowed=tuple(f["allowed"]) if f.get("allowed") else None,
                identifier=f.get("identifier"),
            )
            for fname, f in spec["fields"].items()
        )
        by_name = {f.name: f.column for f in fields}
        record_id = spec["record_id"]
        record_id = [record_id] if isinstance(record_id, str) else list(record_id)
        sources[name] = SourceSpec(
            name=name,
            format=spec["format"],
            fields=fields,
            record_id=tuple(by_name[r] for r in record_id),
            default_timezone=tz,
        )
    return Contract(sources=sources, currencies=tuple(defaults.get("currencies", [])), default_timezone=tz)
