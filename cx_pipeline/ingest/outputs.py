"""The five ingestion outputs per source: names, schemas, and how they are written.

Each file is processed on its own and appends "parts"; the parts are streamed into the final
parquet files at the end and swapped in with a rename, so a failed run leaves the previous
outputs untouched and memory never holds more than one landing file's rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from cx_pipeline.ingest.normalize import OUTPUT_DTYPES, UTC_TIMESTAMP
from cx_pipeline.ingest.registry import SourceSpec

ACCEPTED, QUARANTINE, IDENTIFIERS, TOUCHPOINTS, ATTRIBUTES = (
    "accepted", "quarantine", "identifiers", "touchpoints", "attributes"
)
OUTPUT_NAMES = (ACCEPTED, QUARANTINE, IDENTIFIERS, TOUCHPOINTS, ATTRIBUTES)

QUARANTINE_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "_source_file": pl.String,
        "_source_row": pl.Int64,
        "reason": pl.String,
        "field": pl.String,
        "detail": pl.String,
        "raw_record": pl.String,
    }
)
IDENTIFIERS_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "source_record_id": pl.String,
        "identifier_type": pl.String,
        "identifier_value": pl.String,
        "field": pl.String,
    }
)
TOUCHPOINTS_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "source_record_id": pl.String,
        "department": pl.String,
        "channel": pl.String,
        "touchpoint_type": pl.String,
        "occurred_at": UTC_TIMESTAMP,
    }
)

# Values of the fields the registry marks `attribute: true`, long form: golden-record candidates.
ATTRIBUTES_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "source_record_id": pl.String,
        "attribute": pl.String,
        "value": pl.String,
        "observed_at": UTC_TIMESTAMP,
    }
)


def accepted_schema(spec: SourceSpec) -> pl.Schema:
    return pl.Schema(
        {
            "source_record_id": pl.String,
            **{f.name: OUTPUT_DTYPES[f.type] for f in spec.fields},
            "_source_file": pl.String,
            "_source_row": pl.Int64,
        }
    )


def output_schemas(spec: SourceSpec) -> dict[str, pl.Schema]:
    return {
        ACCEPTED: accepted_schema(spec),
        QUARANTINE: QUARANTINE_SCHEMA,
        IDENTIFIERS: IDENTIFIERS_SCHEMA,
        TOUCHPOINTS: TOUCHPOINTS_SCHEMA,
        ATTRIBUTES: ATTRIBUTES_SCHEMA,
    }


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Exactly `schema`'s columns, order and types (parts must concatenate without surprises)."""
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


class OutputWriter:
    """Collects per-file parts for the outputs of one source, then publishes them."""

    def __init__(self, out_dir: Path, spec: SourceSpec) -> None:
        self.out_dir = out_dir
        self.schemas = output_schemas(spec)
        out_dir.mkdir(parents=True, exist_ok=True)
        self._parts_dir = Path(tempfile.mkdtemp(prefix=".parts-", dir=out_dir))
        self._parts: dict[str, list[Path]] = {name: [] for name in OUTPUT_NAMES}

    @staticmethod
    def final_paths(out_dir: Path) -> dict[str, Path]:
        return {name: out_dir / f"{name}.parquet" for name in OUTPUT_NAMES}

    @property
    def paths(self) -> dict[str, Path]:
        return self.final_paths(self.out_dir)

    def add(self, name: str, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        part = self._parts_dir / f"{name}-{len(self._parts[name]):05d}.parquet"
        conform(frame, self.schemas[name]).write_parquet(part)
        self._parts[name].append(part)

    def add_file(self, name: str, part: Path) -> None:
        """An output already written elsewhere (a day of a partitioned source) as the next part."""
        if pl.read_parquet_schema(part) != dict(self.schemas[name]):
            raise ValueError(f"{part}: its columns differ from the {name} output's; re-ingest that day")
        self._parts[name].append(part)

    def publish(self) -> dict[str, Path]:
        """Write every output (empty ones too, with their schema) and drop the parts."""
        for name, final in self.paths.items():
            staging = self._parts_dir / f"{name}.parquet"
            parts = self._parts[name]
            if len(parts) == 1:  # already the output, schema and all: moved or copied, not re-encoded
                if parts[0].parent == self._parts_dir:
                    os.replace(parts[0], staging)
                else:
                    shutil.copyfile(parts[0], staging)
            elif parts:
                pl.scan_parquet(parts).sink_parquet(staging)
            else:
                pl.DataFrame(schema=self.schemas[name]).write_parquet(staging)
            os.replace(staging, final)
        self.discard()
        return self.paths

    def discard(self) -> None:
        shutil.rmtree(self._parts_dir, ignore_errors=True)


def write_union(ingested: Path, table: str, sources: list[str]) -> dict[str, int]:
    """ingested/<table>.parquet from every source's part (streamed, swapped in with a rename);
    returns each source's row count, read from the parts' footers."""
    parts = {s: ingested / s / f"{table}.parquet" for s in sources}
    target = ingested / f"{table}.parquet"
    staging = target.with_suffix(".parquet.tmp")
    pl.scan_parquet(list(parts.values())).sink_parquet(staging)
    staging.replace(target)
    return {s: pl.scan_parquet(part).select(pl.len()).collect().item() for s, part in parts.items()}
