"""Registry-driven ingestion of one source: landing files in, typed rows and quarantine out.

Nothing here knows any particular source: the SourceSpec says where the files are, how to
read them, how to type and check each field, which fields are identifiers and how a row
becomes a touchpoint. Every record lands in exactly one of accepted or quarantine, unless it
belongs to an erased person (the suppression list, cx_pipeline/privacy/suppression.py): those are
dropped before either, and counted.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from cx_pipeline.ingest.outputs import (
    ACCEPTED,
    ATTRIBUTES,
    ATTRIBUTES_SCHEMA,
    IDENTIFIERS,
    IDENTIFIERS_SCHEMA,
    QUARANTINE,
    TOUCHPOINTS,
    OutputWriter,
    accepted_schema,
)
from cx_pipeline.ingest.partitions import day_dir, drop_day, files_by_day, ingested_days
from cx_pipeline.ingest.readers import ROW, LandingRead, read_landing_file
from cx_pipeline.ingest.registry import FieldSpec, Registry, RegistryDefaults, SourceSpec
from cx_pipeline.ingest.validate import DETAIL, FIELD, REASON, check_records, value_column
from cx_pipeline.paths import DataPaths
from cx_pipeline.privacy.suppression import EMAIL_IN_TEXT, RECORD, SuppressedCounts, Suppression

log = logging.getLogger(__name__)

PREVIEW_ROWS = 10
RECORD_ID = "source_record_id"
RECORD_ID_SEPARATOR = "|"


@dataclass
class IngestResult:
    source: str
    files: list[str] = field(default_factory=list)  # relative to the data root, in read order
    rows_in: int = 0  # records read (blank lines excluded, see empty_records_skipped)
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_suppressed: int = 0  # rows of erased people (the suppression list): neither accepted nor quarantined
    suppressed_by_identifier: dict[str, int] = field(default_factory=dict)
    empty_records_skipped: int = 0  # blank lines / rows without any value: not records
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    identifiers_by_type: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)  # accepted/quarantine/identifiers/touchpoints
    preview: pl.DataFrame = field(default_factory=pl.DataFrame)  # first accepted rows


class IngestAccountingError(AssertionError):
    """Rows went missing or were counted twice: a bug, never a data problem."""


def landing_files(spec: SourceSpec, paths: DataPaths) -> list[Path]:
    """The source's landing files in the order they are read: sorted by name."""
    landing = paths.landing_dir(spec.name)
    return sorted((p for p in landing.glob(spec.path) if p.is_file()), key=lambda p: p.relative_to(landing).as_posix())


def ingest_all(
    registry: Registry, paths: DataPaths, sources: list[str] | None = None, suppression: Suppression | None = None
) -> dict[str, IngestResult]:
    names = sources if sources is not None else list(registry.sources)
    return {
        name: ingest_source(registry.source(name), registry.defaults, paths, suppression=suppression) for name in names
    }


def ingest_source(
    spec: SourceSpec,
    registry_defaults: RegistryDefaults,
    paths: DataPaths,
    days: Sequence[str] | None = None,
    suppression: Suppression | None = None,
) -> IngestResult:
    """Ingest a source's landing files into ingested/<source>/.

    A partitioned source (`partitioned_by: day`) is ingested day by day: `days` names the days to
    (re-)ingest, None every day that has landing files (a day whose files are gone is dropped).
    The result counts the rows of the files read in this call. Rows of erased people
    (`suppression`) are dropped before accept or quarantine, and counted.
    """
    suppression = suppression or Suppression()
    files = landing_files(spec, paths)
    if not files:
        log.warning("%s: no files match %s", spec.name, paths.landing_dir(spec.name) / spec.path)
    tally = _Tally(IngestResult(source=spec.name))
    if spec.partitioned:
        first_read = _ingest_days(spec, registry_defaults, paths, files, days, tally, suppression)
    elif days is not None:
        raise ValueError(f"source {spec.name!r} is not partitioned: it has no days to ingest")
    else:
        first_read = _ingest_files(
            spec, registry_defaults, paths, files, paths.ingested_dir(spec.name), SeenRecordIds(), tally, suppression
        )
    result = tally.result()
    result.outputs = OutputWriter.final_paths(paths.ingested_dir(spec.name))
    result.preview = pl.read_parquet(first_read or result.outputs[ACCEPTED], n_rows=PREVIEW_ROWS)
    return result


