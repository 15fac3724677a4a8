"""Quoting for the few SQL statements built from names or values (table names from the dbt
manifest, paths, config values): identifiers in double quotes, strings in single quotes, each with
its quote doubled. Values from data go in as parameters (`?`), never through these."""

from __future__ import annotations

from pathlib import Path


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_relation(*parts: str) -> str:
    """schema.table (or database.schema.table), each part quoted."""
    return ".".join(quote_identifier(p) for p in parts)


def sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"
