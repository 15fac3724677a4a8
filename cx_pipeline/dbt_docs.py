"""dbt's documentation site, generated offline into the data folder (`make docs`, `cx-pipeline docs`).

`dbt docs generate --static` writes static_index.html with the manifest and catalog inside: one
file that opens from disk in any browser, no `dbt docs serve` and no network needed (the site's
usage tracking stays off: the project sets send_anonymous_usage_stats false). It is written to
data/dbt_docs/, never to dbt_project/target/, whose manifest the Dagster code location reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from cx_pipeline.paths import DataPaths

STATIC_PAGE = "static_index.html"


class DbtDocsError(RuntimeError):
    """dbt could not generate the docs; the message carries dbt's own error lines."""


def generate_dbt_docs(paths: DataPaths) -> Path:
    """Generate the docs (the catalog read from the working database) and return the static page."""
    from cx_pipeline.dbt_project import cx_dbt_cli
    from cx_pipeline.defs.dbt import dbt_rule_vars
    from cx_pipeline.defs.resources import CxDataResource

    CxDataResource(root=str(paths.root)).export_for_dbt()
    invocation = cx_dbt_cli().cli(
        ["docs", "generate", "--static", "--vars", json.dumps(dbt_rule_vars(), sort_keys=True)],
        target_path=paths.dbt_docs,
        raise_on_error=False,
    ).wait()
    error = invocation.get_error()
    if error is not None:
        raise DbtDocsError(f"dbt docs generate failed (log: {paths.dbt_docs / 'dbt.log'}): {error}")
    page = paths.dbt_docs / STATIC_PAGE
    if not page.is_file():
        raise DbtDocsError(f"dbt docs generate wrote no {page}")
    return page
