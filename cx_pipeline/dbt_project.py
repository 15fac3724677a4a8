"""The dbt project as Dagster sees it, in its own module so that
`dagster-dbt project prepare-and-package --file cx_pipeline/dbt_project.py` can import it alone."""

from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from cx_pipeline.paths import DBT_PROJECT_DIR, venv_executable

# What the manifest is parsed from: a newer file here means the manifest is stale.
DBT_SOURCE_PATTERNS = (
    "dbt_project.yml", "models/**/*", "macros/**/*", "tests/**/*", "seeds/**/*", "snapshots/**/*",
)

cx_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def manifest_is_stale(project: DbtProject = cx_dbt_project) -> bool:
    manifest: Path = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(
        path.is_file() and path.stat().st_mtime > built
        for pattern in DBT_SOURCE_PATTERNS
        for path in project.project_dir.glob(pattern)
    )


# Under `dagster dev`, re-parse on every load so model edits show up; elsewhere (CLI runs, tests,
# a fresh clone) parse when a dbt file changed since the manifest was built.
cx_dbt_project.prepare_if_dev()
if manifest_is_stale():
    DbtCliResource(project_dir=cx_dbt_project, dbt_executable=venv_executable("dbt")).cli(
        ["--quiet", "parse"], target_path=cx_dbt_project.target_path
    ).wait()
