"""Keyed hashes (HMAC-SHA256) of personal values: the pseudonyms BI sees, and the only form in which
erased identifiers are kept.

The key comes from an environment variable (privacy.yml: pseudonymisation.key_env, default
CX_PSEUDONYM_KEY). Without it, and only where privacy.yml allows it and CI is not set, a random
key is created once in data/privacy/pseudonym.key (mode 600), so a laptop run works and its
pseudonyms stay stable from run to run. The key is never logged, printed or put in SQL: dbt reaches
it through a DuckDB function (cx_pipeline/privacy/dbt_plugin.py), not through a rendered value.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cx_pipeline.paths import DataPaths

MIN_KEY_LENGTH = 32
KEY_FILE = "pseudonym.key"
CI_VARIABLES = ("CI",)


class PseudonymKeyError(RuntimeError):
    """No usable key: the message says which variable to set."""


def privacy_dir(paths: DataPaths) -> Path:
    """data/privacy/: erasure requests, the suppression list, the erasure log, the local dev key."""
    return paths.root / "privacy"


def _in_ci() -> bool:
    return any(os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no") for name in CI_VARIABLES)


def resolve_key(paths: DataPaths, env_value: str | None, key_env: str, local_key_file: bool) -> bytes:
    """The pseudonymisation key: `env_value` (the variable's value, as dg.EnvVar or os.environ read
    it), else the local key file where allowed. Raises PseudonymKeyError naming the variable."""
    if env_value:
        if len(env_value) < MIN_KEY_LENGTH:
            raise PseudonymKeyError(
                f"{key_env} is too short ({len(env_value)} characters): use at least {MIN_KEY_LENGTH} random "
                f"characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if any(c in env_value for c in "'\\$\"") or not env_value.isprintable():
            # the Spark target substitutes the key into a SQL string literal
            raise PseudonymKeyError(f"{key_env} may not contain quotes, backslashes, `$` or control characters")
        return env_value.encode("utf-8")
    if not local_key_file:
        raise PseudonymKeyError(
            f"{key_env} is not set: the published marts need it to pseudonymise emails and phones "
            f"(cx_pipeline/config/privacy.yml allows no local key file)"
        )
    if _in_ci():
        raise PseudonymKeyError(f"{key_env} is not set: under CI the local key file is not used; set the variable")
    return _local_key(privacy_dir(paths) / KEY_FILE)


def _local_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once cannot both write a different key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(f"{path} holds no usable key; delete it to have a new one made")
    return key.encode("utf-8")


def pseudonym(value: str | None, key: bytes) -> str | None:
    """HMAC-SHA256 of a (normalised) value as 64 lowercase hex characters; null stays null."""
    if value is None:
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def environment_key(paths: DataPaths) -> bytes:
    """The key as a process outside Dagster sees it (dbt's plugin, the CLI): from os.environ."""
    from cx_pipeline.privacy.settings import load_privacy_settings

    settings = load_privacy_settings()
    return resolve_key(paths, os.environ.get(settings.key_env), settings.key_env, settings.local_key_file)


# SHA-256's block size: HMAC pads (or first hashes) the key to it (RFC 2104).
HMAC_BLOCK_BYTES = 64


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    block = (hashlib.sha256(key).digest() if len(key) > HMAC_BLOCK_BYTES else key).ljust(HMAC_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def register_duckdb_function(con, key: bytes, name: str = "cx_pseudonym") -> None:
    """`name(varchar) -> varchar` on a DuckDB connection: the same HMAC as `pseudonym`, for the marts
    and for SQL that must compare against keyed hashes (the erasure's scrubbing).

    HMAC written with DuckDB's own sha256, so it runs in DuckDB's threads: a Python function took
    6 s of the 6.2 s dim_customers costs at 1 M people. The padded key is a variable of this
    connection, never SQL text; the macro is temporary, so nothing of it is stored in the database."""
    inner, outer = _hmac_pads(key)
    con.execute(f"set variable {name}_inner_pad = ?", [inner])
    con.execute(f"set variable {name}_outer_pad = ?", [outer])
    con.execute(
        f"create or replace temp macro {name}(value) as sha256(getvariable('{name}_outer_pad') "
        f"|| unhex(sha256(getvariable('{name}_inner_pad') || encode(value))))"
    )


def register_failing_duckdb_function(con, message: str, name: str = "cx_pseudonym") -> None:
    """`name(varchar)` that fails with `message` on the first value: a model that pseudonymises
    without a key stops with the reason, and models that do not are unaffected."""
    literal = "'" + message.replace("'", "''") + "'"
    con.execute(f"create or replace temp macro {name}(value) as case when value is null then null else error({literal}) end")
