"""Process environment for Dagster and dbt: telemetry off, DAGSTER_HOME inside the data folder."""

from __future__ import annotations

import os
import shutil

from cx_pipeline.paths import CONFIG_DIR, DATA_DIR_ENV, DataPaths, venv_executable

TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DAGSTER_DISABLE_TELEMETRY": "1",
}


def prepare_environment(paths: DataPaths) -> None:
    """Set the variables every Dagster/dbt process of ours needs, and a DAGSTER_HOME with telemetry off."""
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
    os.environ[DATA_DIR_ENV] = str(paths.root)
    # dagster-dbt's prepare_if_dev() looks `dbt` up on PATH: put this venv's scripts first.
    venv_bin = os.path.dirname(venv_executable("dbt"))
    if os.environ.get("PATH", "").split(os.pathsep)[0] != venv_bin:
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    home = os.environ.setdefault("DAGSTER_HOME", str(paths.dagster_home))
    os.makedirs(home, exist_ok=True)
    instance_config = os.path.join(home, "dagster.yaml")
    if not os.path.exists(instance_config):
        shutil.copyfile(CONFIG_DIR / "dagster.yaml", instance_config)
