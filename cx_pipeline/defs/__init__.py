"""Dagster definitions, one module per stage of the flow:
landing -> ingestion -> dbt (staging, intermediate, marts) -> quality checks -> publish,
with on-call alerts across them."""
