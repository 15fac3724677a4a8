"""Phase accuracy against the truth (cx_pipeline/lifecycle/accuracy.py) on hand-made frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from cx_pipeline.lifecycle.accuracy import judged_customers, phase_accuracy

STAGE_PHASES = pl.DataFrame(
    {
        "sub_stage": ["anonymous_visitor", "known_lead", "onboarding", "adopting", "growing", "lapsed"],
        "phase": ["purchase", "purchase", "use", "use", "expand", "lapsed"],
    }
)


def _t(day: int) -> dt.datetime:
    return dt.datetime(2026, 1, day, tzinfo=dt.UTC)


def _records(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["source", "source_record_id", "person_id"], orient="row")


def _touchpoints(*rows: tuple[str, str, str, dt.datetime]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["source", "source_record_id", "customer_id", "occurred_at"], orient="row")


def test_a_person_is_judged_by_the_customer_holding_their_first_crm_contact():
    records = _records(
        ("crm_contacts", "crm-late", "p1"),
        ("crm_contacts", "crm-early", "p1"),
        ("web_events", "w1", "p1"),
        ("web_events", "w2", "p1"),
        ("web_events", "w3", "p1"),
    )
    touchpoints = _touchpoints(
        ("crm_contacts", "crm-late", "c-dup", _t(9)),
        ("crm_contacts", "crm-early", "c-crm", _t(2)),
        ("web_events", "w1", "c-web", _t(1)),
        ("web_events", "w2", "c-web", _t(1)),
        ("web_events", "w3", "c-web", _t(1)),
    )
    judged = judged_customers(records, touchpoints)
    assert judged.to_dicts() == [{"person_id": "p1", "customer_id": "c-crm", "by_crm_record": True}]


def test_without_a_crm_contact_most_records_decide_and_ties_go_to_the_smaller_id():
    records = _records(
        ("orders", "o1", "p1"), ("app_events", "a1", "p1"), ("app_events", "a2", "p1"),
        ("orders", "o2", "p2"), ("app_events", "a3", "p2"),
        ("orders", "o3", "p3"),  # quarantined: not among the touchpoints
    )  # fmt: skip
    touchpoints = _touchpoints(
        ("orders", "o1", "c-order", _t(1)),
        ("app_events", "a1", "c-app", _t(2)),
        ("app_events", "a2", "c-app", _t(3)),
        ("orders", "o2", "c-b", _t(1)),
        ("app_events", "a3", "c-a", _t(2)),
    )
    judged = {r["person_id"]: r["customer_id"] for r in judged_customers(records, touchpoints).to_dicts()}
    assert judged == {"p1": "c-app", "p2": "c-a"}


def test_accuracy_by_phase_and_by_stage_with_unobserved_people_left_out():
    people = pl.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4", "p5"],
            "journey_stage": ["adopting", "growing", "known_lead", "lapsed", "anonymous_visitor"],
        }
    )
    records = _records(
        ("crm_contacts", "r1", "p1"), ("crm_contacts", "r2", "p2"), ("crm_contacts", "r3", "p3"),
        ("crm_contacts", "r4", "p4"), ("web_events", "r5", "p5"),
    )  # fmt: skip
    touchpoints = _touchpoints(*[("crm_contacts", f"r{i}", f"c{i}", _t(i)) for i in range(1, 5)])
    predicted = pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            # p1 right stage; p2 wrong stage, wrong phase; p3 wrong stage, right phase; p4 right
            "sub_stage": ["adopting", "onboarding", "anonymous_visitor", "lapsed"],
        }
    )
    # the rules on the true people get p2 right
    true_grouping = pl.DataFrame(
        {"customer_id": ["p1", "p2", "p3", "p4"], "sub_stage": ["adopting", "growing", "anonymous_visitor", "lapsed"]}
    )
    accuracy = phase_accuracy(people, records, touchpoints, predicted, STAGE_PHASES, true_grouping=true_grouping)

    assert (accuracy.people, accuracy.people_unobserved, accuracy.people_judged_by_crm_record) == (5, 1, 4)
    assert accuracy.customers.people_evaluated == 4
    assert accuracy.customers.phase_accuracy == pytest.approx(3 / 4)
    assert accuracy.customers.stage_accuracy == pytest.approx(2 / 4)
    assert accuracy.true_grouping.phase_accuracy == pytest.approx(4 / 4)
    assert accuracy.true_grouping.stage_accuracy == pytest.approx(3 / 4)
    assert accuracy.identity_share_of_phase_errors == pytest.approx(1.0)
    assert accuracy.customers.stage_confusion["growing"] == {"onboarding": 1}
    assert accuracy.customers.by_true_stage["known_lead"] == {"people": 1, "stage_recall": 0.0, "phase_recall": 1.0}
    meta = accuracy.as_metadata()
    assert meta["lifecycle_phase_accuracy"] == pytest.approx(0.75)
    assert meta["lifecycle_phase_accuracy_true_grouping"] == pytest.approx(1.0)


def test_a_person_whose_customer_has_no_lifecycle_row_counts_as_wrong():
    people = pl.DataFrame({"person_id": ["p1"], "journey_stage": ["adopting"]})
    records = _records(("orders", "o1", "p1"))
    touchpoints = _touchpoints(("orders", "o1", "c1", _t(1)))
    accuracy = phase_accuracy(people, records, touchpoints, pl.DataFrame({"customer_id": [], "sub_stage": []}), STAGE_PHASES)
    assert accuracy.customers.phase_accuracy == 0.0
    assert accuracy.customers.stage_confusion == {"adopting": {"unobserved": 1}}
    assert accuracy.true_grouping is None and accuracy.identity_share_of_phase_errors is None


def test_a_true_stage_the_pipeline_does_not_know_is_an_error():
    people = pl.DataFrame({"person_id": ["p1"], "journey_stage": ["dormant"]})
    with pytest.raises(ValueError, match="dormant"):
        phase_accuracy(people, _records(), _touchpoints(), pl.DataFrame({"customer_id": [], "sub_stage": []}), STAGE_PHASES)


def test_without_ground_truth_the_asset_records_that_nothing_was_measured(isolated_env):
    """Real customer data has no truth: the asset says so instead of failing or guessing."""
    import dagster as dg
    from dagster_dbt import DbtCliResource

    from cx_pipeline.dbt_project import cx_dbt_project
    from cx_pipeline.defs.lifecycle import lifecycle_phase_accuracy
    from cx_pipeline.defs.resources import CxDataResource
    from cx_pipeline.paths import venv_executable

    dbt = DbtCliResource(project_dir=cx_dbt_project, dbt_executable=venv_executable("dbt"))
    result = dg.materialize(
        [lifecycle_phase_accuracy],
        resources={"cx_data": CxDataResource(root=str(isolated_env)), "dbt": dbt},
    )
    meta = result.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert meta["ground_truth"].value == "absent"
    assert not (isolated_env / "lifecycle").exists()
