"""dbt as Dagster assets: seeds, staging, intermediate, marts and snapshots, with dbt tests as asset checks.

dagster-dbt turns each dbt test into an asset check, blocking when the test's severity is error
(so a failing error test stops the publish step, and `dbt build` already skips the models
downstream of it). Each test result here also carries its runbook, and a failed one is alerted.
"""

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets, get_asset_key_for_model

from cx_pipeline.alerting import Alert
from cx_pipeline.dbt_project import cx_dbt_project
from cx_pipeline.defs.key_figures import KEY_FIGURES
from cx_pipeline.defs.resources import AlertsResource, CxDataResource, PrivacyResource
from cx_pipeline.identity.rules import load_identity_rules
from cx_pipeline.identity.survivorship import load_survivorship
from cx_pipeline.ingest.registry import load_registry
from cx_pipeline.lib.table_metadata import table_metadata
from cx_pipeline.lifecycle.rules import load_lifecycle_rules
from cx_pipeline.operations import load_operations_settings
from cx_pipeline.privacy.settings import load_privacy_settings
from cx_pipeline.quality.runbooks import RunbookLink, dbt_test_runbook
from cx_pipeline.quality.settings import load_quality_settings

# The Dagster run id, for dbt (env_var('CX_RUN_ID') in the models that stamp or read it).
RUN_ID_ENV = "CX_RUN_ID"
# dbt's own parse cache, in a target folder.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
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
    "models/intermediate/privacy": "privacy",
    "models/marts/privacy": "privacy",
}
MARTS_FOLDER = "marts"
DBT_UNIQUE_ID = "dagster_dbt/unique_id"  # where dagster-dbt keeps a check's dbt test id
GROUPED_RESOURCE_TYPES = ("model", "seed", "snapshot")
PROJECT_MACRO_PREFIX = "macro.cx_pipeline."
# A model's config meta `describe_after_build: false` skips its row count and preview: for a view
# whose rows only its reader computes, counting them would compute the whole view once more.
DESCRIBE_AFTER_BUILD = "describe_after_build"


def group_for_dbt_file(path: str) -> str | None:
    """The asset group of a dbt file (its path in the project, e.g. models/marts/x.sql)."""
    folders = PurePosixPath(path).parents
    return next((GROUP_BY_DBT_FOLDER[str(f)] for f in folders if str(f) in GROUP_BY_DBT_FOLDER), None)


def layer_of(props: Mapping[str, Any]) -> str:
    """staging, intermediate, marts, seeds or snapshots: the dbt layer a node belongs to."""
    return props["fqn"][1] if props["resource_type"] == "model" else f"{props['resource_type']}s"


def _project_macros(manifest: Mapping[str, Any], props: Mapping[str, Any]) -> list[str]:
    """The project macros a node calls, directly or through other macros."""
    seen: set[str] = set()
    pending = list(props.get("depends_on", {}).get("macros", []))
    while pending:
        macro = pending.pop()
        if macro.startswith(PROJECT_MACRO_PREFIX) and macro not in seen:
            seen.add(macro)
            pending += manifest["macros"][macro].get("depends_on", {}).get("macros", [])
    return sorted(seen)


def dbt_code_version(manifest: Mapping[str, Any], props: Mapping[str, Any]) -> str:
    """The node's SQL, the project macros it calls, and the rule vars when any of them reads one:
    a change of a match rule or a lifecycle threshold changes what a model builds as much as its SQL."""
    code = [props.get("raw_code") or ""] + [manifest["macros"][m]["macro_sql"] for m in _project_macros(manifest, props)]
    digest = hashlib.sha256("\0".join(code).encode())
    if any("var(" in text for text in code):
        digest.update(_rule_vars_json().encode())
    return digest.hexdigest()[:12]


class CxDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] not in GROUPED_RESOURCE_TYPES:
            return spec
        return spec.replace_attributes(
            group_name=group_for_dbt_file(props["original_file_path"]) or spec.group_name,
            code_version=dbt_code_version(manifest, props),
        ).merge_attributes(kinds={"duckdb"}, tags={"layer": layer_of(props)})


def dbt_rule_vars() -> dict[str, Any]:
    """The tunable rules dbt renders its SQL from: cx_pipeline/config/{identity,survivorship,lifecycle,privacy}.yml."""
    registry = load_registry()
    return {
        **load_identity_rules(registry=registry).dbt_vars(),
        **load_survivorship(registry=registry).dbt_vars(),
        **load_lifecycle_rules(registry=registry).dbt_vars(),
        **load_privacy_settings(registry=registry).dbt_vars(),
    }


