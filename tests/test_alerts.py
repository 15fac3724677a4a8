"""On-call alerts reach a real HTTP server on 127.0.0.1 (generic webhook and a Slack-compatible
API), carry the runbook, and never leak the secrets that configure them."""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from cx_pipeline.alerting import Alert, Notifier, SlackTarget, notifier_from_environment, read_alerts
from cx_pipeline.defs.alerts import CLI_LAUNCHER, LAUNCHED_BY_TAG, run_failure_alerts
from cx_pipeline.defs.resources import AlertsResource, CxDataResource
from gate_helpers import instance, run_checks, warehouse

WEBHOOK_SECRET = "hook-secret-7d1f"
SLACK_TOKEN = "xoxb-slack-secret-93ab"


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def fields(self) -> dict:
        """The posted fields, whether sent as JSON or as a form."""
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return self.json()
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body.decode()).items()}


@dataclass
class AlertServer:
    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 200

    def on(self, prefix: str) -> list[Received]:
        return [r for r in self.received if r.path.startswith(prefix)]


@pytest.fixture
def alert_server() -> Iterator[AlertServer]:
    server_state = AlertServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            server_state.received.append(Received(self.path, dict(self.headers), body))
            answer = json.dumps({"ok": True, "channel": "C1", "ts": "1.0"}).encode()
            self.send_response(server_state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server_state
    server.shutdown()
    server.server_close()


@pytest.fixture
def channels_configured(alert_server: AlertServer, monkeypatch: pytest.MonkeyPatch) -> AlertServer:
    monkeypatch.setenv("CX_ALERT_WEBHOOK_URL", f"{alert_server.url}/hooks/{WEBHOOK_SECRET}")
    monkeypatch.setenv("CX_ALERT_SLACK_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("CX_ALERT_SLACK_CHANNEL", "#cx-oncall")
    monkeypatch.setenv("CX_ALERT_SLACK_API_URL", f"{alert_server.url}/slack/api/")
    return alert_server


def _break_future_events(paths) -> None:
    warehouse(
        paths,
        "update marts.fct_touchpoints set occurred_at = now() + interval 40 day "
        "where touchpoint_id in (select touchpoint_id from marts.fct_touchpoints order by 1 limit 2)",
    )


def _secrets_absent(text: str) -> bool:
    return WEBHOOK_SECRET not in text and SLACK_TOKEN not in text


@pytest.mark.e2e
def test_a_failed_check_alerts_the_webhook_and_slack_with_its_runbook(run_copy, channels_configured, caplog):
    paths = run_copy
    _break_future_events(paths)
    caplog.set_level(logging.INFO)
    result = run_checks(paths, "marts/fct_touchpoints")
    assert not result.success  # a blocking check failed

    [hook] = channels_configured.on("/hooks/")
    assert hook.path == f"/hooks/{WEBHOOK_SECRET}" and hook.headers["Content-Type"] == "application/json"
    payload = hook.json()
    assert payload["kind"] == "check_failed" and payload["check"] == "future_events"
    assert payload["asset"] == "marts/fct_touchpoints" and payload["blocking"] is True
    assert payload["runbook"] == "docs/runbooks/future_events.md"
    assert payload["run_id"] == result.run_id and "future_events" in payload["summary"]

    [slack] = channels_configured.on("/slack/api/chat.postMessage")
    assert slack.headers["Authorization"] == f"Bearer {SLACK_TOKEN}"  # the token goes where it belongs...
    message = slack.fields()
    assert message["channel"] == "#cx-oncall"
    assert "future_events" in message["text"] and "runbook: docs/runbooks/future_events.md" in message["text"]

    [line] = [a for a in read_alerts(paths.alerts) if a["check"] == "future_events"]
    assert line["channels"] == ["file", "log", "webhook", "slack"]
    # ...and nowhere else: not in the alerts file, the log, or Dagster's event log
    assert _secrets_absent(paths.alerts.read_text())
    assert _secrets_absent(caplog.text)
    assert all(_secrets_absent(event.message or "") for event in result.all_events)


@pytest.mark.e2e
def test_an_unreachable_webhook_is_reported_without_its_secret_and_changes_nothing_else(
    run_copy, alert_server, monkeypatch, caplog
):
    paths = run_copy
    alert_server.status = 500
    monkeypatch.setenv("CX_ALERT_WEBHOOK_URL", f"{alert_server.url}/hooks/{WEBHOOK_SECRET}")
    _break_future_events(paths)
    caplog.set_level(logging.WARNING)
    result = run_checks(paths, "marts/fct_touchpoints")

    evaluation = {e.check_name: e for e in result.get_asset_check_evaluations()}["future_events"]
    assert not evaluation.passed  # the check's verdict does not depend on the channel
    assert len(alert_server.on("/hooks/")) == 1
    assert [a["check"] for a in read_alerts(paths.alerts)] == ["future_events"]
    assert "alert not delivered to webhook" in caplog.text and "HTTP Error 500" in caplog.text
    assert _secrets_absent(caplog.text)


def test_without_configuration_alerts_go_to_the_file_and_the_log_only(tmp_path, monkeypatch):
    for name in ("CX_ALERT_WEBHOOK_URL", "CX_ALERT_SLACK_TOKEN", "CX_ALERT_SLACK_CHANNEL", "CX_ALERT_SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    notifier = AlertsResource().notifier(CxDataResource(root=str(tmp_path)).paths())
    assert notifier.channels == ["file", "log"]
    alert = Alert(kind="run_failed", severity="error", title="t", summary="s", runbook="docs/runbooks/run_failure.md")
    assert notifier.send(alert) == {"file": "sent", "log": "sent"}
    assert read_alerts(tmp_path / "alerts.jsonl")[0]["runbook"] == "docs/runbooks/run_failure.md"


def test_slack_messages_are_text_for_people(tmp_path, alert_server):
    notifier = Notifier(
        tmp_path / "alerts.jsonl", slack=SlackTarget(SLACK_TOKEN, "#c", f"{alert_server.url}/slack/api/")
    )
    alert = Alert(kind="check_failed", severity="warn", title="t", summary="s", runbook="docs/runbooks/freshness.md")
    assert notifier.send(alert)["slack"] == "sent"
    assert alert_server.received[0].fields()["text"].startswith("[WARN] t (not blocking)")


def test_a_slack_token_without_a_channel_leaves_slack_off(tmp_path, caplog):
    notifier = notifier_from_environment(tmp_path / "alerts.jsonl", slack_token=SLACK_TOKEN)
    assert notifier.channels == ["file", "log"]
    assert "no channel" in caplog.text and SLACK_TOKEN not in caplog.text


@pytest.mark.e2e
def test_the_run_failure_sensor_alerts_with_the_failed_checks_runbook(run_copy):
    """UI and schedule runs alert through the sensor; CLI runs, which alert themselves, are skipped."""
    paths = run_copy
    _break_future_events(paths)
    failed = run_checks(paths, "marts/fct_touchpoints")
    by_cli = run_checks(paths, "marts/fct_touchpoints", tags={LAUNCHED_BY_TAG: CLI_LAUNCHER})
    assert not failed.success and not by_cli.success
    before = len(read_alerts(paths.alerts))

    with instance(paths) as dagster:
        for result in (failed, by_cli):
            failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
            context = dg.build_run_status_sensor_context(
                sensor_name="run_failure_alerts",
                dagster_event=failure,
                dagster_instance=dagster,
                dagster_run=dagster.get_run_by_id(result.run_id),
                resources={"alerts": AlertsResource(), "cx_data": CxDataResource()},
            ).for_run_failure()
            run_failure_alerts(context)

    new = read_alerts(paths.alerts)[before:]
    assert [a["kind"] for a in new] == ["run_failed"]
    assert new[0]["run_id"] == failed.run_id
    assert new[0]["runbook"] == "docs/runbooks/future_events.md" and new[0]["check"] == "future_events"
    assert any("future_events on marts/fct_touchpoints" in f for f in new[0]["failing"])
