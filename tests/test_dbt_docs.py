"""`make docs`: dbt's documentation site generated offline, one page that opens from disk."""

from __future__ import annotations

import json
import re
import subprocess

from typer.testing import CliRunner

from browser import FLAGS, chromium
from cx_pipeline.cli import app
from cx_pipeline.paths import PROJECT_ROOT

DESCRIPTION = "golden attributes chosen by"  # in dim_customers' description


def test_make_docs_runs_the_docs_command():
    dry = subprocess.run(["make", "-n", "docs"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert "cx-pipeline docs" in dry.stdout


def test_docs_write_a_static_page_that_renders_offline(isolated_env, tmp_path):
    result = CliRunner().invoke(app, ["docs", "--data-dir", str(isolated_env)])
    assert result.exit_code == 0, result.output
    page = isolated_env / "dbt_docs" / "static_index.html"
    assert page.is_file() and str(page) in result.output.replace("\n", "")
    # the dbt project's own target (the manifest Dagster reads) is not where the docs go
    html = page.read_text(encoding="utf-8")
    manifest = json.loads((isolated_env / "dbt_docs" / "manifest.json").read_text())
    assert "model.cx_pipeline.dim_customers" in manifest["nodes"]
    # the site's usage tracking loads only when the project sends usage stats: it does not
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
    assert html.count(DESCRIPTION) >= 1

    # opened from disk with no network, the page renders the model's documentation
    with_profile = [f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom"]
    url = page.as_uri() + "#!/model/model.cx_pipeline.dim_customers"
    dom = subprocess.run(
        [chromium(), *FLAGS, *with_profile, url], capture_output=True, text=True, timeout=180, check=True
    ).stdout
    rendered = re.sub(r"<script.*?</script>", "", dom, flags=re.S)
    assert DESCRIPTION in rendered, "the description is not on the rendered page"
    assert "customer_id" in rendered
