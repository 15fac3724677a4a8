"""Match quality against ground truth: hand-computed cases and a brute-force pair cross-check."""

from __future__ import annotations

import random
from dataclasses import fields
from itertools import combinations
from math import comb

import polars as pl
import pytest

from cx_pipeline.identity.quality import (
    MatchQuality,
    load_accepted,
    load_truth,
    match_quality,
    measure_against_truth,
    quality_markdown,
)
from cx_pipeline.paths import DataPaths


def truth_frame(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    """(source, source_record_id, person_id) rows."""
    return pl.DataFrame(rows, schema=["source", "source_record_id", "person_id"], orient="row")


def links_frame(rows: list[tuple[str, str, str | None]]) -> pl.DataFrame:
    """(source, source_record_id, customer_id) rows."""
    return pl.DataFrame(
        rows, schema={"source": pl.String, "source_record_id": pl.String, "customer_id": pl.String}, orient="row"
    )


def accepted_frame(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"source": pl.String, "source_record_id": pl.String}, orient="row")


def people(**members: list[str]) -> pl.DataFrame:
    """people(A=["a1", "a2"]) -> truth rows in source "crm" with person_id A."""
    return truth_frame([("crm", rid, person) for person, rids in members.items() for rid in rids])


def clusters(**members: list[str]) -> pl.DataFrame:
    return links_frame([("crm", rid, cluster) for cluster, rids in members.items() for rid in rids])


# --- hand-computed cases -------------------------------------------------------------------------


def test_perfect_clustering_scores_one():
    truth = people(A=["a1", "a2", "a3"], B=["b1", "b2"], C=["c1"])
    links = clusters(X=["a1", "a2", "a3"], Y=["b1", "b2"], Z=["c1"])

    q = match_quality(links, truth)

    assert q == MatchQuality(
        records_evaluated=6,
        true_people=3,
        customers=3,
        true_pairs=4,  # C(3,2) + C(2,2)
        predicted_pairs=4,
        true_positive_pairs=4,
        precision=1.0,
        recall=1.0,
        f1=1.0,
        consolidation_rate=0.5,  # 1 - 3/6
        largest_cluster=3,
        largest_cluster_people=1,
    )


def test_over_merge_of_two_people_lowers_precision():
    truth = people(A=["a1", "a2", "a3"], B=["b1", "b2"], C=["c1"])
    links = clusters(X=["a1", "a2", "a3", "b1", "b2"], Z=["c1"])

    q = match_quality(links, truth)

    # X holds C(5,2) = 10 pairs, of which only A's C(3,2) = 3 and B's C(2,2) = 1 are true.
    assert (q.predicted_pairs, q.true_positive_pairs, q.true_pairs) == (10, 4, 4)
    assert q.precision == pytest.approx(0.4)
    assert q.recall == 1.0
    assert q.f1 == pytest.approx(2 * 0.4 * 1.0 / 1.4)
    assert q.customers == 2
    assert q.consolidation_rate == pytest.approx(1 - 2 / 6)
    assert (q.largest_cluster, q.largest_cluster_people) == (5, 2)


def test_split_person_lowers_recall():
    truth = people(A=["a1", "a2", "a3", "a4"], B=["b1", "b2"])
    links = clusters(X=["a1", "a2", "a3"], Y=["a4"], Z=["b1", "b2"])

    q = match_quality(links, truth)

    # true: C(4,2) + C(2,2) = 7; found: C(3,2) + C(2,2) = 4, all correct.
    assert (q.true_pairs, q.predicted_pairs, q.true_positive_pairs) == (7, 4, 4)
    assert q.precision == 1.0
    assert q.recall == pytest.approx(4 / 7)
    assert q.f1 == pytest.approx(2 * (4 / 7) / (1 + 4 / 7))
    assert (q.true_people, q.customers) == (2, 3)
    assert (q.largest_cluster, q.largest_cluster_people) == (3, 1)


def test_accepted_records_missing_from_links_are_singletons():
    truth = people(A=["a1", "a2", "a3"], B=["b1"])
    links = clusters(X=["a1", "a2"])  # a3 and b1 were not linked
    accepted = accepted_frame([("crm", "a1"), ("crm", "a2"), ("crm", "a3"), ("crm", "b1")])

    q = match_quality(links, truth, accepted=accepted)

    assert q.records_evaluated == 4
    assert q.customers == 3  # X, {a3}, {b1}
    assert (q.true_pairs, q.predicted_pairs, q.true_positive_pairs) == (3, 1, 1)
    assert q.precision == 1.0
    assert q.recall == pytest.approx(1 / 3)
    assert q.consolidation_rate == pytest.approx(1 - 3 / 4)
    assert (q.largest_cluster, q.largest_cluster_people) == (2, 1)

    # Without `accepted` only linked records are judged, so the missed link is invisible.
    linked_only = match_quality(links, truth)
    assert (linked_only.records_evaluated, linked_only.recall, linked_only.customers) == (2, 1.0, 1)


