"""Quoting for the few SQL texts built from config or file paths (DuckDB rules: SQL standard).

Values from data go in as query parameters instead; these are for what a parameter cannot be:
identifiers, and literals inside DDL such as views and COPY."""

from collections.abc import Iterable


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Iterable[str]) -> str:
    return ", ".join(sql_literal(v) for v in values)


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_relation(*parts: str) -> str:
    """schema.table (or database.schema.table), each part quoted as an identifier."""
    return ".".join(sql_identifier(p) for p in parts)
