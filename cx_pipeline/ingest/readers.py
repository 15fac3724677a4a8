"""Read one landing file into records, keeping what could not be read and where it was.

Every reader yields `LandingRead` chunks of at most `chunk_rows` records (so a 10 M line file
is never typed all at once): parsed records numbered by `_source_row` (the 1-based data
record number; for NDJSON the line number), the malformed records with their raw text, and
the declared columns the file lacks. Nothing is dropped except records with no values at all
(blank lines), and those are counted.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from cx_pipeline.ingest.registry import SourceSpec

ROW = "_source_row"
CHUNK_ROWS = 500_000
CSV_BLOCK_BYTES = 16 * 2**20  # CSV is parsed this many bytes at a time
LINE = "__line"  # NDJSON: the raw line, which is also its raw record


class LandingFileError(ValueError):
    """A landing file that can't be read at all (wrong encoding, duplicate header...)."""


@dataclass
class LandingRead:
    records: pl.DataFrame  # ROW (Int64) + the file's columns (CSV: str; NDJSON: declared keys + LINE)
    malformed: pl.DataFrame  # ROW, raw_record, problem
    missing_columns: list[str]  # declared columns the file doesn't have
    empty_records: int  # blank lines / rows without a single value: skipped, not in rows_in
    raw_record: pl.Expr  # how to render a record of `records` as its original text

    @property
    def rows_in(self) -> int:
        return self.records.height + self.malformed.height


MALFORMED_SCHEMA = {ROW: pl.Int64, "raw_record": pl.String, "problem": pl.String}


def read_landing_file(path: Path, spec: SourceSpec, chunk_rows: int | None = None) -> Iterator[LandingRead]:
    """The file's records in order, chunk by chunk (possibly no chunk for an empty file)."""
    reader = {"csv": read_csv, "ndjson": read_ndjson, "parquet": read_parquet}[spec.format]
    return reader(path, spec, chunk_rows or CHUNK_ROWS)


def _declared_columns(spec: SourceSpec) -> list[str]:
    return [f.column for f in spec.fields]


def _json_of(columns: list[str], schema: pl.Schema) -> pl.Expr:
    """The original values of a record as a JSON object of strings (nested values as JSON)."""
    if not columns:
        return pl.lit("{}")
    as_strings = [
        pl.col(c) if isinstance(schema[c], (pl.List, pl.Array, pl.Struct)) else pl.col(c).cast(pl.String)
        for c in columns
    ]
    return pl.struct(as_strings).struct.json_encode()


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


# --- CSV ---------------------------------------------------------------------------------


def read_csv(path: Path, spec: SourceSpec, chunk_rows: int = CHUNK_ROWS) -> Iterator[LandingRead]:
    """All columns as strings. Rows with the wrong number of fields become malformed records.

    Polars' CSV reader pads short rows and can only truncate long ones, so it cannot tell a
    broken row from a good one; pyarrow's parser (already a dependency, and zero-copy into
    Polars) reports each such row with its record number and raw text, and skips it. The file is
    streamed block by block (CSV_BLOCK_BYTES), so memory is bounded by a block, not the file.
    """
    header = _csv_header(path, spec.encoding)
    if header is None:  # a zero-byte file: no columns, no records
        return
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated or ROW in header:
        raise LandingFileError(f"{path}: the header repeats or reserves column(s) {duplicated or [ROW]}")

    broken: list[tuple[int, str, str]] = []

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        # number counts the header as record 1 (pyarrow only tracks it with use_threads=False).
        if row.number is None:
            raise LandingFileError(f"{path}: pyarrow did not report the number of a malformed row")
        problem = f"malformed CSV record: {row.actual_columns} fields where the header has {row.expected_columns}"
        broken.append((row.number - 1, row.text, problem))
        return "skip"

    def cannot_read(exc: Exception) -> LandingFileError:
        return LandingFileError(f"{path}: cannot be read as {spec.encoding} CSV: {exc}")

    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=False, encoding=spec.encoding, block_size=CSV_BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid_row
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise cannot_read(exc) from exc
    if reader.schema.names != header:
        raise LandingFileError(f"{path}: header parsed inconsistently ({reader.schema.names} vs {header})")

    missing = [c for c in _declared_columns(spec) if c not in header]
    raw_record = _json_of(header, pl.Schema({c: pl.String for c in header}))
    numbers = _RecordNumbers(broken)
    pending: tuple[pl.DataFrame, int] | None = None  # a chunk and its last record number
    done_up_to = 0  # malformed records travel with the chunk whose record range they fall in

    def finish(records: pl.DataFrame, up_to: int) -> LandingRead:
        malformed = pl.DataFrame(
            [b for b in broken if done_up_to < b[0] <= up_to], schema=["_n", "raw_record", "problem"], orient="row"
        ).select(pl.col("_n").cast(pl.Int64).alias(ROW), "raw_record", "problem")
        # A blank line reaches us as a row of empty strings (so does ",,,"): no data, not a record.
        empty = pl.all_horizontal(pl.col(c) == "" for c in header) if header else pl.lit(False)
        return LandingRead(
            records=records.filter(~empty),
            malformed=malformed,
            missing_columns=missing,
            empty_records=records.select(empty.sum()).item() if header else 0,
            raw_record=raw_record,
        )

    batches = iter(reader)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise cannot_read(exc) from exc
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        for chunk in frame.iter_slices(chunk_rows):
            rows = numbers.take(chunk.height)
            chunk = chunk.with_columns(pl.Series(ROW, rows, dtype=pl.Int64)).select(ROW, *header)
            if pending is not None:
                yield finish(*pending)
                done_up_to = pending[1]
            pending = (chunk, int(rows[-1]))
    # The last chunk takes the malformed records after it (or there is only that one chunk).
    total = max([numbers.next - 1, *(b[0] for b in broken)], default=0)
    last = pending[0] if pending is not None else pl.DataFrame(schema={ROW: pl.Int64, **{c: pl.String for c in header}})
    yield finish(last, total)


