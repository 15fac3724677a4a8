"""`make ui`: the Dagster UI starts on 127.0.0.1 and loads the code location without errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cx_pipeline.paths import PROJECT_ROOT

LOCATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  __typename ... on PythonError { message }
  ... on RepositoryLocation { repositories { assetGroups { groupName } jobs { name }
    schedules { name } sensors { name } } } } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses (hex, as the kernel writes them) listening on `port`."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                addresses.add(address)
    return addresses


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def test_ui_serves_the_code_location_on_loopback(tmp_path: Path):
    port = _free_port()
    cli = str(Path(sys.prefix) / "bin" / "cx-pipeline")
    # A PATH without the venv, as for a user who did not activate it.
    env = {**os.environ, "CX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    env.pop("DAGSTER_HOME", None)
    proc = subprocess.Popen(
        [cli, "ui", "--port", str(port)], cwd=PROJECT_ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        entry, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                entries = _graphql(port, LOCATION_QUERY)["data"]["workspaceOrError"]["locationEntries"]
                entry = entries[0]["locationOrLoadError"] if entries else None
                if entry:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert entry is not None, "the UI did not answer within 120 s"
        assert entry["__typename"] == "RepositoryLocation", entry.get("message")
        repository = entry["repositories"][0]
        groups = {g["groupName"] for g in repository["assetGroups"]}
        assert {"ingestion", "staging", "identity", "customer_360", "lifecycle", "quality", "publish"} <= groups
        jobs = {j["name"] for j in repository["jobs"]}
        assert {"cx_full_run", "publish_job", "cx_report"} <= jobs
        assert {s["name"] for s in repository["schedules"]} == {"cx_daily_run"}
        assert {"run_failure_alerts", "report_after_success", "report_after_failure"} <= {
            s["name"] for s in repository["sensors"]
        }
        # bound to loopback only: 127.0.0.1 (little-endian hex 0100007F), never 0.0.0.0
        assert _listening_addresses(port) == {"0100007F"}
        assert (tmp_path / "dagster_home" / "dagster.yaml").read_text().count("enabled: false") == 1
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
