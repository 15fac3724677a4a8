"""The dbt project as Dagster sees it, in its own module so that
`dagster-dbt project prepare-and-package --file cx_pipeline/dbt_project.py` can import it alone."""

from dagster_dbt import DbtProject

from cx_pipeline.paths import DBT_PROJECT_DIR

cx_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev`, re-parse on load so model edits show up without a separate step; elsewhere
# (CLI runs, tests on a fresh clone) parse once when no manifest has been built yet.
cx_dbt_project.prepare_if_dev()
if not cx_dbt_project.manifest_path.exists():
    cx_dbt_project.preparer.prepare(cx_dbt_project)
