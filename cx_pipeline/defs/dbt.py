"""dbt as Dagster assets: seeds, staging, intermediate, marts and snapshots, with dbt tests as asset checks."""

import json
from collections.abc import Mapping
from functools import cache
from pathlib import PurePosixPath
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets, get_asset_key_for_model

from cx_pipeline.dbt_project import cx_dbt_project
from cx_pipeline.defs.resources import CxDataResource
from cx_pipeline.identity.rules import load_identity_rules
from cx_pipeline.identity.survivorship import load_survivorship
from cx_pipeline.ingest.registry import load_registry
from cx_pipeline.lifecycle.rules import load_lifecycle_rules

LIFECYCLE_GROUP = "lifecycle"
# dbt folder -> Dagster asset group, so the UI groups follow the flow of the data. The deepest
# folder listed above a node's file wins.
GROUP_BY_DBT_FOLDER = {
    "models/staging": "staging",
    "models/intermediate": "identity",
    "models/intermediate/lifecycle": LIFECYCLE_GROUP,
    "models/marts": "customer_360",
    "models/marts/lifecycle": LIFECYCLE_GROUP,
    "seeds/lifecycle": LIFECYCLE_GROUP,
    "snapshots/lifecycle": LIFECYCLE_GROUP,
}
MARTS_FOLDER = "marts"
GROUPED_RESOURCE_TYPES = ("model", "seed", "snapshot")


def group_for_dbt_file(path: str) -> str | None:
    """The asset group of a dbt file (its path in the project, e.g. models/marts/x.sql)."""
    folders = PurePosixPath(path).parents
    return next((GROUP_BY_DBT_FOLDER[str(f)] for f in folders if str(f) in GROUP_BY_DBT_FOLDER), None)


class CxDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] not in GROUPED_RESOURCE_TYPES:
            return spec
        return spec.replace_attributes(
            group_name=group_for_dbt_file(props["original_file_path"]) or spec.group_name,
        ).merge_attributes(kinds={"duckdb"})


def dbt_rule_vars() -> dict[str, Any]:
    """The tunable rules dbt renders its SQL from: cx_pipeline/config/{identity,survivorship,lifecycle}.yml."""
    registry = load_registry()
    return {
        **load_identity_rules(registry=registry).dbt_vars(),
        **load_survivorship(registry=registry).dbt_vars(),
        **load_lifecycle_rules(registry=registry).dbt_vars(),
    }


@cache
def _manifest() -> dict[str, Any]:
    return json.loads(cx_dbt_project.manifest_path.read_text(encoding="utf-8"))


def mart_model_names() -> list[str]:
    """Every model under models/marts/: the tables the publish step hands to BI tools."""
    return sorted(
        node["name"]
        for node in _manifest()["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == MARTS_FOLDER
    )


def mart_asset_keys() -> list[dg.AssetKey]:
    return [get_asset_key_for_model([cx_dbt_models], name) for name in mart_model_names()]


@dbt_assets(
    manifest=cx_dbt_project.manifest_path,
    project=cx_dbt_project,
    dagster_dbt_translator=CxDbtTranslator(),
)
def cx_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, cx_data: CxDataResource):
    paths = cx_data.export_for_dbt()
    # dbt's run artifacts (run_results.json, logs) go to the data folder, one folder per run.
    target = paths.dbt_runs / context.run_id
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_rule_vars())], context=context, target_path=target).stream()
