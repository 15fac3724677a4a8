"""Identity resolution as Dagster sees it beyond dbt: match quality measured on every run."""

import json
from dataclasses import asdict
from pathlib import Path

import dagster as dg
import duckdb

from cx_pipeline.defs.resources import CxDataResource
from cx_pipeline.identity.graph_stats import guards_fired, markdown_table, records_by_rule
from cx_pipeline.identity.quality import measure_all_and_identified_against_truth, quality_markdown
from cx_pipeline.identity.rules import load_identity_rules
from cx_pipeline.lib.code_version import code_version
from cx_pipeline.paths import CONFIG_DIR, PACKAGE_DIR

LINKS_KEY = dg.AssetKey(["marts", "customer_identity_links"])


@dg.asset(
    key=["identity", "match_quality"],
    deps=[LINKS_KEY],
    group_name="identity",
    description=(
        "Pairwise precision, recall and F1 of the customer links against the generator's ground "
        "truth (data/landing/_truth/), with cluster figures; and on every run, with or without "
        "truth, the over-merge guards that fired and the records each match rule linked."
    ),
    kinds={"duckdb"},
    code_version=code_version(Path(__file__), PACKAGE_DIR / "identity", CONFIG_DIR / "identity.yml"),
)
def match_quality(context: dg.AssetExecutionContext, cx_data: CxDataResource) -> dg.MaterializeResult:
    paths = cx_data.paths()
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        guards = guards_fired(con)
        rules = records_by_rule(con)
    # what fired and what linked, with or without ground truth
    graph_metadata = {
        "guards_fired": dg.MetadataValue.md(markdown_table(guards) if guards.height else "No guard fired."),
        "guarded_values": int(guards["values_flagged"].sum()) if guards.height else 0,
        "records_by_rule": dg.MetadataValue.md(markdown_table(rules)),
    }
    # over every accepted record, and over those the data ties to a known person (anonymous
    # cookies and devices left out): what the matcher could have linked
    measured = measure_all_and_identified_against_truth(paths, load_identity_rules().anonymous_identifiers)
    if measured is None:
        context.log.info("No ground truth in the landing folder: match quality not measured.")
        return dg.MaterializeResult(metadata={"ground_truth": "absent", **graph_metadata})
    quality, identified = measured

    paths.identity.mkdir(parents=True, exist_ok=True)
    report = paths.identity / "match_quality.json"
    report.write_text(
        json.dumps({**asdict(quality), "identified_records": asdict(identified)}, indent=2) + "\n", encoding="utf-8"
    )
    context.log.info(
        f"precision {quality.precision:.4f}, recall {quality.recall:.4f}, f1 {quality.f1:.4f} "
        f"over {quality.records_evaluated:,} records; over the {identified.records_evaluated:,} identified "
        f"records precision {identified.precision:.4f}, recall {identified.recall:.4f}"
    )
    return dg.MaterializeResult(
        metadata={
            **quality.as_metadata(),
            "identified_records": identified.records_evaluated,
            "identified_precision": identified.precision,
            "identified_recall": identified.recall,
            **graph_metadata,
            "ground_truth": "present",
            "summary": dg.MetadataValue.md(quality_markdown(quality)),
            "report": dg.MetadataValue.path(str(report)),
        }
    )
