"""cx_pipeline/config/lifecycle.yml: the shipped rules load, and mistakes are named precisely."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from cx_pipeline.defs.dbt import dbt_rule_vars
from cx_pipeline.lifecycle.rules import LIFECYCLE_RULES, LifecycleRulesError, load_lifecycle_rules


def _shipped() -> dict:
    return yaml.safe_load(LIFECYCLE_RULES.read_text(encoding="utf-8"))


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "lifecycle.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_rules_load_and_reach_dbt_as_plain_json():
    rules = load_lifecycle_rules()
    assert rules.as_of is None  # `latest`: the day of the newest touchpoint
    lifecycle = json.loads(json.dumps(dbt_rule_vars()))["lifecycle"]
    assert lifecycle == rules.rules
    assert lifecycle["use"]["successful_use_day"] == {"min_active_minutes": 30, "min_feature_events": 5}
    assert lifecycle["expand"]["upsell_min_share_of_first_order"] == 0.25
    assert lifecycle["use"]["at_risk"]["severe_case_severities"] == ["high", "critical"]


def test_a_fixed_as_of_day_is_read_whether_quoted_or_not(tmp_path):
    doc = _shipped()
    doc["as_of"] = dt.date(2025, 12, 31)  # what YAML makes of an unquoted 2025-12-31
    rules = load_lifecycle_rules(_write(tmp_path, doc))
    assert rules.as_of == dt.date(2025, 12, 31)
    assert rules.dbt_vars()["lifecycle"]["as_of"] == "2025-12-31"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(as_of="yesterday"), r"as_of: expected `latest` or a date"),
        (lambda d: d.update(timezone="Mars/Olympus"), r"timezone: unknown time zone"),
        (lambda d: d["use"]["customer_only_sources"].append("fax"), r"use\.customer_only_sources\[5\]: unknown source 'fax'"),
        (lambda d: d["purchase"]["anonymous_touchpoints"]["web_events"].append("scroll"),
         r"purchase\.anonymous_touchpoints\.web_events\[2\]: web_events has no touchpoint type 'scroll'"),
        (lambda d: d["purchase"]["engaged_crm_stages"].append("hot"), r"purchase\.engaged_crm_stages\[1\]: unknown CRM stage 'hot'"),
        (lambda d: d["purchase"]["engaged_crm_stages"].append("sql"), r"purchase: CRM stage\(s\) \['sql'\] both engaged and evaluating"),
        (lambda d: d["use"]["at_risk"].update(min_days_inactive=-1), r"use\.at_risk\.min_days_inactive: expected a whole number >= 0"),
        (lambda d: d["lapsed"].update(inactive_days=0), r"lapsed\.inactive_days: expected a whole number >= 1"),
        (lambda d: d["expand"].update(upsell_min_share_of_first_order=0), r"expand\.upsell_min_share_of_first_order: expected a share > 0"),
        (lambda d: d["use"]["at_risk"]["severe_case_severities"].append("blocker"),
         r"use\.at_risk\.severe_case_severities\[2\]: unknown case severity 'blocker'; support_cases\.severity allows"),
        (lambda d: d["use"]["at_risk"].update(low_csat_within_days=0), r"use\.at_risk\.low_csat_within_days: expected a whole number >= 1"),
        (lambda d: d["expand"].pop("renewal_tolerance_days"), r"expand: missing key\(s\) \['renewal_tolerance_days'\]"),
        (lambda d: d["lapsed"].update(grace_days=3), r"lapsed: unknown key\(s\) \['grace_days'\]"),
    ],
)
def test_mistakes_name_the_file_and_the_key(tmp_path, change, message):
    doc = _shipped()
    change(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(LifecycleRulesError, match=message) as error:
        load_lifecycle_rules(path)
    assert str(error.value).startswith(str(path))
