"""Runbooks: docs/runbooks/<name>.md, one per check, linked from check metadata and alerts.

Quality checks use their own name; dbt tests use their generic test (`dbt_not_null`,
`dbt_relationships`...), since every not_null test is investigated the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cx_pipeline.paths import PROJECT_ROOT, RUNBOOKS_DIR

RUN_FAILURE = "run_failure"  # a run that failed outside any check (a crashed step, a refused publish)
DBT_PREFIX = "dbt_"
DBT_SINGULAR = "dbt_singular_test"


@dataclass(frozen=True)
class RunbookLink:
    name: str
    path: Path

    @property
    def relative(self) -> str:
        return self.path.relative_to(PROJECT_ROOT).as_posix()

    def url(self, base_url: str | None) -> str | None:
        return base_url.rstrip("/") + "/" + self.relative if base_url else None

    def link(self, base_url: str | None) -> str:
        """What a person clicks: the configured URL, else the file's path."""
        return self.url(base_url) or str(self.path)


def runbook(name: str) -> RunbookLink:
    return RunbookLink(name, RUNBOOKS_DIR / f"{name}.md")


def dbt_test_runbook(test_node: dict) -> RunbookLink:
    """The runbook of a dbt test node from the manifest: by its generic test, else the singular one."""
    generic = (test_node.get("test_metadata") or {}).get("name")
    return runbook(f"{DBT_PREFIX}{generic}" if generic else DBT_SINGULAR)
