"""The dbt project as Dagster sees it, in its own module so that
`dagster-dbt project prepare-and-package --file cx_pipeline/dbt_project.py` can import it alone."""

from importlib.metadata import version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from cx_pipeline.paths import DBT_PROJECT_DIR, venv_executable

# What the manifest is parsed from: a newer file here means the manifest is stale.
DBT_SOURCE_PATTERNS = (
    "dbt_project.yml", "models/**/*", "macros/**/*", "tests/**/*", "seeds/**/*", "snapshots/**/*",
)

cx_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class CxDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI without two costs paid before every invocation (~4 s of a small run):

    - `dbt --version` in a subprocess (2.8 s): our dbt is the dbt-core installed beside us, so its
      version is the package's;
    - an adapter built in this process (profile, project and all macros loaded: 0.4-1.7 s). dagster-dbt
      only needs it for `fetch_row_counts()` / `fetch_column_metadata()`, which cx_pipeline does not
      call: row counts and previews come from describe_built_tables (cx_pipeline/defs/dbt.py).

    Both are dagster-dbt internals; tests/test_definitions.py fails if they are renamed."""

    @property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args) -> None:
        return None


def cx_dbt_cli() -> CxDbtCliResource:
    """The dbt CLI every caller uses: the project's dbt, from the project's virtual environment."""
    return CxDbtCliResource(project_dir=cx_dbt_project, dbt_executable=venv_executable("dbt"))


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
    cx_dbt_cli().cli(
        ["--quiet", "parse"], target_path=cx_dbt_project.target_path
    ).wait()
