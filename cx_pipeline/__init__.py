"""cx_pipeline: a Connected Customer 360 batch pipeline (Polars -> dbt-duckdb -> Dagster)."""

__version__ = "0.1.0"