def test_quarantined_records_are_not_evaluated():
    truth = people(A=["a1", "a2", "a3"], B=["b1", "b2"])
    links = clusters(X=["a1", "a2"], Y=["b1", "b2"])
    # a3 is in the truth but ingestion quarantined it; "zz" was accepted but has no truth row.
    accepted = accepted_frame([("crm", "a1"), ("crm", "a2"), ("crm", "b1"), ("crm", "b2"), ("crm", "zz")])

    q = match_quality(links, truth, accepted=accepted)

    assert (q.records_evaluated, q.true_people, q.customers) == (4, 2, 2)
    assert (q.true_pairs, q.true_positive_pairs) == (2, 2)
    assert (q.precision, q.recall, q.f1) == (1.0, 1.0, 1.0)

    # Had a3 been accepted, leaving it unlinked would cost recall: the exclusion is what we measure.
    all_accepted = pl.concat([accepted, accepted_frame([("crm", "a3")])])
    assert match_quality(links, truth, accepted=all_accepted).recall == pytest.approx(2 / 4)


def test_only_sources_narrows_the_evaluated_records():
    truth = truth_frame([("crm", "a1", "A"), ("crm", "a2", "A"), ("web", "a3", "A"), ("web", "b1", "B")])
    links = links_frame([("crm", "a1", "X"), ("crm", "a2", "X"), ("web", "a3", "Y"), ("web", "b1", "Y")])

    everything = match_quality(links, truth)
    assert (everything.true_pairs, everything.predicted_pairs, everything.true_positive_pairs) == (3, 2, 1)
    assert everything.precision == pytest.approx(1 / 2)
    assert everything.recall == pytest.approx(1 / 3)

    crm = match_quality(links, truth, only_sources=["crm"])
    assert (crm.records_evaluated, crm.precision, crm.recall) == (2, 1.0, 1.0)

    web = match_quality(links, truth, only_sources=["web"])
    # a3 and b1 were merged, no true pair among web records: precision 0, recall vacuously 1.
    assert (web.records_evaluated, web.true_pairs, web.predicted_pairs) == (2, 0, 1)
    assert (web.precision, web.recall, web.f1) == (0.0, 1.0, 0.0)
    assert (web.largest_cluster, web.largest_cluster_people) == (2, 2)

    both = match_quality(links, truth, only_sources=["crm", "web"])
    assert both == everything
    assert match_quality(links, truth, only_sources=[]).records_evaluated == 0


def test_source_names_keep_records_apart():
    # The same source_record_id in two sources is two records.
    truth = truth_frame([("crm", "1", "A"), ("web", "1", "B")])
    links = links_frame([("crm", "1", "X"), ("web", "1", "Y")])
    q = match_quality(links, truth)
    assert (q.records_evaluated, q.customers, q.predicted_pairs, q.precision) == (2, 2, 0, 1.0)


def test_empty_inputs_do_not_divide_by_zero():
    empty_truth = truth_frame([])
    empty_links = links_frame([])

    q = match_quality(empty_links, empty_truth, accepted=accepted_frame([]))
    assert q == MatchQuality(0, 0, 0, 0, 0, 0, 1.0, 1.0, 1.0, 0.0, 0, 0)
    assert match_quality(empty_links, empty_truth) == q

    # Truth but no links at all: every accepted record is a singleton customer.
    truth = people(A=["a1", "a2"], B=["b1"])
    accepted = accepted_frame([("crm", "a1"), ("crm", "a2"), ("crm", "b1")])
    alone = match_quality(empty_links, truth, accepted=accepted)
    assert (alone.records_evaluated, alone.customers, alone.predicted_pairs) == (3, 3, 0)
    assert (alone.precision, alone.recall, alone.f1) == (1.0, 0.0, 0.0)
    assert alone.consolidation_rate == 0.0
    assert (alone.largest_cluster, alone.largest_cluster_people) == (1, 1)

    # ... and without `accepted`, nothing is evaluated.
    assert match_quality(empty_links, truth).records_evaluated == 0


