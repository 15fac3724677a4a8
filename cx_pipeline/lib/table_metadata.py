"""What the Dagster UI shows about a table once it is built: row count, a preview, key figures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
import duckdb

from cx_pipeline.lib.metadata import markdown_preview


@dataclass(frozen=True)
class KeyFigure:
    """A figure about a table, as SQL over `{relation}`: its first cell (a number), or with
    `table=True` its whole result as a markdown table."""

    name: str
    sql: str
    table: bool = False


def _value(cell):
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return dg.MetadataValue.text("n/a")  # Dagster rejects None and NaN as metadata
    if isinstance(cell, float):
        return round(cell, 4)
    return cell if isinstance(cell, int) else str(cell)


def table_metadata(
    con: duckdb.DuckDBPyConnection, relation: str, preview_rows: int, figures: Sequence[KeyFigure] = ()
) -> dict[str, object]:
    """Row count, the first rows as markdown and the key figures of `relation` (a quoted name)."""
    metadata: dict[str, object] = {
        # fetchall: DuckDB 2 keeps a half-read result open and refuses the next query on the connection
        "dagster/row_count": con.execute(f"select count(*) from {relation}").fetchall()[0][0],
        "preview": markdown_preview(con.sql(f"select * from {relation} limit {preview_rows}").pl(), preview_rows),
    }
    for figure in figures:
        query = figure.sql.format(relation=relation)
        if figure.table:
            metadata[figure.name] = markdown_preview(con.sql(query).pl(), rows=50)
        else:
            rows = con.execute(query).fetchall()
            metadata[figure.name] = _value(rows[0][0] if rows else None)
    return metadata