@cache
def _rule_vars_json() -> str:
    return json.dumps(dbt_rule_vars(), sort_keys=True)


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
def cx_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    cx_data: CxDataResource,
    alerts: AlertsResource,
    privacy: PrivacyResource,
):
    paths = cx_data.export_for_dbt()
    # The marts pseudonymise emails and phones (dbt_project/macros/privacy): no key, no build. The
    # dbt process reads the same key itself (cx_pipeline/privacy/dbt_plugin.py); it never reaches SQL.
    privacy.key(paths)
    # dbt's run artifacts (run_results.json, logs) go to the data folder, one folder per run.
    target = paths.dbt_runs / context.run_id
    runbooks = dbt_check_runbooks()
    base_url = load_quality_settings().runbook_base_url
    # The run id stamps the customer-id history (customer_id_changes) with the Dagster run. It is
    # an environment variable, not a var: dbt re-parses the whole project when a var changes, but
    # only the three models that read this one when it does.
    os.environ[RUN_ID_ENV] = context.run_id
    reuse_last_parse(paths.dbt_runs, target)
    invocation = dbt.cli(
        # dbt's unit tests check the SQL against fixed inputs, not the data: they run in `make test`
        # (tests/test_dbt_unit_tests.py), not in every production build.
        ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_rule_vars(), sort_keys=True)],
        context=context, target_path=target, raise_on_error=False,
    )
    # Held until dbt exits: dbt holds the warehouse file until then, and each table's row count,
    # preview and key figures are read from it afterwards.
    events = []
    for event in invocation.stream():
        events.append(event)
        if isinstance(event, dg.Output):
            context.log.info(f"dbt built {event.metadata['unique_id'].value}")
    described = describe_built_tables(paths.warehouse, events)
    for event in events:
        if isinstance(event, dg.Output):
            event = event.with_metadata({**event.metadata, **described.get(event.metadata["unique_id"].value, {})})
        elif isinstance(event, dg.AssetCheckResult):
            link = runbooks[dg.AssetCheckKey(event.asset_key, event.check_name)]
            url = link.url(base_url)
            event = event.with_metadata(
                {
                    **event.metadata,
                    "runbook": dg.MetadataValue.url(url) if url else dg.MetadataValue.path(str(link.path)),
                }
            )
            if not event.passed:
                _alert_failed_test(context, event, link, url, alerts, paths, target)
        yield event
    keep_parse(target, paths.dbt_runs)
    error = invocation.get_error()
    if error is not None:
        raise error


def reuse_last_parse(runs: Path, target: Path, kept_as: str = PARTIAL_PARSE_FILE) -> None:
    """Start dbt from the last run's parse. dbt parses the whole project (5 s idle, twice that under
    load) unless the target folder holds a parse made with the same vars, profile and dbt version
    (dbt checks all three, and re-parses the files changed since). Every run has its own target
    folder, so the last parse is kept beside them (keep_parse) and copied in first. Invocations
    with other vars keep theirs under another name."""
    cached = runs / kept_as
    if cached.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, target / PARTIAL_PARSE_FILE)


def keep_parse(target: Path, runs: Path, kept_as: str = PARTIAL_PARSE_FILE) -> None:
    """Keep the parse dbt wrote in this run's target folder for the next run (replaced atomically)."""
    fresh = target / PARTIAL_PARSE_FILE
    if fresh.is_file():
        staged = runs / f"{kept_as}.{os.getpid()}.tmp"
        shutil.copyfile(fresh, staged)
        os.replace(staged, runs / kept_as)


def describe_built_tables(warehouse, events) -> dict[str, dict[str, Any]]:
    """Row count, preview and key figures (cx_pipeline/defs/key_figures.py) of every table dbt built,
    by dbt unique id. A table that cannot be read gets the reason instead: metadata never fails a run."""
    nodes = _manifest()["nodes"]
    built = [e.metadata["unique_id"].value for e in events if isinstance(e, dg.Output)]
    if not built:
        return {}
    preview_rows = load_operations_settings().asset_metadata.preview_rows
    described: dict[str, dict[str, Any]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for unique_id in built:
            node = nodes[unique_id]
            if not node["config"].get("meta", {}).get(DESCRIBE_AFTER_BUILD, True):
                described[unique_id] = {"not_described": f"{DESCRIBE_AFTER_BUILD}: false in its dbt config"}
                continue
            try:
                described[unique_id] = table_metadata(
                    con, node["relation_name"], preview_rows, KEY_FIGURES.get(node["name"], ())
                )
            except (duckdb.Error, KeyError, TypeError) as error:
                described[unique_id] = {"metadata_error": f"{type(error).__name__}: {error}"}
    return described


def _alert_failed_test(context, result: dg.AssetCheckResult, link: RunbookLink, url, alerts, paths, target) -> None:
    severity = "error" if result.severity == dg.AssetCheckSeverity.ERROR else "warn"
    failures = result.metadata.get("dagster_dbt/failed_row_count")
    counted = f" ({failures.value} failing rows)" if failures is not None else ""
    alerts.notifier(paths).send(
        Alert.check_failed(
            check=result.check_name,
            asset="/".join(result.asset_key.path),
            severity=severity,
            summary=f"dbt test {result.check_name} failed{counted}",
            runbook=link.relative,
            runbook_url=url,
            run_id=context.run_id,
            job=context.job_name,
            failing=[result.check_name],
            results=str(target / "run_results.json"),
        )
    )


def dbt_check_runbooks() -> dict[dg.AssetCheckKey, RunbookLink]:
    """The runbook of every dbt test that Dagster sees as an asset check."""
    nodes = _manifest()["nodes"]
    return {spec.key: dbt_test_runbook(nodes[spec.metadata[DBT_UNIQUE_ID]]) for spec in cx_dbt_models.check_specs}