def test_lazy_and_eager_inputs_agree():
    truth = people(A=["a1", "a2", "a3"], B=["b1", "b2"], C=["c1"])
    links = clusters(X=["a1", "a2", "b1"], Y=["a3"])
    accepted = accepted_frame([("crm", r) for r in ["a1", "a2", "a3", "b1", "b2"]])

    eager = match_quality(links, truth, accepted=accepted)
    assert eager.records_evaluated == 5
    assert match_quality(links.lazy(), truth.lazy(), accepted=accepted.lazy()) == eager
    assert match_quality(links.lazy(), truth, accepted=accepted) == eager
    assert match_quality(links, truth.lazy(), accepted=accepted.lazy()) == eager


def test_null_customer_id_counts_as_unlinked():
    truth = people(A=["a1", "a2"])
    accepted = accepted_frame([("crm", "a1"), ("crm", "a2")])
    with_null = links_frame([("crm", "a1", "X"), ("crm", "a2", None)])
    without = links_frame([("crm", "a1", "X")])
    q = match_quality(with_null, truth, accepted=accepted)
    assert q == match_quality(without, truth, accepted=accepted)
    assert (q.customers, q.recall) == (2, 0.0)


def test_identical_duplicate_rows_are_tolerated_conflicts_are_not():
    truth = people(A=["a1", "a2"])
    links = clusters(X=["a1", "a2"])
    doubled = match_quality(pl.concat([links, links]), pl.concat([truth, truth]))
    assert doubled == match_quality(links, truth)
    assert doubled.records_evaluated == 2

    two_customers = pl.concat([links, clusters(Y=["a1"])])
    with pytest.raises(ValueError, match="at most one customer_id"):
        match_quality(two_customers, truth)
    two_people = pl.concat([truth, people(B=["a1"])])
    with pytest.raises(ValueError, match="exactly one person_id"):
        match_quality(links, two_people)
    # A conflicting link on a record outside the evaluated set does not matter.
    stray = pl.concat([links, links_frame([("crm", "q9", "X"), ("crm", "q9", "Y")])])
    assert match_quality(stray, truth) == match_quality(links, truth)


def test_bad_inputs_are_rejected():
    truth = people(A=["a1"])
    with pytest.raises(ValueError, match="customer_id"):
        match_quality(truth, truth)
    with pytest.raises(TypeError):
        match_quality(truth.to_dicts(), truth)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="without a person_id"):
        match_quality(clusters(X=["a1"]), truth_frame([("crm", "a1", None)]))


def test_pair_counts_exceed_32_bits_without_overflow():
    n = 100_000  # C(n, 2) = 4_999_950_000 > 2**32
    rids = pl.Series(range(n)).cast(pl.String)
    truth = pl.DataFrame({"source": "crm", "source_record_id": rids, "person_id": "A"})
    links = pl.DataFrame({"source": "crm", "source_record_id": rids, "customer_id": "X"})
    q = match_quality(links, truth)
    assert q.true_pairs == q.predicted_pairs == q.true_positive_pairs == comb(n, 2) == 4_999_950_000
    assert (q.largest_cluster, q.customers, q.precision, q.recall) == (n, 1, 1.0, 1.0)


# --- randomized cross-check ----------------------------------------------------------------------


