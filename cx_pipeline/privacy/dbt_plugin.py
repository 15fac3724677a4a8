"""dbt-duckdb plugin: the `cx_pseudonym(varchar) -> varchar` function the marts pseudonymise with.

Registered on every connection dbt opens (dbt_project/profiles.yml: plugins). The key is resolved
in this process (cx_pipeline/privacy/pseudonym.py), on first use, so it never appears in rendered
SQL, compiled files or dbt's logs; a model that pseudonymises without a key fails with the
message naming the variable to set.
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

from cx_pipeline.paths import data_paths
from cx_pipeline.privacy.pseudonym import environment_key, pseudonyms

FUNCTION = "cx_pseudonym"


@cache
def _key() -> bytes:
    return environment_key(data_paths())


def _pseudonymise(values: pa.Array) -> pa.Array:
    return pa.array(pseudonyms(values.to_pylist(), _key()), pa.string())


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.create_function(
            FUNCTION, _pseudonymise, [VARCHAR], VARCHAR, type="arrow", null_handling="special", side_effects=False
        )
