"""The quality settings file is strict, and every check has its settings, its runbook and (for
suites) its suite file."""

from __future__ import annotations

import copy

import pytest
import yaml

from cx_pipeline.defs.dbt import mart_model_names
from cx_pipeline.defs.quality import gated_checks
from cx_pipeline.ingest.registry import load_registry
from cx_pipeline.quality.catalog import all_checks
from cx_pipeline.quality.expectations import load_suite, mart_suite_path, missing_suites, source_suite_path
from cx_pipeline.quality.settings import (
    QUALITY_CONFIG,
    QualityConfigError,
    load_quality_settings,
    parse_quality_settings,
)

REGISTRY = load_registry()


def _shipped() -> dict:
    return yaml.safe_load(QUALITY_CONFIG.read_text(encoding="utf-8"))


def _parse(doc: dict):
    return parse_quality_settings(doc, QUALITY_CONFIG, REGISTRY)


def test_the_shipped_settings_configure_every_check():
    settings = load_quality_settings()
    assert set(settings.checks) == set(all_checks())
    assert settings.keep_versions >= 1
    assert {p.severity for p in settings.checks.values()} <= {"error", "warn"}


def _broken(change) -> dict:
    doc = copy.deepcopy(_shipped())
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["checks"].pop("link_rate"), "checks.link_rate: missing"),
        (lambda d: d["checks"].__setitem__("link_rte", {"severity": "error"}), "checks.link_rte: unknown check"),
        (lambda d: d["checks"]["link_rate"]["per_source"].__setitem__("ordres", 0.5), "checks.link_rate.per_source: "),
        (lambda d: d["checks"]["quarantine_rate"].__setitem__("severity", "fatal"), "checks.quarantine_rate.severity"),
        (lambda d: d["checks"]["quarantine_rate"].__setitem__("max_rate", 1.5), "checks.quarantine_rate.max_rate"),
        (lambda d: d["checks"]["freshness"].__setitem__("max_age", 3), "checks.freshness.max_age"),
        (
            lambda d: d["checks"]["conflicting_attributes"]["max_rate"].__setitem__("shoe_size", 0.1),
            "checks.conflicting_attributes.max_rate: ",
        ),
        (
            lambda d: d["checks"]["timeline_order"]["rules"][0]["must_follow"].__setitem__("departments", ["finance"]),
            "checks.timeline_order.rules[0].must_follow.departments",
        ),
        (lambda d: d["checks"]["junk_identifiers"].__setitem__("guards", ["junk"]), "checks.junk_identifiers.guards"),
        (lambda d: d["publish"].__setitem__("keep_versions", 0), "publish.keep_versions"),
        (lambda d: d["alerts"].__setitem__("runbook_base_url", "wiki/runbooks"), "alerts.runbook_base_url"),
    ],
)
def test_a_mistake_names_the_file_and_the_key(change, where):
    with pytest.raises(QualityConfigError) as error:
        _parse(_broken(change))
    message = str(error.value)
    assert message.startswith(f"{QUALITY_CONFIG}: ")
    assert where in message


def test_unknown_names_are_listed_with_the_known_ones():
    with pytest.raises(QualityConfigError, match=r"unknown source 'ordres'; known: \[.*'orders'"):
        _parse(_broken(lambda d: d["checks"]["link_rate"]["per_source"].__setitem__("ordres", 0.5)))


def test_every_check_has_a_runbook():
    """Every asset check of the code location, ours and dbt's, links an existing runbook."""
    gated = gated_checks()
    assert {key.name for key in gated} >= set(all_checks())
    missing = sorted({link.relative for _, link in gated.values() if not link.path.exists()})
    assert missing == []


def test_every_registry_source_and_every_mart_has_a_valid_suite_file():
    assert missing_suites(REGISTRY, mart_model_names()) == []
    for path in [source_suite_path(s) for s in REGISTRY.sources] + [mart_suite_path(m) for m in mart_model_names()]:
        suite = load_suite(path)
        assert suite["expectations"], path
