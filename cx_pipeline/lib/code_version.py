"""Code versions of the Python assets: a hash of the code and the rule files that decide what they write.

Dagster compares an asset's code version with the one it was last materialized with and marks the
asset as changed in the UI, so the version must move exactly when the asset's behaviour may:
when one of its source files or one of the config files it reads changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from cx_pipeline.paths import PROJECT_ROOT

VERSION_LENGTH = 12


def _files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"code version: {path} does not exist")
    return found


def code_version(*paths: Path, extra: str = "") -> str:
    """A short hash of the files (folders: every file in them) and `extra` (e.g. one source's registry entry)."""
    digest = hashlib.sha256()
    for file in _files(paths):
        name = file.relative_to(PROJECT_ROOT).as_posix() if file.is_relative_to(PROJECT_ROOT) else file.name
        digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    digest.update(extra.encode())
    return digest.hexdigest()[:VERSION_LENGTH]
