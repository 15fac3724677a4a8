"""dbt-duckdb plugin: the `cx_pseudonym(varchar) -> varchar` function the marts pseudonymise with.

Registered on every connection and cursor dbt opens (dbt_project/profiles.yml: plugins; a cursor
is a connection of its own in DuckDB, without the temporary macro and variables of its parent). The
key is resolved in this process (cx_pipeline/privacy/pseudonym.py), so it never appears in rendered
SQL, compiled files or dbt's logs; without a key the function fails on its first value with the
message naming the variable to set, so only models that pseudonymise fail.
"""

from __future__ import annotations

from functools import cache

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from cx_pipeline.paths import data_paths
from cx_pipeline.privacy.pseudonym import (
    PseudonymKeyError,
    environment_key,
    register_duckdb_function,
    register_failing_duckdb_function,
)

FUNCTION = "cx_pseudonym"


@cache
def _key() -> bytes | PseudonymKeyError:
    try:
        return environment_key(data_paths())
    except PseudonymKeyError as error:
        return error


def _register(conn: DuckDBPyConnection) -> None:
    key = _key()
    if isinstance(key, PseudonymKeyError):
        register_failing_duckdb_function(conn, str(key), FUNCTION)
    else:
        register_duckdb_function(conn, key, FUNCTION)


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        _register(conn)

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        _register(cursor)
