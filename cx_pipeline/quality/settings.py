"""The quality gate's settings (cx_pipeline/config/quality.yml): loaded and validated strictly.

Every threshold and severity a check uses, how many published versions to keep and where
runbooks are linked from live in that one file. A typo fails with the file and the key, before
any check runs: a threshold that silently never applies is worse than none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cx_pipeline.ingest.registry import Registry, load_registry
from cx_pipeline.lib.config_file import read_yaml
from cx_pipeline.paths import CONFIG_DIR
from cx_pipeline.quality.base import CheckParams
from cx_pipeline.quality.catalog import all_checks

QUALITY_CONFIG = CONFIG_DIR / "quality.yml"
# Tests and staging environments point this at another copy of the file.
QUALITY_CONFIG_ENV = "CX_QUALITY_CONFIG"


class QualityConfigError(ValueError):
    """The quality settings file is invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Publish(_Strict):
    keep_versions: int = Field(ge=1, description="published versions kept for rollback, the current one included")


class _Alerts(_Strict):
    runbook_base_url: str | None = Field(
        default=None, pattern=r"^https?://", description="prefix for runbook links; unset: a path in the project"
    )


class _Document(_Strict):
    as_of: datetime | None = None
    publish: _Publish
    alerts: _Alerts = _Alerts()
    checks: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class QualitySettings:
    path: Path
    as_of: datetime | None  # None: the moment the checks run
    keep_versions: int
    runbook_base_url: str | None
    checks: dict[str, CheckParams]

    def params(self, check: str) -> CheckParams:
        return self.checks[check]

    def severity(self, check: str) -> str:
        return self.checks[check].severity

    def reference_time(self) -> datetime:
        if self.as_of is None:
            return datetime.now(UTC)
        return self.as_of if self.as_of.tzinfo else self.as_of.replace(tzinfo=UTC)


def _error(path: Path, prefix: str, error: ValidationError) -> QualityConfigError:
    first = error.errors()[0]
    where = prefix
    for part in first["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = first["msg"].removeprefix("Value error, ")
    return QualityConfigError(f"{path}: {where.strip('.') or '<top>'}: {message}")


def parse_quality_settings(doc: Any, path: Path, registry: Registry) -> QualitySettings:
    if not isinstance(doc, dict):
        raise QualityConfigError(f"{path}: <top>: expected a mapping with `publish` and `checks`")
    try:
        document = _Document.model_validate(doc)
    except ValidationError as error:
        raise _error(path, "", error) from None

    known = all_checks()
    unknown = sorted(set(document.checks) - set(known))
    if unknown:
        raise QualityConfigError(f"{path}: checks.{unknown[0]}: unknown check; known checks are {sorted(known)}")
    checks: dict[str, CheckParams] = {}
    for name, check in known.items():
        if name not in document.checks:
            raise QualityConfigError(f"{path}: checks.{name}: missing; every check needs its severity and thresholds")
        try:
            checks[name] = check.params.model_validate(document.checks[name] or {}, context={"registry": registry})
        except ValidationError as error:
            raise _error(path, f"checks.{name}", error) from None
    return QualitySettings(
        path=path,
        as_of=document.as_of,
        keep_versions=document.publish.keep_versions,
        runbook_base_url=document.alerts.runbook_base_url,
        checks=checks,
    )


def quality_config_path() -> Path:
    configured = os.environ.get(QUALITY_CONFIG_ENV)
    return Path(configured).expanduser().resolve() if configured else QUALITY_CONFIG


def load_quality_settings(path: Path | str | None = None, registry: Registry | None = None) -> QualitySettings:
    path = Path(path) if path else quality_config_path()
    doc = read_yaml(path, QualityConfigError)
    return parse_quality_settings(doc, path, registry or load_registry())
