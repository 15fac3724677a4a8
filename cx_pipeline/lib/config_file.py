"""Reading one of the project's YAML config files, with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: Path, error: type[Exception]) -> Any:
    """The parsed document; `error("<path>: <yaml>: ...")` for bad YAML, `error("<path>: <file>: not
    found")` for a missing file, so a typo never surfaces as a bare traceback."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as problem:
        raise error(f"{path}: <yaml>: {problem}") from None
    except FileNotFoundError:
        raise error(f"{path}: <file>: not found") from None
