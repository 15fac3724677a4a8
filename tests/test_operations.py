"""cx_pipeline/config/operations.yml: schedule, owners, previews, report; a typo names its key."""

from __future__ import annotations

import pytest
import yaml

from cx_pipeline.operations import OPERATIONS_CONFIG, OperationsConfigError, load_operations_settings


def _write(tmp_path, **changes):
    doc = yaml.safe_load(OPERATIONS_CONFIG.read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = doc
        for part in parents:
            target = target[part]
        target[leaf] = value
    path = tmp_path / "operations.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_the_shipped_file_loads():
    settings = load_operations_settings()
    assert settings.schedule.cron == "0 6 * * *" and settings.schedule.default_status == "stopped"
    assert settings.owners.of_group("identity") == ["team:data-eng"]


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"schedule__cron": "every morning"}, "schedule.cron", "no cron expression"),
        ({"schedule__timezone": "Mars/Olympus"}, "schedule.timezone", "no IANA time zone"),
        ({"schedule__default_status": "on"}, "schedule.default_status", "running"),
        ({"owners__default": ["data engineers"]}, "owners.default", "team:<name>"),
        ({"owners__by_group": {"quality": ["oncall"]}}, "owners.by_group", "team:<name>"),
        ({"asset_metadata__preview_rows": 0}, "asset_metadata.preview_rows", "greater than or equal to 1"),
        ({"report__colour": "blue"}, "report.colour", "Extra inputs"),
    ],
)
def test_a_bad_value_names_the_file_and_key(tmp_path, change, where, says):
    path = _write(tmp_path, **change)
    with pytest.raises(OperationsConfigError) as error:
        load_operations_settings(path)
    assert str(error.value).startswith(f"{path}: {where}"), str(error.value)
    assert says in str(error.value)


def test_owners_by_group_replace_the_default_for_that_group(tmp_path):
    path = _write(tmp_path, owners__by_group={"quality": ["team:oncall", "lead@example.com"]})
    owners = load_operations_settings(path).owners
    assert owners.of_group("quality") == ["team:oncall", "lead@example.com"]
    assert owners.of_group("publish") == ["team:data-eng"]