class _Tally:
    """What the files read in one call add up to."""

    def __init__(self, result: IngestResult) -> None:
        self._result = result
        self.reasons: Counter[str] = Counter()
        self.identifiers: Counter[str] = Counter()
        self.suppressed = SuppressedCounts()

    def add(self, chunk: _ChunkOutcome) -> None:
        r = self._result
        r.rows_in += chunk.rows_in
        r.rows_accepted += chunk.accepted.height
        r.rows_quarantined += chunk.quarantine.height
        r.empty_records_skipped += chunk.empty_records
        for reason, rows in chunk.suppressed.items():
            self.suppressed.add(reason, rows)
        self.reasons.update(dict(chunk.quarantine["reason"].value_counts().iter_rows()))
        self.identifiers.update(dict(chunk.identifiers["identifier_type"].value_counts().iter_rows()))

    def file(self, label: str) -> None:
        self._result.files.append(label)

    def check(self) -> None:
        r = self._result
        if r.rows_in != r.rows_accepted + r.rows_quarantined + self.suppressed.rows:
            raise IngestAccountingError(f"{r.source}: {r.rows_in} rows in != accepted + quarantined + suppressed")

    def result(self) -> IngestResult:
        self._result.quarantined_by_reason = dict(self.reasons.most_common())
        self._result.identifiers_by_type = dict(self.identifiers.most_common())
        self._result.rows_suppressed = self.suppressed.rows
        self._result.suppressed_by_identifier = dict(self.suppressed.by_identifier)
        return self._result


def _ingest_files(
    spec: SourceSpec,
    registry_defaults: RegistryDefaults,
    paths: DataPaths,
    files: list[Path],
    out_dir: Path,
    seen: SeenRecordIds,
    tally: _Tally,
    suppression: Suppression,
) -> Path:
    """Read `files` into the five outputs in `out_dir`, swapped in only when all went well, with
    the counts of suppressed rows beside them; returns the accepted output."""
    writer = OutputWriter(out_dir, spec)
    suppressed = SuppressedCounts()
    try:
        for path in files:
            tally.file(_relative(path, paths.root))
            for chunk in _ingest_file(path, spec, registry_defaults, paths, seen, suppression):
                tally.add(chunk)
                for reason, rows in chunk.suppressed.items():
                    suppressed.add(reason, rows)
                writer.add(ACCEPTED, chunk.accepted)
                writer.add(QUARANTINE, chunk.quarantine)
                writer.add(IDENTIFIERS, chunk.identifiers)
                writer.add(TOUCHPOINTS, chunk.touchpoints)
                writer.add(ATTRIBUTES, chunk.attributes)
            log.info("%s: read %s", spec.name, _relative(path, paths.root))
        tally.check()
        accepted = writer.publish()[ACCEPTED]
        suppressed.write(out_dir)
        return accepted
    except BaseException:
        writer.discard()
        raise


def _ingest_days(
    spec: SourceSpec,
    registry_defaults: RegistryDefaults,
    paths: DataPaths,
    files: list[Path],
    days: Sequence[str] | None,
    tally: _Tally,
    suppression: Suppression,
) -> Path | None:
    """Ingest the wanted days into ingested/<source>/days/<day>/, then stream every day's outputs
    into the source's outputs. Returns the accepted output of the first day read, if any.

    A record id already accepted on an earlier day is a duplicate, as within one file: earlier
    days that are not re-read lend their accepted ids. (Re-reading an old day does not re-check
    the days after it; a full run does.)
    """
    by_day = files_by_day(files, spec)
    existing = ingested_days(paths, spec.name)
    wanted = set(by_day) | set(existing) if days is None else {_day_key(d, spec) for d in days}
    seen = SeenRecordIds()
    landing_prefix = _relative(paths.landing, paths.root) + "/"
    first_read: Path | None = None
    for day in sorted(wanted | set(existing)):
        if day > max(wanted, default=""):
            break
        if day not in wanted:
            seen.remember_ingested(day_dir(paths, spec.name, day) / f"{ACCEPTED}.parquet", landing_prefix)
        elif day in by_day:
            accepted = _ingest_files(
                spec, registry_defaults, paths, by_day[day], day_dir(paths, spec.name, day), seen, tally, suppression
            )
            first_read = first_read or accepted
        else:
            drop_day(paths, spec.name, day)  # its landing files are gone: so are its rows
    combined = OutputWriter(paths.ingested_dir(spec.name), spec)
    suppressed = SuppressedCounts()
    try:
        for day in ingested_days(paths, spec.name):
            for name, part in OutputWriter.final_paths(day_dir(paths, spec.name, day)).items():
                combined.add_file(name, part)
            suppressed.merge(SuppressedCounts.read(day_dir(paths, spec.name, day)))
        combined.publish()
    except BaseException:
        combined.discard()
        raise
    suppressed.write(paths.ingested_dir(spec.name))  # every day's, as the combined outputs
    return first_read


