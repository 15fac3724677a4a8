"""cx_pipeline/config/survivorship.yml: the shipped rules load, and mistakes are named precisely."""

from __future__ import annotations

import pytest
import yaml

from cx_pipeline.identity.survivorship import SURVIVORSHIP_RULES, SurvivorshipError, load_survivorship


def test_shipped_rules_cover_the_dim_customers_attributes():
    rules = {a.attribute: a for a in load_survivorship().attributes}
    assert set(rules) == {"first_name", "last_name", "full_name", "email", "phone", "country", "postal_code", "company"}
    assert rules["first_name"].rule == "source_priority" and rules["first_name"].sources[0] == "crm_contacts"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["attributes"].update(shoe_size={"rule": "most_recent"}), r"attributes\.shoe_size: no source marks"),
        (lambda d: d["attributes"]["email"].update(rule="newest"), r"attributes\.email\.rule: 'newest' is not one of"),
        (lambda d: d["attributes"]["email"].update(sources=["crm_contacts"]), r"only source_priority takes sources"),
        (lambda d: d["attributes"]["first_name"].update(sources=[]), r"source_priority needs the sources"),
        (lambda d: d["attributes"]["first_name"].update(sources=["fax"]), r"sources\[0\]: unknown source 'fax'"),
        (lambda d: d["attributes"]["first_name"].update(sources=["surveys"]), r"source 'surveys' has no attribute"),
    ],
)
def test_mistakes_fail_with_the_file_and_key(tmp_path, change, message):
    doc = yaml.safe_load(SURVIVORSHIP_RULES.read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "survivorship.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(SurvivorshipError, match=message) as error:
        load_survivorship(path)
    assert str(path) in str(error.value)
