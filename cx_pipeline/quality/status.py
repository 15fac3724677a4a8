"""The quality gate's verdict on every check, as one file (data/quality/status.json).

Built from the latest evaluation of each gated check (the publish step's view, see
cx_pipeline/defs/publish.py), with the failing figures of each failed check read from its results
file: what the CX report and an operator's script read without a Dagster instance.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cx_pipeline.paths import DataPaths
from cx_pipeline.quality.results import results_file

PASSED, FAILED_ERROR, FAILED_WARN, NOT_EVALUATED = "passed", "failed (error)", "failed (warn)", "not evaluated"
OUTCOMES = (PASSED, FAILED_WARN, FAILED_ERROR, NOT_EVALUATED)
MAX_FINDINGS, MAX_SAMPLE_ROWS = 10, 5


def outcome(check: dict[str, Any]) -> str:
    if check["passed"] is None:
        return NOT_EVALUATED
    if check["passed"]:
        return PASSED
    return FAILED_ERROR if check["severity"] == "error" else FAILED_WARN


def blocks(check: dict[str, Any]) -> bool:
    """An error check that did not pass (failed, or not evaluated since its asset was built) blocks publishing."""
    return check["severity"] == "error" and check["passed"] is not True


def _details(paths: DataPaths, check: dict[str, Any]) -> dict[str, Any]:
    """The failing figures from the check's results file; dbt tests have none (their run_results.json has them)."""
    if not check.get("run_id"):
        return {}
    path = results_file(paths, check["run_id"], check["asset"], check["check"])
    if not path.is_file():
        return {}
    record = json.loads(path.read_text(encoding="utf-8"))
    return {
        "summary": record.get("summary"),
        "failing": [f for f in record.get("findings", []) if not f.get("passed")][:MAX_FINDINGS],
        "sample_failing_rows": record.get("sample_failing_rows", [])[:MAX_SAMPLE_ROWS],
        "query": record.get("query"),
        "results": str(path),
    }


def build_status(paths: DataPaths, checks: list[dict[str, Any]], published_version: str | None) -> dict[str, Any]:
    """`checks`: the publish gate's statuses as dicts (asset, check, severity, passed, run_id, runbook)."""
    rows = []
    for check in checks:
        row = {**check, "outcome": outcome(check), "kind": Path(check["runbook"]).stem}
        if row["outcome"] != PASSED:
            row.update(_details(paths, check))
        rows.append(row)
    counts = Counter(row["outcome"] for row in rows)
    return {
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gate": "closed" if any(blocks(c) for c in checks) else "open",
        "published_version": published_version,
        "counts": {name: counts.get(name, 0) for name in OUTCOMES},
        "checks": rows,
    }


def write_status(paths: DataPaths, status: dict[str, Any]) -> Path:
    target = paths.quality_status
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_suffix(".json.tmp")
    staging.write_text(json.dumps(status, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    staging.replace(target)
    return target
