"""The quality checks, one module per concern; importing this package registers them all
in cx_pipeline.quality.catalog."""

from cx_pipeline.quality.checks import consistency, privacy, sequences, silos, sources  # noqa: F401