def brute_force(
    truth: list[tuple[str, str, str]],
    links: dict[tuple[str, str], str],
    accepted: set[tuple[str, str]],
) -> MatchQuality:
    """Enumerate every pair of evaluated records (truth ∩ accepted, unlinked = own cluster)."""
    records = [((s, r), p) for s, r, p in truth if (s, r) in accepted]
    cluster = {key: links.get(key, ("singleton", key)) for key, _ in records}
    true_pairs = predicted = tp = 0
    for (k1, p1), (k2, p2) in combinations(records, 2):
        same_person, same_cluster = p1 == p2, cluster[k1] == cluster[k2]
        true_pairs += same_person
        predicted += same_cluster
        tp += same_person and same_cluster
    members: dict[object, list[str]] = {}
    for key, person in records:
        members.setdefault(cluster[key], []).append(person)
    largest = max(members.values(), key=lambda m: (len(m), len(set(m))), default=[])
    n, customers = len(records), len(members)
    precision = tp / predicted if predicted else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    return MatchQuality(
        records_evaluated=n,
        true_people=len({p for _, p in records}),
        customers=customers,
        true_pairs=true_pairs,
        predicted_pairs=predicted,
        true_positive_pairs=tp,
        precision=precision,
        recall=recall,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        consolidation_rate=1 - customers / n if n else 0.0,
        largest_cluster=len(largest),
        largest_cluster_people=len(set(largest)),
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_matches_brute_force_pair_enumeration(seed: int):
    rng = random.Random(seed)
    n_records, n_people, n_clusters = rng.randint(200, 400), rng.randint(20, 120), rng.randint(20, 150)
    sources = ["crm", "web", "orders"]
    truth = [(rng.choice(sources), f"r{i}", f"P{rng.randrange(n_people)}") for i in range(n_records)]
    # Links mostly follow the person (with noise), some records stay unlinked, some links point at
    # records that have no truth row; a few records were quarantined (not accepted).
    links: dict[tuple[str, str], str] = {}
    for source, rid, person in truth:
        roll = rng.random()
        if roll < 0.15:
            continue
        links[(source, rid)] = f"C{rng.randrange(n_clusters)}" if roll < 0.35 else f"C-{person}"
    links[("crm", "no-truth")] = "C0"
    accepted = {(s, r) for s, r, _ in truth if rng.random() > 0.1} | {("web", "no-truth")}

    expected = brute_force(truth, links, accepted)
    got = match_quality(
        links_frame([(*key, customer) for key, customer in links.items()]),
        truth_frame(truth),
        accepted=accepted_frame(sorted(accepted)),
    )
    assert got == expected
    assert expected.true_positive_pairs > 0 and expected.customers < expected.records_evaluated

    only_web = match_quality(
        links_frame([(*key, customer) for key, customer in links.items()]).lazy(),
        truth_frame(truth).lazy(),
        accepted=accepted_frame(sorted(accepted)).lazy(),
        only_sources=["web"],
    )
    web_truth = [row for row in truth if row[0] == "web"]
    assert only_web == brute_force(web_truth, links, accepted)


# --- truth files, metadata and markdown ----------------------------------------------------------


def test_load_truth_is_none_without_truth(tmp_path):
    paths = DataPaths(tmp_path)
    assert load_truth(paths) is None
    assert load_accepted(paths) is None
    assert measure_against_truth(paths, clusters(X=["a1"])) is None


def test_measure_against_truth_reads_the_data_folder(tmp_path):
    paths = DataPaths(tmp_path)
    paths.truth.mkdir(parents=True)
    truth_frame([("crm", "a1", "A"), ("crm", "a2", "A"), ("web", "w1", "A"), ("web", "w2", "B")]).write_parquet(
        paths.truth / "identity_truth.parquet"
    )
    truth = load_truth(paths)
    assert truth is not None and truth.collect().height == 4

    links = links_frame([("crm", "a1", "X"), ("crm", "a2", "X")])
    # Before ingestion output exists: judged over the linked records only.
    assert measure_against_truth(paths, links).records_evaluated == 2

    # Ingestion accepted a1, a2 (crm) and w1 (web); w2 was quarantined.
    for source, rids in {"crm": ["a1", "a2"], "web": ["w1"]}.items():
        paths.ingested_dir(source).mkdir(parents=True)
        pl.DataFrame({"source_record_id": rids, "email": "x@example.com"}).write_parquet(
            paths.ingested_dir(source) / "accepted.parquet"
        )
    accepted = load_accepted(paths)
    assert accepted is not None
    assert sorted(accepted.collect().rows()) == [("crm", "a1"), ("crm", "a2"), ("web", "w1")]

    q = measure_against_truth(paths, links)
    assert q is not None
    assert (q.records_evaluated, q.true_pairs, q.true_positive_pairs, q.customers) == (3, 3, 1, 2)
    assert q.recall == pytest.approx(1 / 3)
    assert measure_against_truth(paths, links, only_sources=["crm"]).recall == 1.0


def test_metadata_is_flat_and_named_after_the_fields():
    q = match_quality(clusters(X=["a1", "a2", "b1"]), people(A=["a1", "a2"], B=["b1"]))
    meta = q.as_metadata()
    assert list(meta) == [f"match_{f.name}" for f in fields(MatchQuality)]
    assert meta["match_precision"] == pytest.approx(1 / 3)
    assert meta["match_largest_cluster_people"] == 2
    assert all(isinstance(v, (int, float)) for v in meta.values())


def test_quality_markdown_renders_a_table():
    q = match_quality(clusters(X=["a1", "a2", "b1"]), people(A=["a1", "a2"], B=["b1"]))
    text = quality_markdown(q)
    lines = text.splitlines()
    assert lines[:2] == ["| Measure | Value |", "| --- | ---: |"]
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines)
    assert "| Precision (pairwise) | 0.3333 |" in lines
    assert "| Recall (pairwise) | 1.0000 |" in lines
    assert "| People in largest customer | 2 |" in lines
    assert "| Consolidation rate | 66.67% |" in lines


