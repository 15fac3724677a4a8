"""Lifecycle phase accuracy against the sample generator's ground truth.

    phase_accuracy(people, records, touchpoints, predicted, stage_phases, true_grouping=None)
        -> PhaseAccuracy

The truth (`landing/_truth/people.parquet`) gives each person's journey_stage; the sub-stages and
their phases are the pipeline's own (dim_lifecycle_stages), so truth and prediction are mapped to
phases the same way.

Who is judged, and by which customer
------------------------------------
Every true person with at least one accepted record (in fct_touchpoints) is judged; people whose
every record was quarantined or who left no record at all are counted as unobserved and left out
(no pipeline can see them). Identity resolution may spread a person over several customers; the
person is judged by one of them:

1. the customer holding the person's earliest CRM contact (sales' system of record), else
2. the customer holding most of the person's records (ties: the smallest customer_id).

Two groupings
-------------
- customers: the pipeline as it runs, grouped by customer_id (identity errors included);
- true people (`true_grouping`, optional): the same phase rules run on the same records grouped
  by the true person (see defs/lifecycle.py). It isolates the phase rules from identity errors:
  the gap between the two accuracies is what identity resolution costs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

CRM_SOURCE = "crm_contacts"
KEYS = ("source", "source_record_id")
METADATA_PREFIX = "lifecycle_"


@dataclass(frozen=True)
class GroupingAccuracy:
    people_evaluated: int
    phase_accuracy: float  # share of judged people whose predicted phase is their true phase
    stage_accuracy: float  # same for the sub-stage
    # true sub-stage -> predicted sub-stage -> people; `unobserved` when the grouping has no row
    stage_confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    # true sub-stage -> {people, stage_recall, phase_recall}
    by_true_stage: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class PhaseAccuracy:
    people: int  # people in the truth
    people_unobserved: int  # people without a single accepted record: not judged
    people_judged_by_crm_record: int  # judged by the customer holding their CRM contact
    customers: GroupingAccuracy
    true_grouping: GroupingAccuracy | None  # None when not measured

    @property
    def identity_share_of_phase_errors(self) -> float | None:
        """Share of the phase errors that identity resolution causes: 1 - errors(true people) /
        errors(customers); None without the true-grouping measurement or without errors."""
        if self.true_grouping is None or self.customers.phase_accuracy == 1.0:
            return None
        return 1.0 - (1.0 - self.true_grouping.phase_accuracy) / (1.0 - self.customers.phase_accuracy)

    def as_dict(self) -> dict:
        return {**asdict(self), "identity_share_of_phase_errors": self.identity_share_of_phase_errors}

    def as_metadata(self) -> dict[str, float | int]:
        """Flat headline figures for Dagster metadata (stable keys, so plots line up across runs)."""
        figures = {
            "people": self.people,
            "people_evaluated": self.customers.people_evaluated,
            "people_unobserved": self.people_unobserved,
            "phase_accuracy": self.customers.phase_accuracy,
            "stage_accuracy": self.customers.stage_accuracy,
        }
        if self.true_grouping is not None:
            figures["phase_accuracy_true_grouping"] = self.true_grouping.phase_accuracy
            figures["stage_accuracy_true_grouping"] = self.true_grouping.stage_accuracy
        share = self.identity_share_of_phase_errors
        if share is not None:
            figures["identity_share_of_phase_errors"] = share
        return {f"{METADATA_PREFIX}{name}": value for name, value in figures.items()}


def judged_customers(records: pl.DataFrame, touchpoints: pl.DataFrame) -> pl.DataFrame:
    """person_id -> the customer_id that judges them, and whether it holds their CRM contact.

    records: source, source_record_id, person_id (the identity truth);
    touchpoints: source, source_record_id, customer_id, occurred_at (accepted records only)."""
    held = records.join(touchpoints, on=list(KEYS), how="inner")
    by_crm = (
        held.filter(pl.col("source") == CRM_SOURCE)
        .sort("person_id", "occurred_at", "source_record_id")
        .group_by("person_id", maintain_order=True)
        .agg(crm_customer=pl.col("customer_id").first())
    )
    by_count = (
        held.group_by("person_id", "customer_id")
        .agg(n=pl.len())
        .sort("person_id", "n", "customer_id", descending=[False, True, False])
        .group_by("person_id", maintain_order=True)
        .agg(most_customer=pl.col("customer_id").first())
    )
    return by_count.join(by_crm, on="person_id", how="left").select(
        "person_id",
        customer_id=pl.coalesce("crm_customer", "most_customer"),
        by_crm_record=pl.col("crm_customer").is_not_null(),
    )


def _grouping_accuracy(judged: pl.DataFrame, predicted: pl.DataFrame, phases: dict[str, str]) -> GroupingAccuracy:
    """judged: person_id, true_stage, group_id; predicted: group_id, sub_stage."""
    predicted = predicted.select(pl.col("group_id", "sub_stage").cast(pl.String))
    rows = judged.join(predicted, on="group_id", how="left").with_columns(
        pl.col("sub_stage").fill_null("unobserved"),
        true_phase=pl.col("true_stage").replace_strict(phases, default=None),
        phase=pl.col("sub_stage").replace_strict(phases, default=None),
    )
    n = rows.height
    stage_ok = pl.col("true_stage") == pl.col("sub_stage")
    phase_ok = (pl.col("true_phase") == pl.col("phase")).fill_null(False)
    totals = rows.select(stage=stage_ok.sum(), phase=phase_ok.sum())
    confusion: dict[str, dict[str, int]] = {}
    for true_stage, sub_stage, count in rows.group_by("true_stage", "sub_stage").len().sort("true_stage", "sub_stage").iter_rows():
        confusion.setdefault(true_stage, {})[sub_stage] = count
    by_stage = {
        stage: {"people": people, "stage_recall": stage_hits / people, "phase_recall": phase_hits / people}
        for stage, people, stage_hits, phase_hits in rows.group_by("true_stage")
        .agg(pl.len(), stage_ok.sum().alias("stage_hits"), phase_ok.sum().alias("phase_hits"))
        .sort("true_stage")
        .iter_rows()
    }
    return GroupingAccuracy(
        people_evaluated=n,
        phase_accuracy=totals["phase"][0] / n if n else 1.0,
        stage_accuracy=totals["stage"][0] / n if n else 1.0,
        stage_confusion=confusion,
        by_true_stage=by_stage,
    )


def phase_accuracy(
    people: pl.DataFrame,
    records: pl.DataFrame,
    touchpoints: pl.DataFrame,
    predicted: pl.DataFrame,
    stage_phases: pl.DataFrame,
    true_grouping: pl.DataFrame | None = None,
) -> PhaseAccuracy:
    """Phase and sub-stage accuracy of `predicted` against the truth.

    people: person_id, journey_stage; records: source, source_record_id, person_id;
    touchpoints: source, source_record_id, customer_id, occurred_at; predicted: customer_id,
    sub_stage; stage_phases: sub_stage, phase; true_grouping (optional): the sub_stage per
    person_id from the phase rules run on records grouped by true person (customer_id = person_id).
    """
    phases = dict(stage_phases.select("sub_stage", "phase").iter_rows())
    unknown = set(people["journey_stage"].unique()) - set(phases)
    if unknown:
        raise ValueError(f"true journey stages {sorted(unknown)} are not lifecycle sub-stages {sorted(phases)}")
    records = records.with_columns(pl.col(*KEYS, "person_id").cast(pl.String))
    touchpoints = touchpoints.with_columns(pl.col(*KEYS, "customer_id").cast(pl.String))
    judges = judged_customers(records, touchpoints)
    judged = people.select("person_id", true_stage="journey_stage").join(judges, on="person_id", how="inner")
    by_customer = _grouping_accuracy(
        judged.rename({"customer_id": "group_id"}),
        predicted.select(group_id="customer_id", sub_stage="sub_stage"),
        phases,
    )
    by_person = None
    if true_grouping is not None:
        by_person = _grouping_accuracy(
            judged.with_columns(group_id="person_id"),
            true_grouping.select(group_id="customer_id", sub_stage="sub_stage"),
            phases,
        )
    return PhaseAccuracy(
        people=people.height,
        people_unobserved=people.height - judged.height,
        people_judged_by_crm_record=int(judged["by_crm_record"].sum()),
        customers=by_customer,
        true_grouping=by_person,
    )


def accuracy_markdown(accuracy: PhaseAccuracy) -> str:
    """Headline figures and per-stage recall as a markdown table, for the Dagster UI."""
    groupings = [("customers", accuracy.customers)]
    if accuracy.true_grouping is not None:
        groupings.append(("true people", accuracy.true_grouping))
    lines = ["| grouping | people | phase accuracy | stage accuracy |", "| --- | ---: | ---: | ---: |"]
    lines += [
        f"| {name} | {g.people_evaluated:,} | {g.phase_accuracy:.4f} | {g.stage_accuracy:.4f} |" for name, g in groupings
    ]
    lines += ["", "| true stage | people | " + " | ".join(f"phase recall ({n})" for n, _ in groupings) + " |"]
    lines.append("| --- | ---: |" + " ---: |" * len(groupings))
    for stage, figures in accuracy.customers.by_true_stage.items():
        recalls = " | ".join(f"{g.by_true_stage.get(stage, {}).get('phase_recall', 0.0):.3f}" for _, g in groupings)
        lines.append(f"| {stage} | {int(figures['people']):,} | {recalls} |")
    lines.append("")
    lines.append(f"Unobserved people (no accepted record, not judged): {accuracy.people_unobserved:,}")
    return "\n".join(lines)
