"""Generic, registry-driven ingestion: landing files -> typed rows, quarantine, identifiers, touchpoints, attributes.

    registry = load_registry()
    result = ingest_source(registry.source("orders"), registry.defaults, data_paths())
"""

from cx_pipeline.ingest.ingest import IngestAccountingError, IngestResult, ingest_all, ingest_source, landing_files
from cx_pipeline.ingest.outputs import (
    ATTRIBUTES_SCHEMA,
    IDENTIFIERS_SCHEMA,
    OUTPUT_NAMES,
    QUARANTINE_SCHEMA,
    TOUCHPOINTS_SCHEMA,
    accepted_schema,
    output_schemas,
)
from cx_pipeline.ingest.readers import LandingFileError
from cx_pipeline.ingest.registry import (
    FieldSpec,
    Registry,
    RegistryDefaults,
    RegistryError,
    SourceSpec,
    TouchpointSpec,
    load_registry,
)

__all__ = [
    "ATTRIBUTES_SCHEMA",
    "IDENTIFIERS_SCHEMA",
    "OUTPUT_NAMES",
    "QUARANTINE_SCHEMA",
    "TOUCHPOINTS_SCHEMA",
    "FieldSpec",
    "IngestAccountingError",
    "IngestResult",
    "LandingFileError",
    "Registry",
    "RegistryDefaults",
    "RegistryError",
    "SourceSpec",
    "TouchpointSpec",
    "accepted_schema",
    "ingest_all",
    "ingest_source",
    "landing_files",
    "load_registry",
    "output_schemas",
]
