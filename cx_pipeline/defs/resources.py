"""Resources shared by every stage."""

import os

import dagster as dg

from cx_pipeline.alerting import Notifier, notifier_from_environment
from cx_pipeline.paths import DATA_DIR_ENV, DataPaths, data_paths


class CxDataResource(dg.ConfigurableResource):
    """The data folder the run reads and writes.

    `root` unset means `$CX_DATA_DIR` or `<project>/data`, read when the run starts (not at import).
    """

    root: str | None = None

    def paths(self) -> DataPaths:
        return data_paths(self.root)

    def export_for_dbt(self) -> DataPaths:
        """dbt's profile and sources read the data folder from $CX_DATA_DIR; point it at ours."""
        paths = self.paths()
        os.environ[DATA_DIR_ENV] = str(paths.root)
        # DuckDB creates the database file but not its folder.
        paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
        return paths


class AlertsResource(dg.ConfigurableResource):
    """Where on-call alerts go: always `data/alerts.jsonl` and the log; a webhook and Slack too
    when their environment variables are set.

    The fields name the variables; their values are read with dg.EnvVar when an alert is sent, so
    a deployment switches channels without code and an unset channel is simply off. Webhook URLs
    and Slack tokens are secrets: they are never logged.
    """

    webhook_url_env: str = "CX_ALERT_WEBHOOK_URL"
    slack_token_env: str = "CX_ALERT_SLACK_TOKEN"
    slack_channel_env: str = "CX_ALERT_SLACK_CHANNEL"
    # A Slack-compatible API instead of slack.com (a proxy, a test server); usually unset.
    slack_api_url_env: str = "CX_ALERT_SLACK_API_URL"

    def notifier(self, paths: DataPaths) -> Notifier:
        return notifier_from_environment(
            paths.alerts,
            webhook_url=dg.EnvVar(self.webhook_url_env).get_value(),
            slack_token=dg.EnvVar(self.slack_token_env).get_value(),
            slack_channel=dg.EnvVar(self.slack_channel_env).get_value(),
            slack_api_url=dg.EnvVar(self.slack_api_url_env).get_value(),
        )


class PrivacyResource(dg.ConfigurableResource):
    """The pseudonymisation key (cx_pipeline/config/privacy.yml: pseudonymisation), read with
    dg.EnvVar when a step needs it: the suppression list's hashes are keyed with it. The key is a
    secret: never logged, never put in metadata."""

    def key(self, paths: DataPaths) -> bytes:
        from cx_pipeline.privacy.pseudonym import resolve_key
        from cx_pipeline.privacy.settings import load_privacy_settings

        settings = load_privacy_settings()
        return resolve_key(paths, dg.EnvVar(settings.key_env).get_value(), settings.key_env, settings.local_key_file)

    def suppression(self, paths: DataPaths):
        """The suppression list of erased people (empty, and no key asked, when nobody was erased)."""
        from cx_pipeline.privacy.suppression import load_suppression

        return load_suppression(paths, lambda: self.key(paths))
