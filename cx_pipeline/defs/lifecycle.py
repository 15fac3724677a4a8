"""The lifecycle as Dagster sees it beyond dbt: phase accuracy against the sample's truth."""

import json
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_dbt import DbtCliResource

from cx_pipeline.dbt_project import cx_dbt_project
from cx_pipeline.defs.dbt import LIFECYCLE_GROUP, dbt_rule_vars, keep_parse, reuse_last_parse
from cx_pipeline.defs.resources import CxDataResource
from cx_pipeline.lib.code_version import code_version
from cx_pipeline.lifecycle.accuracy import accuracy_markdown, phase_accuracy
from cx_pipeline.lib.sql import sql_literal
from cx_pipeline.paths import CONFIG_DIR, DBT_PROJECT_DIR, PACKAGE_DIR, DataPaths

LIFECYCLE_KEY = dg.AssetKey(["marts", "customer_lifecycle"])
STAGES_KEY = dg.AssetKey(["marts", "dim_lifecycle_stages"])
TOUCHPOINTS_KEY = dg.AssetKey(["marts", "fct_touchpoints"])
REPORT_FILE = "phase_accuracy.json"
PEOPLE_TRUTH_FILE, RECORDS_TRUTH_FILE = "people.parquet", "identity_truth.parquet"
# Where the phase rules are built once more on the true people, then dropped.
TRUE_GROUPING_SCHEMA = "lifecycle_true_grouping"
# dbt's parse with the true-grouping vars, kept for the next run (cx_pipeline/defs/dbt.py reuse_last_parse)
TRUE_GROUPING_PARSE = "partial_parse.true_grouping.msgpack"
LIFECYCLE_MODELS = "path:models/intermediate/lifecycle"


def _run_rules_on_true_people(dbt: DbtCliResource, paths: DataPaths, run_id: str) -> pl.DataFrame:
    """The sub-stage per person from the lifecycle models run on records grouped by true person:
    the `lifecycle_grouping` var swaps the identity links for the truth's grouping of the records
    that reached the timeline, `lifecycle_schema` keeps the result apart from the real models,
    `lifecycle_materialized` makes them views. Returns customer_id (= person_id), sub_stage."""
    grouping_file = paths.lifecycle / "true_grouping.parquet"
    # Written by DuckDB and read by dbt: millions of records never pass through Python.
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        con.execute(
            f"""copy (
                select truth.source, truth.source_record_id, truth.person_id as customer_id
                from read_parquet($truth) as truth
                semi join marts.fct_touchpoints using (source, source_record_id)
            ) to {sql_literal(str(grouping_file))} (format parquet)""",
            {"truth": str(paths.truth / RECORDS_TRUTH_FILE)},
        )
    dbt_vars = {
        **dbt_rule_vars(),
        "lifecycle_grouping": str(grouping_file),
        "lifecycle_schema": TRUE_GROUPING_SCHEMA,
        # read once, then dropped: views, computed by the one query that reads the stages
        # (1 M people: 17 s -> 12 s, as tables each model wrote millions of rows to the file)
        "lifecycle_materialized": "view",
    }
    # its own target folder: a parse with these vars must not replace the project's manifest
    target = paths.dbt_runs / run_id / TRUE_GROUPING_SCHEMA
    reuse_last_parse(paths.dbt_runs, target, kept_as=TRUE_GROUPING_PARSE)
    try:
        dbt.cli(
            ["run", "--select", LIFECYCLE_MODELS, "--vars", json.dumps(dbt_vars, sort_keys=True)],
            manifest=cx_dbt_project.manifest_path,
            target_path=target,
        ).wait()
        keep_parse(target, paths.dbt_runs, kept_as=TRUE_GROUPING_PARSE)
        with duckdb.connect(str(paths.warehouse)) as con:
            stages = pl.from_arrow(
                con.sql(f"select customer_id, sub_stage from {TRUE_GROUPING_SCHEMA}.int_lifecycle__customer_stages").arrow()
            )
            con.execute(f"drop schema if exists {TRUE_GROUPING_SCHEMA} cascade")
    finally:
        grouping_file.unlink(missing_ok=True)
    return stages


@dg.asset(
    key=["lifecycle", "phase_accuracy"],
    deps=[LIFECYCLE_KEY, STAGES_KEY, TOUCHPOINTS_KEY],
    group_name=LIFECYCLE_GROUP,
    description=(
        "Phase and sub-stage accuracy of customer_lifecycle against the generator's true journey "
        "stages (data/landing/_truth/people.parquet), per true stage, by customer and by true "
        "person (the phase rules alone, without identity errors). Written to "
        "data/lifecycle/phase_accuracy.json. Real data has no truth: then nothing is measured."
    ),
    kinds={"polars", "dbt"},
    # the accuracy code, and the lifecycle rules it runs once more on the true people
    code_version=code_version(
        Path(__file__),
        PACKAGE_DIR / "lifecycle",
        CONFIG_DIR / "lifecycle.yml",
        DBT_PROJECT_DIR / "models" / "intermediate" / "lifecycle",
    ),
)
def lifecycle_phase_accuracy(
    context: dg.AssetExecutionContext, cx_data: CxDataResource, dbt: DbtCliResource
) -> dg.MaterializeResult:
    paths = cx_data.paths()
    people_file, records_file = paths.truth / PEOPLE_TRUTH_FILE, paths.truth / RECORDS_TRUTH_FILE
    if not (people_file.is_file() and records_file.is_file()):
        context.log.info("No ground truth in the landing folder: phase accuracy not measured.")
        return dg.MaterializeResult(metadata={"ground_truth": "absent"})

    cx_data.export_for_dbt()  # the true-grouping dbt run reads this data folder
    paths.lifecycle.mkdir(parents=True, exist_ok=True)
    # dbt first, then the frames: the dbt process and the frames are never in memory together
    by_person = _run_rules_on_true_people(dbt, paths, context.run_id)

    people = pl.read_parquet(people_file, columns=["person_id", "journey_stage"])
    records = pl.read_parquet(records_file, columns=["source", "source_record_id", "person_id"])
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        touchpoints = pl.from_arrow(
            con.sql("select source, source_record_id, customer_id, occurred_at from marts.fct_touchpoints").arrow()
        )
        predicted = pl.from_arrow(con.sql("select customer_id, sub_stage from marts.customer_lifecycle").arrow())
        stage_phases = pl.from_arrow(con.sql("select sub_stage, phase from marts.dim_lifecycle_stages").arrow())
    accuracy = phase_accuracy(people, records, touchpoints, predicted, stage_phases, true_grouping=by_person)

    report = paths.lifecycle / REPORT_FILE
    report.write_text(json.dumps(accuracy.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    context.log.info(
        f"phase accuracy {accuracy.customers.phase_accuracy:.4f} by customer, "
        f"{accuracy.true_grouping.phase_accuracy:.4f} by true person, "
        f"over {accuracy.customers.people_evaluated:,} people"
    )
    return dg.MaterializeResult(
        metadata={
            **accuracy.as_metadata(),
            "ground_truth": "present",
            "summary": dg.MetadataValue.md(accuracy_markdown(accuracy)),
            "report": dg.MetadataValue.path(str(report)),
        }
    )
