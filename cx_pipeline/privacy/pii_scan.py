"""Finding raw emails and phone numbers in tables: the scan the `pii_scan` check runs on every mart.

Every text column of every table is matched against the patterns of cx_pipeline/config/quality.yml
(checks.pii_scan.patterns) in SQL (DuckDB's RE2), so nothing is read into Python but the counts
and a few masked examples. The examples are masked (`t***@e***.com`, `+81*******78`): a finding must
never copy the personal data it found into check metadata, results files or alerts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

TEXT_TYPES = ("VARCHAR",)
EXAMPLES = 3


@dataclass(frozen=True)
class PiiHit:
    table: str
    column: str
    kind: str  # email | phone
    values: int  # rows whose value matches
    examples: tuple[str, ...]  # masked


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def text_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? and data_type in (select unnest(?)) order by ordinal_position",
        [schema, table, list(TEXT_TYPES)],
    ).fetchall()
    return [r[0] for r in rows]


def scan_table(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, patterns: dict[str, list[str]]
) -> tuple[list[PiiHit], int]:
    """Hits per column and kind, and the number of text columns scanned: one pass over the table
    counts every column and kind; only columns with hits are read again for masked examples."""
    columns = text_columns(con, schema, table)
    if not columns:
        return [], 0
    relation = f"{quote(schema)}.{quote(table)}"
    kinds = {kind: "|".join(f"(?:{regex})" for regex in regexes) for kind, regexes in patterns.items()}
    pairs = [(column, kind) for column in columns for kind in kinds]
    counts = con.execute(
        "select " + ", ".join(f"count(*) filter (where regexp_matches({quote(c)}, ?))" for c, _ in pairs)
        + f" from {relation}",
        [kinds[k] for _, k in pairs],
    ).fetchall()[0]
    hits = []
    for (column, kind), count in zip(pairs, counts, strict=True):
        if count:
            examples = con.execute(
                f"select {quote(column)} from {relation} where regexp_matches({quote(column)}, ?) limit {EXAMPLES}",
                [kinds[kind]],
            ).fetchall()
            hits.append(PiiHit(table, column, kind, count, tuple(mask(v) for (v,) in examples)))
    return hits, len(columns)


_EMAIL = re.compile(r"([^@\s]+)@([^@\s]+)")


def mask(value: str) -> str:
    """Enough of a value to recognise its shape, not the person: first character of each part."""
    masked = _EMAIL.sub(lambda m: f"{m.group(1)[:1]}***@{m.group(2)[:1]}***", value)
    return re.sub(r"\d(?=(?:[\d\s\-()]*\d){2})", "*", masked)[:60]
