"""dbt's unit tests: each model's SQL against fixed inputs. They check code, not data, so the
pipeline's `dbt build` leaves them out (cx_pipeline/defs/dbt.py) and `make test` runs them here."""

from __future__ import annotations

import json

import pytest

from cx_pipeline.dbt_project import cx_dbt_cli, cx_dbt_project
from cx_pipeline.defs.dbt import dbt_rule_vars


@pytest.mark.e2e
def test_every_dbt_unit_test_passes(run_copy, tmp_path):
    # Unit tests read the column types of their inputs from the warehouse: the session run built it.
    invocation = cx_dbt_cli().cli(
        ["test", "--select", "test_type:unit", "--vars", json.dumps(dbt_rule_vars(), sort_keys=True)],
        target_path=tmp_path / "target",
        raise_on_error=False,
    ).wait()
    results = [r for r in invocation.get_artifact("run_results.json")["results"] if r["unique_id"].startswith("unit_test.")]
    failed = [(r["unique_id"], r["status"], r["message"]) for r in results if r["status"] != "pass"]
    assert not failed, failed
    assert invocation.is_successful()

    manifest = json.loads(cx_dbt_project.manifest_path.read_text(encoding="utf-8"))
    declared = set(manifest["unit_tests"])
    assert len(declared) >= 16
    assert {r["unique_id"] for r in results} == declared


@pytest.mark.e2e
def test_the_pipelines_dbt_build_runs_the_data_tests_but_not_the_unit_tests(pipeline_run):
    run_results = pipeline_run.paths.dbt_runs / pipeline_run.result.run_id / "run_results.json"
    kinds = {r["unique_id"].split(".")[0] for r in json.loads(run_results.read_text(encoding="utf-8"))["results"]}
    assert "test" in kinds and "model" in kinds
    assert "unit_test" not in kinds
