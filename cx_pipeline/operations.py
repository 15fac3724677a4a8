"""Operating settings (cx_pipeline/config/operations.yml): schedule, asset owners, UI previews, report.

Loaded strictly like the quality settings: a typo fails with the file and the key when the code
location loads, not on the morning the schedule should have fired.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cx_pipeline.lib.config_file import read_yaml
from cx_pipeline.paths import CONFIG_DIR

OPERATIONS_CONFIG = CONFIG_DIR / "operations.yml"
# Tests and staging environments point this at another copy of the file.
OPERATIONS_CONFIG_ENV = "CX_OPERATIONS_CONFIG"
# Dagster owners: a team (team:<name>) or an email address.
OWNER_PATTERN = re.compile(r"^(team:[A-Za-z0-9_-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")


class OperationsConfigError(ValueError):
    """The operations settings file is invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _owners(value: list[str]) -> list[str]:
    bad = [owner for owner in value if not OWNER_PATTERN.match(owner)]
    if bad:
        raise ValueError(f"{bad[0]!r} is no owner: use team:<name> or an email address")
    return value


class Schedule(_Strict):
    cron: str
    timezone: str = "UTC"
    default_status: Literal["running", "stopped"] = "stopped"

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(value):
            raise ValueError(f"{value!r} is no cron expression (e.g. \"0 6 * * *\": 06:00 every day)")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is no IANA time zone (e.g. Asia/Tokyo, UTC)") from None
        return value


class Owners(_Strict):
    default: list[str] = Field(min_length=1)
    by_group: dict[str, list[str]] = {}

    @field_validator("default")
    @classmethod
    def _check_default(cls, value: list[str]) -> list[str]:
        return _owners(value)

    @field_validator("by_group")
    @classmethod
    def _check_groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for owners in value.values():
            _owners(owners)
        return value

    def of_group(self, group: str | None) -> list[str]:
        return list(self.by_group.get(group or "", self.default))


class AssetMetadata(_Strict):
    preview_rows: int = Field(default=5, ge=1, le=50)


class Report(_Strict):
    months: int = Field(default=24, ge=1, le=240)


@dataclass(frozen=True)
class OperationsSettings:
    path: Path
    schedule: Schedule
    owners: Owners
    asset_metadata: AssetMetadata
    report: Report


class _Document(_Strict):
    schedule: Schedule
    owners: Owners
    asset_metadata: AssetMetadata = AssetMetadata()
    report: Report = Report()


def _error(path: Path, error: ValidationError) -> OperationsConfigError:
    first = error.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).strip(".")
    message = first["msg"].removeprefix("Value error, ")
    return OperationsConfigError(f"{path}: {where or '<top>'}: {message}")


def operations_config_path() -> Path:
    configured = os.environ.get(OPERATIONS_CONFIG_ENV)
    return Path(configured).expanduser().resolve() if configured else OPERATIONS_CONFIG


def load_operations_settings(path: Path | str | None = None) -> OperationsSettings:
    path = Path(path) if path else operations_config_path()
    doc = read_yaml(path, OperationsConfigError)
    if not isinstance(doc, dict):
        raise OperationsConfigError(f"{path}: <top>: expected a mapping with `schedule` and `owners`")
    try:
        document = _Document.model_validate(doc)
    except ValidationError as error:
        raise _error(path, error) from None
    return OperationsSettings(
        path=path,
        schedule=document.schedule,
        owners=document.owners,
        asset_metadata=document.asset_metadata,
        report=document.report,
    )
