"""Results files: every check's outcome of every run, as JSON under data/quality/<run id>/.

The Dagster UI shows the same figures as check metadata; the files outlive the event log, feed
the publish manifest and the CX report, and are what an operator greps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cx_pipeline.paths import DataPaths


def results_file(paths: DataPaths, run_id: str, asset: str, check: str) -> Path:
    return paths.quality / run_id / f"{asset.replace('/', '.')}.{check}.json"


def write_results(paths: DataPaths, run_id: str, asset: str, check: str, record: dict[str, Any]) -> Path:
    target = results_file(paths, run_id, asset, check)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_suffix(".json.tmp")
    staging.write_text(json.dumps(record, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    staging.replace(target)
    return target


def read_run_results(paths: DataPaths, run_id: str) -> list[dict[str, Any]]:
    folder = paths.quality / run_id
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))] if folder.exists() else []
