"""The publish asset: hands the marts to BI tools once dbt has built and tested them."""

import dagster as dg

from cx_pipeline.defs.dbt import mart_asset_keys, mart_model_names
from cx_pipeline.defs.resources import CxDataResource
from cx_pipeline.lib.metadata import markdown_counts
from cx_pipeline.publish import publish_marts

PUBLISH_GROUP = "publish"


@dg.asset(
    key=["published", "cx_marts"],
    deps=mart_asset_keys(),
    group_name=PUBLISH_GROUP,
    description=(
        "The marts, copied into `data/published/cx_marts.duckdb` (replaced atomically) and "
        "`data/published/<mart>.parquet` for BI tools."
    ),
    kinds={"duckdb", "parquet"},
)
def published_marts(context: dg.AssetExecutionContext, cx_data: CxDataResource) -> dg.MaterializeResult:
    result = publish_marts(cx_data.paths(), mart_model_names(), run_id=context.run_id)
    return dg.MaterializeResult(
        metadata={
            "database": dg.MetadataValue.path(str(result.database)),
            "published_at": result.published_at,
            "row_counts": markdown_counts(result.row_counts, "mart"),
            **{f"rows/{mart}": rows for mart, rows in result.row_counts.items()},
        }
    )


publish_job = dg.define_asset_job(
    "publish_job",
    selection=dg.AssetSelection.assets(published_marts),
    description="Publish the marts already built in the working database, without rebuilding them.",
)
