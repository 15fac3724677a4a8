"""Write landing files and ground truth: landing/<source>/<source>.<ext> per snapshot source,
landing/<source>/<YYYY-MM-DD>.<ext> per day of an event stream.

Files are written to a temporary name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from cx_pipeline.generate.contract import SourceSpec


def _replace(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _ndjson_lines(data: pl.DataFrame, broken: np.ndarray, cut: np.ndarray) -> pl.Series:
    """One JSON object per line; broken rows are cut off mid-object (after the event id)."""
    lines = data.select(pl.struct(pl.all()).struct.json_encode().alias("line"))["line"]
    length = lines.str.len_chars().to_numpy()
    keep = np.maximum(40, (length * cut).astype(np.int64))
    truncated = pl.select(pl.lit(lines).str.slice(0, pl.lit(pl.Series(keep)))).to_series()
    return pl.select(pl.when(pl.lit(pl.Series(broken))).then(pl.lit(truncated)).otherwise(pl.lit(lines))).to_series()


def landing_file_name(spec: SourceSpec, day: date) -> str:
    """<source>.<ext> for a snapshot source; <YYYY-MM-DD>.<ext> for an event stream's day file."""
    return f"{day.isoformat() if spec.registered.partitioned else spec.name}.{spec.extension}"


def write_source(
    spec: SourceSpec,
    frame: pl.DataFrame,
    landing_dir: Path,
    rng: np.random.Generator,
    keep: np.ndarray | None = None,
    day: date | None = None,
) -> Path:
    """Write the rows of `frame` (those `keep` marks, if given) as the source's landing file;
    an event stream's file is named for `day`. Rows render the same whichever are kept."""
    produced = {c for c in frame.columns if not c.startswith("_")}
    if produced != set(spec.columns):
        raise ValueError(f"{spec.name}: generated columns {sorted(produced)} != declared {spec.columns}")
    if spec.registered.partitioned and day is None:
        raise ValueError(f"{spec.name}: an event stream's landing file is named for a day; none given")
    folder = landing_dir / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / landing_file_name(spec, day)
    data = frame.select(spec.columns)
    kept = (lambda rows: rows) if keep is None else (lambda rows: rows.filter(pl.Series(keep)))
    if spec.format == "csv":
        _replace(path, lambda p: kept(data).write_csv(p))
    elif spec.format == "ndjson":
        broken = (frame["_defect"] == "broken_json").fill_null(False).to_numpy()
        lines = kept(_ndjson_lines(data, broken, rng.uniform(0.4, 0.9, frame.height)))
        text = "\n".join(lines.to_list()) + "\n" if len(lines) else ""
        _replace(path, lambda p: p.write_text(text, encoding="utf-8"))
    elif spec.format == "parquet":
        _replace(path, lambda p: kept(data).write_parquet(p, compression="zstd"))
    else:
        raise ValueError(f"{spec.name}: unsupported format {spec.format}")
    return path


def write_truth(truth_dir: Path, tables: dict[str, pl.DataFrame], summary: dict) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        _replace(truth_dir / f"{name}.parquet", lambda p, t=table: t.write_parquet(p, compression="zstd"))
    write_summary(truth_dir, summary)


def write_summary(truth_dir: Path, summary: dict) -> None:
    _replace(
        truth_dir / "summary.json",
        lambda p: p.write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        ),
    )
