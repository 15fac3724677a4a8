"""cx_pipeline/config/identity.yml: the shipped rules load, and mistakes are named precisely."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from cx_pipeline.identity.rules import IDENTITY_RULES, IdentityRulesError, load_identity_rules


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "identity.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _shipped() -> dict:
    return yaml.safe_load(IDENTITY_RULES.read_text(encoding="utf-8"))


def test_shipped_rules_load_in_priority_order_and_round_trip_as_dbt_vars():
    rules = load_identity_rules()
    names = [r.name for r in rules.match_rules]
    assert names[0] == "same_crm_id" and "same_email" in names and "same_phone" in names
    identity = json.loads(json.dumps(rules.dbt_vars()))["identity"]
    assert [r["name"] for r in identity["match_rules"]] == names
    assert identity["max_distinct_neighbours"]["phone"]["crm_id"] >= 1


def test_a_rule_with_vetoes_only_is_judged_on_pairs_and_carries_them_to_dbt(tmp_path):
    # the shipped same_phone: a shared phone links only names that are not clearly different
    phone = next(r for r in load_identity_rules().match_rules if r.name == "same_phone")
    assert phone.same == ("phone",) and not phone.similar
    assert [(c.attribute, c.at_least) for c in phone.not_dissimilar] == [("full_name", 0.7)]
    doc = _shipped()
    doc["match_rules"].append({"name": "same_email_other_phone", "criteria": [{"same": "email"}, {"not_different": "phone"}]})
    rules = load_identity_rules(_write(tmp_path, doc))
    var = {r["name"]: r for r in rules.dbt_vars()["identity"]["match_rules"]}
    assert var["same_email_other_phone"]["not_different"] == ["phone"]
    assert var["same_phone"]["not_dissimilar"] == [{"attribute": "full_name", "at_least": 0.7}]
    assert var["same_email"]["not_dissimilar"] == [] and var["same_email"]["not_different"] == []


def test_slip_keys_are_compared_like_identifier_types_and_reach_dbt():
    rules = load_identity_rules()
    assert {name: (k.identifier, k.slip) for name, k in rules.slip_keys.items()} == {
        "email_swapped_letters": ("email", "swapped_letters"),
        "email_doubled_letters": ("email", "doubled_letters"),
    }
    swapped = next(r for r in rules.match_rules if r.name == "email_swapped_letters")
    assert swapped.same == ("email_swapped_letters",)
    assert [(c.attribute, c.at_least) for c in swapped.not_dissimilar] == [("full_name", 0.7)]
    identity = json.loads(json.dumps(rules.dbt_vars()))["identity"]
    assert identity["slip_keys"]["email_doubled_letters"] == {"identifier": "email", "slip": "doubled_letters"}
    assert "gmail.com" in identity["personal_email_domains"] and "yahoo.co.jp" in identity["personal_email_domains"]


def test_shipped_junk_patterns_catch_the_placeholders_and_spare_real_values():
    rules = load_identity_rules()
    email = [re.compile(p) for p in rules.junk_patterns["email"]]
    phone = [re.compile(p) for p in rules.junk_patterns["phone"]]
    for junk in ("test@anything.jp", "noreply@acme.co.jp", "x@example.com", "info@acme.jp"):
        assert any(p.search(junk) for p in email), junk
    for real in ("tanaka.hanako@acme.co.jp", "info.desk.person@acme.jp", "j.smith@example.co.uk"):
        assert not any(p.search(real) for p in email), real
    for junk in ("+0000000000", "+81300000000", "+811111111111"):
        assert any(p.search(junk) for p in phone), junk
    for real in ("+81312345678", "+819012345678", "+12025550143"):
        assert not any(p.search(real) for p in phone), real


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["match_rules"].append({"name": "same_fax", "criteria": [{"same": "fax"}]}),
         r"match_rules\[\d+\]\.criteria\[0\]\.same: unknown identifier type or match attribute 'fax'"),
        (lambda d: d["match_rules"].append(
            {"name": "similar_name", "criteria": [{"similar": "full_name", "at_least": 0.9}]}),
         r"match_rules\[\d+\]\.criteria: a rule with `similar` or `not_different` compares record pairs: "
         r"it needs at least one `same`"),
        (lambda d: d["match_rules"].append(
            {"name": "x", "criteria": [{"not_different": "full_name", "at_least": 0.7}]}),
         r"match_rules\[\d+\]\.criteria: a rule with `similar` or `not_different` compares record pairs"),
        (lambda d: d["match_rules"].append(
            {"name": "x", "criteria": [{"same": "email"}, {"not_different": "phone", "at_least": 0.7}]}),
         r"match_rules\[\d+\]\.criteria\[1\]\.not_different: unknown match attribute 'phone'"),
        (lambda d: d["match_rules"].append(
            {"name": "x", "criteria": [{"same": "email"}, {"not_different": "full_name", "at_least": 0}]}),
         r"match_rules\[\d+\]\.criteria\[1\]\.at_least: expected a similarity in \(0, 1\]"),
        (lambda d: d["match_rules"].append({"name": "x", "criteria": [
            {"same": "email"}, {"not_different": "full_name"}, {"not_different": "full_name", "at_least": 0.7}]}),
         r"match_rules\[\d+\]\.criteria: the same identifier type or attribute twice"),
        (lambda d: d["match_rules"].append(
            {"name": "x", "criteria": [{"same": "company"}, {"similar": "company_name", "at_least": 0.9}]}),
         r"match_rules\[\d+\]\.criteria\[1\]\.similar: unknown match attribute 'company_name'"),
        (lambda d: d["match_rules"].append(
            {"name": "x", "criteria": [{"same": "company"}, {"similar": "full_name", "at_least": 1.5}]}),
         r"match_rules\[\d+\]\.criteria\[1\]\.at_least: expected a similarity in \(0, 1\]"),
        (lambda d: d["match_attributes"]["full_name"].update({"from": ["full_name", ["surname"]]}),
         r"match_attributes\.full_name\.from\[1\]: unknown registry attribute .* 'surname'"),
        (lambda d: d["match_attributes"]["full_name"].update(compare_as="phonetic"),
         r"match_attributes\.full_name\.compare_as: unknown comparison 'phonetic'"),
        (lambda d: d.update(anonymous_identifiers=["cookie_id", "fax"]),
         r"anonymous_identifiers\[1\]: unknown identifier type 'fax'"),
        (lambda d: d.update(kanji_variants={"髙": "高い"}),
         r"kanji_variants: expected a mapping of one character to one character"),
        (lambda d: d.update(personal_email_domains=["gmail.com", "Yahoo.co.jp"]),
         r"personal_email_domains\[1\]: 'Yahoo.co.jp' is not a lower-case mail domain"),
        (lambda d: d.update(personal_email_domains="gmail.com"),
         r"personal_email_domains: expected a list of mail domains"),
        (lambda d: d["slip_keys"].update(phone_swapped_digits={"identifier": "fax", "slip": "swapped_letters"}),
         r"slip_keys\.phone_swapped_digits\.identifier: unknown identifier type 'fax'"),
        (lambda d: d["slip_keys"].update(email_typo={"identifier": "email", "slip": "phonetic"}),
         r"slip_keys\.email_typo\.slip: unknown slip 'phonetic'"),
        (lambda d: d["slip_keys"].update(email_typo={"identifier": "email"}),
         r"slip_keys\.email_typo: a slip key has exactly `identifier` and `slip`"),
        (lambda d: d["slip_keys"].update(phone={"identifier": "email", "slip": "doubled_letters"}),
         r"slip_keys: \['phone'\] already name identifier types or match attributes"),
        (lambda d: d["match_rules"].append({"name": "x", "criteria": [{"same": "email_swapped_digits"}]}),
         r"match_rules\[\d+\]\.criteria\[0\]\.same: unknown identifier type or match attribute 'email_swapped_digits'"),
        (lambda d: d["match_rules"].append({"name": "same_email", "criteria": [{"same": "email"}]}),
         r"match_rules: duplicate rule names"),
        (lambda d: d["match_rules"].append({"name": "x", "criteria": [{"like": "email"}]}),
         r"match_rules\[\d+\]\.criteria\[0\]: a criterion is one of"),
        (lambda d: d["guards"]["junk_patterns"]["email"].append("(unclosed"),
         r"guards\.junk_patterns\.email\[\d+\]: invalid regular expression"),
        (lambda d: d["guards"]["max_records_per_value"].update(email=0),
         r"guards\.max_records_per_value\.email: expected a whole number >= 1"),
        (lambda d: d["guards"]["max_distinct_neighbours"]["phone"].update(pager=2),
         r"guards\.max_distinct_neighbours\.phone\.pager: unknown identifier type"),
        (lambda d: d["guards"].update(max_cluster_size=10), r"guards: unknown guard"),
    ],
)
def test_mistakes_fail_with_the_file_and_key(tmp_path, change, message):
    doc = _shipped()
    change(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(IdentityRulesError, match=message) as error:
        load_identity_rules(path)
    assert str(path) in str(error.value)
