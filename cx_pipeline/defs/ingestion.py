"""Ingestion assets, one per registered source, built from the source registry alone.

Asset keys `ingested/<source>` are the dbt sources of the same name, so Polars ingestion and dbt
models form one lineage graph. Each ingestion asset depends on an external `landing/<source>`
asset: the channel files arrive from outside the pipeline.

Event streams (`partitioned_by: day` in the registry) are daily-partitioned assets: a run for a
day (or a range of days: single-run backfills) ingests only those days' files; a run without a
partition (`cx_full_run` as `cx-pipeline run` launches it) ingests every day. Everything
downstream is unpartitioned and reads the whole source.
"""

import warnings
from pathlib import Path

import dagster as dg
import polars as pl

from cx_pipeline.defs.resources import CxDataResource, PrivacyResource
from cx_pipeline.ingest.ingest import IngestResult, ingest_source
from cx_pipeline.ingest.outputs import write_union
from cx_pipeline.ingest.registry import Registry, SourceSpec, load_registry
from cx_pipeline.lib.code_version import code_version
from cx_pipeline.lib.metadata import markdown_counts, markdown_preview
from cx_pipeline.operations import load_operations_settings
from cx_pipeline.paths import PACKAGE_DIR

INGESTION_GROUP = "ingestion"
# Long-form tables that every source feeds through its registry entry (see _ingested__sources.yml).
REGISTRY_UNION_TABLES = ("identifiers", "touchpoints", "attributes")
INGEST_CODE = PACKAGE_DIR / "ingest"


def _source_version(spec: SourceSpec, registry: Registry) -> str:
    """The ingestion code and this source's registry entry (with the defaults it inherits)."""
    return code_version(INGEST_CODE, extra=repr(spec) + repr(registry.defaults))


def landing_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", source])


def ingested_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["ingested", source])


def _landing_spec(spec: SourceSpec) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=landing_key(spec.name),
        description=f"Landing files of `{spec.name}` ({spec.format}, `{spec.path}`): {spec.description}",
        group_name="landing",
        kinds={spec.format},
        tags={"department": spec.department, "channel": spec.channel},
        owners=[f"team:{spec.department}"],
        # what is declared about the files: their registry entry
        code_version=code_version(extra=repr(spec)),
        metadata={"path_glob": f"landing/{spec.name}/{spec.path}", "format": spec.format, "encoding": spec.encoding},
    )


def _landing_observation(spec: SourceSpec, result: IngestResult) -> dg.AssetObservation:
    """What ingestion found in the landing folder, recorded on the external landing asset."""
    return dg.AssetObservation(
        asset_key=landing_key(spec.name),
        metadata={
            "dagster/row_count": result.rows_in,
            "files": dg.MetadataValue.json([str(f) for f in result.files]),
            "file_count": len(result.files),
        },
    )


def _ingest_metadata(result: IngestResult) -> dict:
    return {
        "dagster/row_count": result.rows_accepted,
        "rows_in": result.rows_in,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        # rows of erased people, dropped by the suppression list (docs/privacy.md)
        "rows_suppressed": result.rows_suppressed,
        "suppressed_by_identifier": markdown_counts(result.suppressed_by_identifier, "matched on"),
        "quarantine_rate": round(result.rows_quarantined / result.rows_in, 4) if result.rows_in else 0.0,
        "quarantined_by_reason": markdown_counts(result.quarantined_by_reason, "reason"),
        "identifiers_by_type": markdown_counts(result.identifiers_by_type, "identifier type", "values"),
        "files": dg.MetadataValue.json([str(f) for f in result.files]),
        "preview": markdown_preview(result.preview),
    }


def daily_partitions(registry: Registry) -> dg.DailyPartitionsDefinition:
    """One partition per day a landing file may carry, up to and including today."""
    return dg.DailyPartitionsDefinition(
        start_date=registry.arrival.partitions_start.isoformat(),
        timezone=registry.defaults.timezone,
        end_offset=1,
    )


