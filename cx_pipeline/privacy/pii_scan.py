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
    """Hits per column and kind, and the number of text columns scanned. One pass over the table
    matches every column against all kinds at once (one automaton per column: half the time of a
    pattern per kind); only columns with a hit are read again, per kind, for counts and masked
    examples."""
    columns = text_columns(con, schema, table)
    if not columns:
        return [], 0
    relation = f"{quote(schema)}.{quote(table)}"
    kinds = {kind: "|".join(f"(?:{regex})" for regex in regexes) for kind, regexes in patterns.items()}
    any_kind = "|".join(f"(?:{regex})" for regex in kinds.values())
    counts = con.execute(
        "select " + ", ".join(f"count(*) filter (where regexp_matches({quote(c)}, $1))" for c in columns)
        + f" from {relation}",
        [any_kind],
    ).fetchall()[0]
    hits = []
    for column, count in zip(columns, counts, strict=True):
        if not count:
            continue
        for kind, regex in kinds.items():
            (kind_count,) = con.execute(
                f"select count(*) from {relation} where regexp_matches({quote(column)}, ?)", [regex]
            ).fetchall()[0]
            if kind_count:
                examples = con.execute(
                    f"select {quote(column)} from {relation} where regexp_matches({quote(column)}, ?) limit {EXAMPLES}",
                    [regex],
                ).fetchall()
                hits.append(PiiHit(table, column, kind, kind_count, tuple(mask(v) for (v,) in examples)))
    return hits, len(columns)


_EMAIL = re.compile(r"([^@\s]+)@([^@\s]+)")


def mask(value: str) -> str:
    """Enough of a value to recognise its shape, not the person: first character of each part."""
    masked = _EMAIL.sub(lambda m: f"{m.group(1)[:1]}***@{m.group(2)[:1]}***", value)
    return re.sub(r"\d(?=(?:[\d\s\-()]*\d){2})", "*", masked)[:60]