def _day_key(day: str, spec: SourceSpec) -> str:
    try:
        return date.fromisoformat(day).isoformat()
    except ValueError:
        raise ValueError(f"source {spec.name!r}: {day!r} is not a day (YYYY-MM-DD)") from None


class SeenRecordIds:
    """Record ids accepted so far in this run, with where they were first seen.

    First occurrence wins, in read order; only valid rows claim an id, so a broken first row
    does not get a later good copy quarantined as its duplicate. Files are kept as numbers:
    at 10 M ids a repeated file name per id would cost more than the ids.
    """

    def __init__(self) -> None:
        self.files: list[str] = []
        self.frame = pl.DataFrame(schema={RECORD_ID: pl.String, "__first_file": pl.Int32, "__first_row": pl.Int64})

    def mark_duplicates(self, rows: pl.DataFrame, file_label: str) -> pl.DataFrame:
        """rows (ROW, RECORD_ID, in row order) -> + __first_file (label), __first_row, __duplicate."""
        here = self._file_number(file_label)
        marked = rows.join(self.frame, on=RECORD_ID, how="left", maintain_order="left")
        first_here = pl.col(ROW).min().over(RECORD_ID)
        marked = marked.with_columns(
            pl.col("__first_file").is_not_null().or_(pl.col(ROW) != first_here).alias("__duplicate"),
            pl.col("__first_file").fill_null(here),
            pl.col("__first_row").fill_null(first_here),
        )
        return marked.with_columns(
            pl.col("__first_file").replace_strict(range(len(self.files)), self.files, return_dtype=pl.String)
        )

    def remember_ingested(self, accepted: Path, landing_prefix: str) -> None:
        """Ids accepted in an earlier run (an ingested day's accepted output), with their file and row."""
        if not accepted.exists():
            return
        frame = pl.read_parquet(accepted, columns=[RECORD_ID, "_source_file", "_source_row"])
        for (source_file,), rows in frame.group_by("_source_file", maintain_order=True):
            self.remember(rows.rename({"_source_row": ROW}), str(source_file).removeprefix(landing_prefix))

    def remember(self, accepted: pl.DataFrame, file_label: str) -> None:
        new = accepted.select(
            RECORD_ID,
            pl.lit(self._file_number(file_label), pl.Int32).alias("__first_file"),
            pl.col(ROW).alias("__first_row"),
        )
        self.frame = self.frame.vstack(new)

    def _file_number(self, label: str) -> int:
        if not self.files or self.files[-1] != label:
            self.files.append(label)
        return len(self.files) - 1


@dataclass
class _ChunkOutcome:
    rows_in: int
    empty_records: int
    accepted: pl.DataFrame
    quarantine: pl.DataFrame
    identifiers: pl.DataFrame
    touchpoints: pl.DataFrame
    attributes: pl.DataFrame
    suppressed: dict[str, int] = field(default_factory=dict)  # why (identifier type or `record`) -> rows

    @property
    def rows_suppressed(self) -> int:
        return sum(self.suppressed.values())


def _ingest_file(
    path: Path,
    spec: SourceSpec,
    defaults: RegistryDefaults,
    paths: DataPaths,
    seen: SeenRecordIds,
    suppression: Suppression,
) -> Iterator[_ChunkOutcome]:
    source_file = _relative(path, paths.root)  # landing/orders/orders.csv: stored with each row
    label = _relative(path, paths.landing)  # orders/orders.csv: names the file in messages
    for read in read_landing_file(path, spec):
        outcome = _ingest_chunk(read, spec, defaults, seen, source_file, label, suppression)
        if outcome.rows_in != outcome.accepted.height + outcome.quarantine.height + outcome.rows_suppressed:
            raise IngestAccountingError(
                f"{label}: {outcome.rows_in} records read but {outcome.accepted.height} accepted"
                f" + {outcome.quarantine.height} quarantined + {outcome.rows_suppressed} suppressed"
            )
        yield outcome