def partition_days(context: dg.AssetExecutionContext) -> list[str] | None:
    """The days a run asked for (one partition or a range), None for a run over every day."""
    if context.has_partition_key or context.has_partition_key_range:
        return list(context.partition_keys)
    return None


def _ingestion_asset(spec: SourceSpec, registry: Registry) -> dg.AssetsDefinition:
    partitioned = spec.partitioned

    @dg.asset(
        key=ingested_key(spec.name),
        deps=[landing_key(spec.name)],
        group_name=INGESTION_GROUP,
        description=(
            f"{spec.description} Typed and normalised by the registry; bad rows quarantined "
            f"with a reason in `ingested/{spec.name}/quarantine.parquet`."
        ),
        kinds={"polars", "parquet"},
        tags={"department": spec.department, "channel": spec.channel},
        owners=[f"team:{spec.department}"],
        code_version=_source_version(spec, registry),
        partitions_def=daily_partitions(registry) if partitioned else None,
        # a backfill of many days is one run: the days are read in order, then combined once
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
    )
    def _ingest(
        context: dg.AssetExecutionContext, cx_data: CxDataResource, privacy: PrivacyResource
    ) -> dg.MaterializeResult:
        paths = cx_data.paths()
        days = partition_days(context) if partitioned else None
        result = ingest_source(spec, registry.defaults, paths, days=days, suppression=privacy.suppression(paths))
        # Nothing is dropped silently: every row read is accepted, quarantined or suppressed (erased).
        if result.rows_in != result.rows_accepted + result.rows_quarantined + result.rows_suppressed:
            raise dg.Failure(f"{spec.name}: {result.rows_in} rows in but {result.rows_accepted} accepted "
                             f"+ {result.rows_quarantined} quarantined + {result.rows_suppressed} suppressed")
        context.log.info(
            f"{spec.name}{_days_label(days)}: {result.rows_in:,} rows in, {result.rows_accepted:,} accepted, "
            f"{result.rows_quarantined:,} quarantined, {result.rows_suppressed:,} suppressed (erased people)"
        )
        context.log_event(_landing_observation(spec, result))
        return dg.MaterializeResult(metadata=_ingest_metadata(result))

    return _ingest


def _days_label(days: list[str] | None) -> str:
    if days is None:
        return ""
    return f" {days[0]}" if len(days) == 1 else f" {days[0]}..{days[-1]} ({len(days)} days)"


def _registry_union_asset(registry: Registry) -> dg.AssetsDefinition:
    sources = list(registry.sources)

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                key=ingested_key(table),
                deps=[ingested_key(s) for s in sources],
                group_name=INGESTION_GROUP,
                description=f"The {table} of every registered source in one long table.",
                kinds={"polars", "parquet"},
                code_version=code_version(Path(__file__), extra=",".join(sources)),
            )
            for table in REGISTRY_UNION_TABLES
        ],
        name="registry_union",
    )
    def _union(cx_data: CxDataResource):
        paths = cx_data.paths()
        preview_rows = load_operations_settings().asset_metadata.preview_rows
        for table in REGISTRY_UNION_TABLES:
            counts = write_union(paths.ingested, table, sources)
            target = paths.ingested / f"{table}.parquet"
            yield dg.MaterializeResult(
                asset_key=ingested_key(table),
                metadata={
                    "dagster/row_count": sum(counts.values()),
                    "rows_by_source": markdown_counts(counts, "source"),
                    "preview": markdown_preview(pl.read_parquet(target, n_rows=preview_rows), preview_rows),
                    "path": dg.MetadataValue.path(str(target)),
                },
            )

    return _union


def build_ingestion_defs(registry: Registry | None = None) -> dg.Definitions:
    registry = registry or load_registry()
    specs = list(registry.sources.values())
    with warnings.catch_warnings():
        # backfill_policy is marked beta; single-run backfills are what a daily stream needs
        warnings.simplefilter("ignore", dg.BetaWarning)
        ingestion = [_ingestion_asset(s, registry) for s in specs]
    return dg.Definitions(
        assets=[_landing_spec(s) for s in specs] + ingestion + [_registry_union_asset(registry)],
    )
