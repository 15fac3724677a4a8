"""Resources shared by every stage."""

import os

import dagster as dg

from cx_pipeline.paths import DATA_DIR_ENV, DataPaths, data_paths


class CxDataResource(dg.ConfigurableResource):
    """The data folder the run reads and writes.

    `root` unset means `$CX_DATA_DIR` or `<project>/data`, read when the run starts (not at import).
    """

    root: str | None = None

    def paths(self) -> DataPaths:
        return data_paths(self.root)

    def export_for_dbt(self) -> DataPaths:
        """dbt's profile and sources read the data folder from $CX_DATA_DIR; point it at ours."""
        paths = self.paths()
        os.environ[DATA_DIR_ENV] = str(paths.root)
        # DuckDB creates the database file but not its folder.
        paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
        return paths