def _ingest_chunk(
    read: LandingRead,
    spec: SourceSpec,
    defaults: RegistryDefaults,
    seen: SeenRecordIds,
    source_file: str,
    label: str,
    suppression: Suppression | None = None,
) -> _ChunkOutcome:
    rows_in = read.rows_in
    suppressed: dict[str, int] = {}
    if suppression is not None and not suppression.empty:
        read = _without_suppressed_malformed(read, suppression, suppressed)
    problems = [_malformed(read, label)]
    if read.missing_columns:
        problems.append(_missing_columns(read, spec, label))
        accepted = pl.DataFrame(schema=accepted_schema(spec))
    else:
        checked = check_records(read.records, spec, defaults, label)
        if suppression is not None and not suppression.empty:
            checked = _without_suppressed(checked, spec, suppression, suppressed)
        problems.append(checked.filter(pl.col(REASON).is_not_null()).select(ROW, REASON, FIELD, DETAIL))
        valid = checked.filter(pl.col(REASON).is_null()).with_columns(_record_id(spec).alias(RECORD_ID))
        marked = seen.mark_duplicates(valid.select(ROW, RECORD_ID), label)
        duplicate = marked["__duplicate"]
        problems.append(_duplicates(marked.filter(duplicate), spec, label))
        valid = valid.filter(~duplicate)
        seen.remember(valid, label)
        accepted = valid.select(
            RECORD_ID,
            *[pl.col(value_column(f)).alias(f.name) for f in spec.fields],
            pl.lit(source_file).alias("_source_file"),
            pl.col(ROW).alias("_source_row"),
        )

    quarantine = _with_raw_records(pl.concat(problems, how="diagonal"), read).sort(ROW)
    quarantine = quarantine.select(
        pl.lit(spec.name).alias("source"),
        pl.lit(source_file).alias("_source_file"),
        pl.col(ROW).alias("_source_row"),
        pl.col(REASON).alias("reason"),
        pl.col(FIELD).alias("field"),
        pl.col(DETAIL).alias("detail"),
        "raw_record",
    )
    return _ChunkOutcome(
        rows_in=rows_in,
        empty_records=read.empty_records,
        accepted=accepted,
        quarantine=quarantine,
        identifiers=_identifiers(accepted, spec),
        touchpoints=_touchpoints(accepted, spec),
        attributes=_attributes(accepted, spec),
        suppressed=suppressed,
    )


def _without_suppressed(
    checked: pl.DataFrame, spec: SourceSpec, suppression: Suppression, counts: dict[str, int]
) -> pl.DataFrame:
    """The rows of `checked` whose record id and identifiers (as normalised; invalid ones are null)
    are not on the suppression list; each dropped row is counted once, under its first match."""
    dropped = pl.Series([False] * checked.height, dtype=pl.Boolean)
    tests = [(RECORD, lambda: suppression.record_matches(spec.name, checked.select(_record_id(spec)).to_series()))]
    tests += [
        (f.identifier, lambda f=f: suppression.identifier_matches(f.identifier, checked[value_column(f)].cast(pl.String)))
        for f in spec.identifier_fields
    ]
    for reason, matches in tests:
        hit = matches() & ~dropped
        counts[reason] = counts.get(reason, 0) + int(hit.sum())
        dropped = dropped | hit
    return checked.filter(~dropped)


def _without_suppressed_malformed(read: LandingRead, suppression: Suppression, counts: dict[str, int]) -> LandingRead:
    """Records too broken to parse are suppressed by the email addresses written in them."""
    if read.malformed.is_empty() or not suppression.identifiers:
        return read
    emails = (
        read.malformed.select(ROW, pl.col("raw_record").str.extract_all(EMAIL_IN_TEXT).alias("email"))
        .explode("email")
        .with_columns(pl.col("email").str.strip_chars().str.to_lowercase())
    )
    rows = emails.filter(suppression.identifier_matches("email", emails["email"]))[ROW].unique()
    if rows.is_empty():
        return read
    counts["email"] = counts.get("email", 0) + rows.len()
    return dataclasses.replace(read, malformed=read.malformed.filter(~pl.col(ROW).is_in(rows.implode())))


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def _problem_rows(rows: pl.DataFrame, reason: str, field: str | None, detail: pl.Expr) -> pl.DataFrame:
    return rows.select(ROW, pl.lit(reason).alias(REASON), pl.lit(field, pl.String).alias(FIELD), detail.alias(DETAIL))


def _malformed(read: LandingRead, label: str) -> pl.DataFrame:
    detail = pl.concat_str(pl.lit(f"{label} row "), pl.col(ROW).cast(pl.String), pl.lit(": "), pl.col("problem"))
    return _problem_rows(read.malformed, "malformed_record", None, detail).with_columns(
        read.malformed["raw_record"].alias("raw_record")
    )


def _missing_columns(read: LandingRead, spec: SourceSpec, label: str) -> pl.DataFrame:
    # A schema break: the whole file's records are quarantined (not raised) so the other files
    # of the source still flow and the break is visible, with every record kept, in quarantine.
    missing = [f for f in spec.fields if f.column in read.missing_columns]
    listed = ", ".join(f"'{f.column}' (field '{f.name}')" for f in missing)
    detail = pl.concat_str(
        pl.lit(f"{label} row "),
        pl.col(ROW).cast(pl.String),
        pl.lit(f": the file has no column {listed}; all its records are quarantined"),
    )
    return _problem_rows(read.records, "missing_column", missing[0].name, detail)


