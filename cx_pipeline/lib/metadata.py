"""Asset metadata helpers: previews and counts as the Dagster UI shows them."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import polars as pl


def markdown_preview(frame: pl.DataFrame, rows: int = 10) -> dg.MarkdownMetadataValue:
    """The first rows of a frame as a markdown table."""
    with pl.Config(
        tbl_formatting="ASCII_MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_rows=rows,
        tbl_cols=-1,
        tbl_width_chars=10_000,  # never squeeze columns: the UI scrolls
        fmt_str_lengths=40,
    ):
        return dg.MetadataValue.md(str(frame.head(rows)))


def markdown_counts(counts: Mapping[str, int], key: str, value: str = "rows") -> dg.MarkdownMetadataValue:
    """A two-column markdown table of counts, largest first."""
    lines = [f"| {key} | {value} |", "| --- | ---: |"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if not counts:
        lines.append("| (none) | 0 |")
    return dg.MetadataValue.md("\n".join(lines))