class _RecordNumbers:
    """Hands out record numbers to good rows in order, skipping the numbers broken rows took.

    A batch's good rows come after every broken row parsed before them, so the broken numbers
    known when a batch arrives are all those that can fall among its rows.
    """

    def __init__(self, broken: list[tuple[int, str, str]]) -> None:
        self.broken = broken
        self.next = 1

    def take(self, count: int) -> np.ndarray:
        taken = {b[0] for b in self.broken if b[0] >= self.next}
        end = self.next + count
        while (skipped := sum(1 for b in taken if b < end)) != end - self.next - count:
            end = self.next + count + skipped
        numbers = np.arange(self.next, end, dtype=np.int64)
        if taken:
            numbers = numbers[~np.isin(numbers, np.fromiter(taken, dtype=np.int64))]
        self.next = end
        return numbers


def _slices(frame: pl.DataFrame, rows: int) -> Iterator[pl.DataFrame]:
    yield from frame.iter_slices(rows) if frame.height else [frame]


def _csv_header(path: Path, encoding: str) -> list[str] | None:
    encoding = "utf-8-sig" if _is_utf8(encoding) else encoding  # Excel writes a BOM
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        try:
            return next(csv.reader(text))
        except StopIteration:
            return None
        except UnicodeDecodeError as exc:
            raise LandingFileError(f"{path}: header is not valid {encoding}: {exc}") from exc


# --- NDJSON ------------------------------------------------------------------------------


def read_ndjson(path: Path, spec: SourceSpec, chunk_rows: int = CHUNK_ROWS) -> Iterator[LandingRead]:
    """One JSON object per line; a key absent from a line is a missing value, not a schema break.

    `str.json_decode` fails the whole column on the first bad line, so lines are streamed raw
    and declared keys extracted with `json_path_match`, which yields null on invalid JSON.
    Only lines where no declared key was found (rare) need the full validity check.
    """
    source: Path | bytes = path
    if not _is_utf8(spec.encoding):
        try:
            source = path.read_bytes().decode(spec.encoding).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise LandingFileError(f"{path}: not valid {spec.encoding}: {exc}") from exc
    lines = pl.scan_lines(source, name=LINE, row_index_name=ROW, row_index_offset=1)
    columns = list(dict.fromkeys(_declared_columns(spec)))
    batches = lines.collect_batches(chunk_size=chunk_rows)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except pl.exceptions.PolarsError as exc:
            raise LandingFileError(f"{path}: cannot be read as {spec.encoding} text: {exc}") from exc
        yield _ndjson_chunk(batch, columns)


def _ndjson_chunk(lines: pl.DataFrame, columns: list[str]) -> LandingRead:
    lines = lines.with_columns(pl.col(ROW).cast(pl.Int64), pl.col(LINE).str.strip_prefix("\ufeff"))
    blank = pl.col(LINE).str.strip_chars() == ""
    empty_records = lines.select(blank.sum()).item()
    records = lines.filter(~blank).with_columns(
        pl.col(LINE).str.json_path_match(_json_path(c)).alias(c) for c in columns
    )
    found_a_key = pl.any_horizontal(pl.col(c).is_not_null() for c in columns)
    is_object = pl.col(LINE).str.strip_chars_start().str.starts_with("{") & pl.col(LINE).str.json_path_match(
        "$"
    ).is_not_null()
    broken = records.filter(~found_a_key).filter(~is_object)[ROW].implode()
    malformed = records.filter(pl.col(ROW).is_in(broken)).select(
        ROW,
        pl.col(LINE).alias("raw_record"),
        pl.lit("malformed JSON record: not a valid JSON object").alias("problem"),
    )
    records = records.filter(~pl.col(ROW).is_in(broken)).select(ROW, *columns, LINE)
    return LandingRead(records, malformed, [], empty_records, pl.col(LINE))


def _json_path(key: str) -> str:
    if key.isidentifier():
        return f"$.{key}"
    return "$['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


# --- Parquet -----------------------------------------------------------------------------


def read_parquet(path: Path, spec: SourceSpec, chunk_rows: int = CHUNK_ROWS) -> Iterator[LandingRead]:
    """Native types are kept; normalisation accepts them where they match the field type."""
    columns = list(pl.read_parquet_schema(path))
    if ROW in columns:
        raise LandingFileError(f"{path}: column {ROW} is reserved")
    missing = [c for c in _declared_columns(spec) if c not in columns]
    rows_before = 0
    for batch in pl.scan_parquet(path).collect_batches(chunk_size=chunk_rows):
        records = batch.with_row_index(ROW, offset=rows_before + 1).with_columns(pl.col(ROW).cast(pl.Int64))
        rows_before += batch.height
        yield LandingRead(
            records=records,
            malformed=pl.DataFrame(schema=MALFORMED_SCHEMA),
            missing_columns=missing,
            empty_records=0,
            raw_record=_json_of(columns, records.schema),
        )
