"""Where cx_pipeline reads and writes.

Everything the pipeline writes lives under one data folder: `data/` beside the project by
default, or wherever `CX_DATA_DIR` points. Paths are resolved when asked for, not at import,
so tests and operators can move the folder by setting one variable.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_DIR = PACKAGE_DIR / "config"
SOURCE_REGISTRY = CONFIG_DIR / "sources.yml"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
RUNBOOKS_DIR = PROJECT_ROOT / "docs" / "runbooks"

DATA_DIR_ENV = "CX_DATA_DIR"


def venv_executable(name: str) -> str:
    """A console script installed beside this interpreter's packages (dbt, dagster), so that runs
    work without the venv on PATH. sys.prefix names the venv even where sys.executable is resolved
    to the base interpreter (Dagster's code server)."""
    return str(Path(sys.prefix) / "bin" / name)


@dataclass(frozen=True)
class DataPaths:
    """The layout of one data folder. Names here are interfaces: operators and BI rely on them."""

    root: Path

    @property
    def landing(self) -> Path:
        """Raw channel files as they arrive: landing/<source>/..."""
        return self.root / "landing"

    @property
    def truth(self) -> Path:
        """Generator ground truth (sample data only): landing/_truth/."""
        return self.landing / "_truth"

    @property
    def ingested(self) -> Path:
        """Typed, normalised ingestion output: ingested/<source>/{accepted,quarantine,...}.parquet."""
        return self.root / "ingested"

    @property
    def warehouse(self) -> Path:
        """The working DuckDB database dbt builds into. BI never reads it."""
        return self.root / "warehouse" / "cx.duckdb"

    @property
    def dbt_runs(self) -> Path:
        """dbt's artifacts and logs of each run: dbt_runs/<run id>/."""
        return self.root / "dbt_runs"

    @property
    def identity(self) -> Path:
        """Identity-resolution reports: identity/match_quality.json."""
        return self.root / "identity"

    @property
    def lifecycle(self) -> Path:
        """Lifecycle reports: lifecycle/phase_accuracy.json."""
        return self.root / "lifecycle"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def published_db(self) -> Path:
        """The DuckDB file BI tools open read-only; replaced atomically on publish."""
        return self.published / "cx_marts.duckdb"

    @property
    def versions(self) -> Path:
        """Published versions kept for rollback: published/versions/<version>/."""
        return self.published / "versions"

    @property
    def quality(self) -> Path:
        """Quality-check results of each run: quality/<run id>/<asset>.<check>.json."""
        return self.root / "quality"

    @property
    def quality_status(self) -> Path:
        """The quality gate's latest verdict on every check: quality/status.json."""
        return self.quality / "status.json"

    @property
    def report(self) -> Path:
        """The CX report, one self-contained page: published/report/index.html."""
        return self.published / "report" / "index.html"

    @property
    def dbt_docs(self) -> Path:
        """dbt's documentation site (`make docs`): dbt_docs/static_index.html opens offline."""
        return self.root / "dbt_docs"

    def cli_log(self, run_id: str) -> Path:
        """What a run launched by the CLI printed (dbt's console output among it): logs/<run id>.log."""
        return self.root / "logs" / f"{run_id}.log"

    @property
    def alerts(self) -> Path:
        """Every alert sent, one JSON object a line."""
        return self.root / "alerts.jsonl"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    def landing_dir(self, source: str) -> Path:
        return self.landing / source

    def ingested_dir(self, source: str) -> Path:
        return self.ingested / source


def data_dir() -> Path:
    """The data folder: $CX_DATA_DIR if set, else <project>/data. Always absolute."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser().resolve() if configured else PROJECT_ROOT / "data"


def data_paths(root: Path | None = None) -> DataPaths:
    return DataPaths(Path(root).resolve() if root else data_dir())
