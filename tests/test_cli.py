"""The `cx-pipeline` command line."""

from __future__ import annotations

from typer.testing import CliRunner

from cx_pipeline.cli import app
from cx_pipeline.ingest.registry import load_registry

runner = CliRunner()


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("generate", "run", "publish", "ui"):
        assert command in result.output


def test_generate_writes_every_registered_source_and_the_truth(isolated_env):
    tmp_path = isolated_env
    result = runner.invoke(app, ["generate", "--people", "40", "--seed", "5", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name, spec in load_registry().sources.items():
        assert list((tmp_path / "landing" / name).glob(spec.path)), name
    assert (tmp_path / "landing" / "_truth" / "identity_truth.parquet").exists()
    # DAGSTER_HOME is created inside the data folder with telemetry off
    assert "enabled: false" in (tmp_path / "dagster_home" / "dagster.yaml").read_text()


def test_generate_rejects_a_population_of_zero(isolated_env):
    tmp_path = isolated_env
    result = runner.invoke(app, ["generate", "--people", "0", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "--people" in result.output