def _duplicates(marked: pl.DataFrame, spec: SourceSpec, label: str) -> pl.DataFrame:
    detail = pl.concat_str(
        pl.lit(f"{label} row "),
        pl.col(ROW).cast(pl.String),
        pl.lit(f" field '{RECORD_ID_SEPARATOR.join(spec.record_id)}': record id '"),
        pl.col(RECORD_ID),
        pl.lit("' was already accepted from "),
        pl.col("__first_file"),
        pl.lit(" row "),
        pl.col("__first_row").cast(pl.String),
    )
    return _problem_rows(marked, "duplicate_record_id", RECORD_ID_SEPARATOR.join(spec.record_id), detail)


def _with_raw_records(problems: pl.DataFrame, read: LandingRead) -> pl.DataFrame:
    """Attach each quarantined record's original values (malformed ones already carry their text)."""
    if "raw_record" not in problems.columns:
        problems = problems.with_columns(pl.lit(None, pl.String).alias("raw_record"))
    needed = problems.filter(pl.col("raw_record").is_null()).select(ROW)
    raw = read.records.join(needed, on=ROW, how="semi").select(ROW, read.raw_record.alias("__raw"))
    return problems.join(raw, on=ROW, how="left", maintain_order="left").select(
        ROW, REASON, FIELD, DETAIL, pl.coalesce("raw_record", "__raw").alias("raw_record")
    )


def _record_id(spec: SourceSpec) -> pl.Expr:
    parts = [_id_text(spec.field(name)) for name in spec.record_id]
    return pl.concat_str(parts, separator=RECORD_ID_SEPARATOR)


def _id_text(field: FieldSpec) -> pl.Expr:
    value = pl.col(value_column(field))
    if field.type == "date":
        return value.dt.to_string("%Y-%m-%d")
    if field.type == "timestamp":
        return value.dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ")
    return value.cast(pl.String)


def _long_form(
    accepted: pl.DataFrame, fields: tuple[FieldSpec, ...], schema: pl.Schema, columns: Callable[[FieldSpec], list]
) -> pl.DataFrame:
    """One row per non-null value of each of `fields`: record by record, then in registry field order."""
    frames = [
        accepted.filter(pl.col(f.name).is_not_null()).select(
            *columns(f), "_source_row", pl.lit(position).alias("__position")
        )
        for position, f in enumerate(fields)
    ]
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).sort("_source_row", "__position").select(schema.names())


def _identifiers(accepted: pl.DataFrame, spec: SourceSpec) -> pl.DataFrame:
    return _long_form(
        accepted,
        spec.identifier_fields,
        IDENTIFIERS_SCHEMA,
        lambda f: [
            pl.lit(spec.name).alias("source"),
            RECORD_ID,
            pl.lit(f.identifier).alias("identifier_type"),
            pl.col(f.name).cast(pl.String).alias("identifier_value"),
            pl.lit(f.name).alias("field"),
        ],
    )


def _occurred_at(spec: SourceSpec) -> pl.Expr:
    """When a row happened: its touchpoint timestamp (a day is placed at midnight UTC)."""
    occurred = pl.col(spec.touchpoint.timestamp_field)
    if spec.field(spec.touchpoint.timestamp_field).type == "date":
        occurred = occurred.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return occurred


def _touchpoints(accepted: pl.DataFrame, spec: SourceSpec) -> pl.DataFrame:
    touchpoint = spec.touchpoint
    kind = pl.col(touchpoint.type_field) if touchpoint.type_field else pl.lit(touchpoint.type_value)
    return accepted.select(
        pl.lit(spec.name).alias("source"),
        RECORD_ID,
        pl.lit(spec.department).alias("department"),
        pl.lit(spec.channel).alias("channel"),
        kind.cast(pl.String).alias("touchpoint_type"),
        _occurred_at(spec).alias("occurred_at"),
    )


def _attributes(accepted: pl.DataFrame, spec: SourceSpec) -> pl.DataFrame:
    """Values of the `attribute: true` fields with when they were observed (golden-record candidates)."""
    return _long_form(
        accepted,
        spec.attribute_fields,
        ATTRIBUTES_SCHEMA,
        lambda f: [
            pl.lit(spec.name).alias("source"),
            RECORD_ID,
            pl.lit(f.name).alias("attribute"),
            pl.col(f.name).cast(pl.String).alias("value"),
            _occurred_at(spec).alias("observed_at"),
        ],
    )
