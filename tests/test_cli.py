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


COMMANDS = ("generate", "run", "publish", "rollback", "versions", "bench", "suite", "ui", "report", "docs")


def test_every_command_has_help():
    listed = runner.invoke(app, ["--help"])
    for command in COMMANDS:
        assert command in listed.output, command
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (command, result.output)


def test_a_broken_registry_is_a_clean_error_naming_file_and_key(isolated_env, monkeypatch):
    import cx_pipeline.ingest.registry as registry_module
    from cx_pipeline.paths import SOURCE_REGISTRY

    broken = isolated_env / "sources.yml"
    broken.write_text(SOURCE_REGISTRY.read_text().replace("format: csv", "format: xlsx", 1))
    real = registry_module.load_registry
    monkeypatch.setattr(registry_module, "load_registry", lambda path=broken: real(path))
    for command in (["run", "--data-dir", str(isolated_env)], ["suite", "orders"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"Error: {broken}: sources."), result.output
        assert "format" in result.output and "Traceback" not in result.output


def test_run_names_sources_without_landing_files_instead_of_generating_over_real_data(isolated_env):
    from cx_pipeline.cli import _sources_without_files
    from cx_pipeline.paths import data_paths

    paths = data_paths(isolated_env)
    assert len(_sources_without_files(paths)) == len(load_registry().sources)
    (paths.landing_dir("orders")).mkdir(parents=True)
    (paths.landing_dir("orders") / "orders-2026-06-30.csv").write_text("order_id\n")
    missing = _sources_without_files(paths)
    assert len(missing) == len(load_registry().sources) - 1
    assert str(paths.landing_dir("crm_contacts") / load_registry().source("crm_contacts").path) in missing


def test_suite_names_an_unknown_source():
    result = runner.invoke(app, ["suite", "no_such_source"])
    assert result.exit_code == 2 and "no source 'no_such_source'" in result.output


def test_publish_with_nothing_built_says_so(isolated_env):
    result = runner.invoke(app, ["publish", "--data-dir", str(isolated_env)])
    assert result.exit_code == 2
    assert "Nothing to publish" in result.output and "cx-pipeline run" in result.output
