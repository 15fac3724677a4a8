"""On-call alerts: one alert, several channels.

Every alert is appended to `data/alerts.jsonl` and logged; a generic webhook (a JSON POST) and
Slack (through dagster-slack) are added when configured. Webhook URLs and Slack tokens are
secrets: they never reach a log line, the alerts file or an error message.

A channel that fails to deliver is logged and skipped, never raised: a broken webhook must not
turn a warning into a failed run or hide the next channel.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

log = logging.getLogger("cx_pipeline.alerts")

WEBHOOK_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Alert:
    kind: Literal["check_failed", "run_failed"]
    severity: Literal["error", "warn"]
    title: str  # one line: what failed, where
    summary: str  # what was measured against which limit
    runbook: str  # docs/runbooks/<check>.md
    runbook_url: str | None = None
    run_id: str | None = None
    job: str | None = None
    check: str | None = None
    asset: str | None = None
    blocking: bool = False  # true: the marts are not published
    failing: list[str] = field(default_factory=list)  # the findings or checks that failed
    results: str | None = None  # the results file with every figure and sample row
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def check_failed(
        cls,
        *,
        check: str,
        asset: str,
        severity: Literal["error", "warn"],
        summary: str,
        runbook: str,
        runbook_url: str | None,
        run_id: str | None,
        job: str | None,
        failing: list[str],
        results: str | None = None,
    ) -> Alert:
        blocking = severity == "error"
        return cls(
            kind="check_failed",
            severity=severity,
            title=f"check {check} failed on {asset}",
            summary=summary,
            runbook=runbook,
            runbook_url=runbook_url,
            run_id=run_id,
            job=job,
            check=check,
            asset=asset,
            blocking=blocking,
            failing=failing,
            results=results,
        )

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        """The alert for people: Slack and the log."""
        consequence = "publishing blocked, BI keeps the last good version" if self.blocking else "not blocking"
        lines = [f"[{self.severity.upper()}] {self.title} ({consequence})", self.summary]
        if self.run_id:
            lines.append(f"run {self.run_id}" + (f" of {self.job}" if self.job else ""))
        lines.append(f"runbook: {self.runbook_url or self.runbook}")
        return "\n".join(lines)


@dataclass(frozen=True)
class SlackTarget:
    token: str
    channel: str
    api_url: str | None = None  # a Slack-compatible API (or a test server); None: slack.com


class Notifier:
    def __init__(self, alerts_file: Path, webhook_url: str | None = None, slack: SlackTarget | None = None) -> None:
        self.alerts_file = alerts_file
        self.webhook_url = webhook_url or None
        self.slack = slack
        self._secrets = [s for s in (webhook_url, slack.token if slack else None) if s]

    @property
    def channels(self) -> list[str]:
        return ["file", "log"] + (["webhook"] if self.webhook_url else []) + (["slack"] if self.slack else [])

    def send(self, alert: Alert) -> dict[str, str]:
        """Deliver `alert` on every channel; returns channel -> "sent" or the (redacted) error."""
        outcome = {"file": self._append(alert)}
        (log.error if alert.severity == "error" else log.warning)("ALERT %s", alert.text())
        outcome["log"] = "sent"
        if self.webhook_url:
            outcome["webhook"] = self._deliver("webhook", lambda: self._post_webhook(alert))
        if self.slack:
            outcome["slack"] = self._deliver("slack", lambda: self._post_slack(alert))
        return outcome

    def _append(self, alert: Alert) -> str:
        self.alerts_file.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({**alert.as_dict(), "channels": self.channels}, ensure_ascii=False) + "\n"
        # One write of one line in append mode: concurrent writers do not interleave lines.
        with self.alerts_file.open("a", encoding="utf-8") as handle:
            handle.write(line)
        return "sent"

    def _deliver(self, channel: str, send) -> str:
        try:
            send()
            return "sent"
        except Exception as error:  # any failure of a channel is reported, never raised
            message = self._redact(f"{type(error).__name__}: {error}")
            log.warning("alert not delivered to %s: %s", channel, message)
            return message

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<secret>")
        return text

    def _post_webhook(self, alert: Alert) -> None:
        request = urllib.request.Request(
            self.webhook_url,
            data=json.dumps(alert.as_dict()).encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "cx-pipeline-alerts"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            if response.status >= 300:
                raise OSError(f"webhook answered HTTP {response.status}")

    def _post_slack(self, alert: Alert) -> None:
        from dagster_slack import SlackResource

        client = SlackResource(token=self.slack.token).get_client()
        if self.slack.api_url:
            client.base_url = self.slack.api_url.rstrip("/") + "/"
        client.timeout = WEBHOOK_TIMEOUT_SECONDS
        client.chat_postMessage(channel=self.slack.channel, text=alert.text())


def notifier_from_environment(
    alerts_file: Path,
    webhook_url: str | None = None,
    slack_token: str | None = None,
    slack_channel: str | None = None,
    slack_api_url: str | None = None,
) -> Notifier:
    slack = SlackTarget(slack_token, slack_channel, slack_api_url) if slack_token and slack_channel else None
    if slack_token and not slack_channel:
        log.warning("a Slack token is set but no channel: alerts are not sent to Slack")
    return Notifier(alerts_file, webhook_url=webhook_url, slack=slack)


def read_alerts(alerts_file: Path) -> list[dict]:
    if not alerts_file.exists():
        return []
    return [json.loads(line) for line in alerts_file.read_text(encoding="utf-8").splitlines() if line.strip()]