def test_identified_records_follow_anonymous_ids_from_a_named_record_within_the_person():
    import polars as pl

    from cx_pipeline.identity.quality import identified_records

    def ids(rows):
        return pl.DataFrame(rows, schema=["source", "source_record_id", "identifier_type", "identifier_value"], orient="row")

    identifiers = ids(
        [
            ("web", "1", "cookie_id", "ck-a"),  # the form submit: cookie and email
            ("web", "1", "email", "hana@x.jp"),
            ("web", "2", "cookie_id", "ck-a"),  # a page view on that browser: identified
            ("app", "3", "device_id", "dev-1"),  # login on a device: device and login
            ("app", "3", "app_login", "hana.y"),
            ("usage", "4", "app_login", "hana.y"),  # usage by that login: identified through the chain
            ("web", "5", "cookie_id", "ck-b"),  # a browser that never submitted anything: anonymous
            ("web", "6", "cookie_id", "ck-a"),  # same cookie value, but another person's record
        ]
    )
    named = pl.DataFrame({"source": ["crm"], "source_record_id": ["7"]})
    truth = pl.DataFrame(
        {
            "source": ["web", "web", "app", "usage", "web", "web", "crm"],
            "source_record_id": ["1", "2", "3", "4", "5", "6", "7"],
            "person_id": ["P1", "P1", "P1", "P1", "P1", "P2", "P2"],
        }
    )
    # the app login record is identified only if something names its person: give it the email too
    identifiers = pl.concat([identifiers, ids([("app", "3", "email", "hana@x.jp")])])
    found = identified_records(identifiers, named, truth, ("cookie_id", "device_id", "app_login"))
    assert set(found.rows()) == {("web", "1"), ("web", "2"), ("app", "3"), ("usage", "4"), ("crm", "7")}


def test_both_measures_of_the_working_database_agree_with_the_frame_api(tmp_path):
    """measure_all_and_identified_against_truth reads the links, identifiers and names from a real
    working database and shares one join: its two measures equal those of the frame functions."""
    import duckdb

    from cx_pipeline.identity.quality import identified_records, measure_all_and_identified_against_truth

    anonymous = ("cookie_id",)
    paths = DataPaths(tmp_path)
    paths.truth.mkdir(parents=True)
    truth = truth_frame(
        [("crm", "c1", "P1"), ("web", "w1", "P1"), ("web", "w2", "P1"), ("web", "w3", "P2"),
         ("crm", "c2", "P2"), ("web", "w4", "P3"), ("web", "w5", "P1")]
    )  # fmt: skip
    truth.write_parquet(paths.truth / "identity_truth.parquet")
    accepted = {"crm": ["c1", "c2"], "web": ["w1", "w2", "w3", "w4"]}  # w5 was quarantined
    for source, rids in accepted.items():
        paths.ingested_dir(source).mkdir(parents=True)
        pl.DataFrame({"source_record_id": rids}).write_parquet(paths.ingested_dir(source) / "accepted.parquet")
    links = links_frame([("crm", "c1", "X"), ("web", "w1", "X"), ("web", "w3", "X"), ("crm", "c2", "Y")])
    identifiers = pl.DataFrame(
        [("web", "w1", "email", "a@x.jp"), ("web", "w1", "cookie_id", "k1"), ("web", "w2", "cookie_id", "k1"),
         ("web", "w3", "cookie_id", "k2"), ("web", "w4", "cookie_id", "k3")],
        schema=["source", "source_record_id", "identifier_type", "identifier_value"], orient="row",
    )  # fmt: skip
    named = accepted_frame([("crm", "c1"), ("crm", "c2")])
    paths.warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(paths.warehouse)) as con:
        for schema, table, frame in [
            ("marts", "customer_identity_links", links),
            ("staging", "stg_cx__identifiers", identifiers),
            ("intermediate", "int_identity__match_attributes", named.with_columns(match_attribute=pl.lit("full_name"))),
        ]:
            con.execute(f"create schema if not exists {schema}")
            con.register("frame", frame)
            con.execute(f"create table {schema}.{table} as select * from frame")
            con.unregister("frame")

    every_record, identified = measure_all_and_identified_against_truth(paths, anonymous)

    assert every_record == measure_against_truth(paths)
    assert every_record.records_evaluated == 6  # the quarantined w5 is not judged
    who = identified_records(identifiers, named, truth, anonymous)
    # w2 shares w1's cookie within P1; w3 and w4 carry only cookies nobody named
    assert sorted(who.rows()) == [("crm", "c1"), ("crm", "c2"), ("web", "w1"), ("web", "w2")]
    assert identified == match_quality(links, truth, accepted=who)
    # P1: c1, w1 and w2 are 3 true pairs; only c1-w1 share a customer
    assert identified.records_evaluated == 4 and identified.recall == pytest.approx(1 / 3)
