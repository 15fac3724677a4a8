"""Match quality of identity resolution, measured against the sample generator's ground truth.

    match_quality(links, truth, accepted=None, only_sources=None) -> MatchQuality

Inputs, each a Polars DataFrame or LazyFrame:

- `truth`: `source, source_record_id, person_id`. One row per generated source record with the
  true person (`landing/_truth/identity_truth.parquet`, written only for sample data).
- `links`: `source, source_record_id, customer_id`. One row per record identity resolution linked.
  Records it did not link are absent (a null `customer_id` counts as absent).
- `accepted` (optional): `source, source_record_id` of the records that reached identity resolution,
  i.e. the rows ingestion accepted (`ingested/<source>/accepted.parquet`).

Which records are evaluated
---------------------------
With `accepted`: every truth record that ingestion accepted (truth ∩ accepted). Records the generator
made bad on purpose and ingestion quarantined are in the truth but never reached identity
resolution, so they are not counted against it. An accepted record missing from `links` was left
unlinked: it is its own singleton customer, so failing to link records lowers recall.

Without `accepted`: the truth records present in `links` (truth ∩ links). This only judges the
links that were made: records left unlinked are invisible, so recall is optimistic. Pass `accepted`
whenever ingestion output is at hand (`load_accepted`).

In both cases `only_sources` narrows the evaluated records to those sources, and link rows whose
record has no truth row are ignored (nothing to compare them with).

Pairwise scores
---------------
Two evaluated records form a true pair when they are the same person and a predicted pair when
they are in the same customer. Pairs are never materialised: with n_c records per cluster, n_p per
person and n_cp per (cluster, person) cell of the contingency table,

    true pairs = Σ_p C(n_p, 2)   predicted pairs = Σ_c C(n_c, 2)   true positives = Σ_cp C(n_cp, 2)

so the measurement is one join and a group-by over the records, then small group-bys over the
cells (Int64 counts: C(n, 2) fits for n up to ~4·10⁹). Precision is 1.0 when nothing was paired;
recall is 1.0 when no two records share a person. Identical duplicate rows are ignored; a record
with two person_ids or two customer_ids raises ValueError (only records being evaluated are checked).
DuckDB computes it, spilling past a memory limit rather than growing: about 5 s and 1 GB for
5.5 M records on 2 cores.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import polars as pl

from cx_pipeline.lib.sql import sql_literal
from cx_pipeline.paths import DataPaths

__all__ = [
    "ACCEPTED_FILE",
    "TRUTH_FILE",
    "MatchQuality",
    "load_accepted",
    "load_truth",
    "identified_records",
    "match_quality",
    "measure_against_truth",
    "measure_all_and_identified_against_truth",
    "measure_relations",
    "quality_markdown",
    "truth_file",
]

TRUTH_FILE = "identity_truth.parquet"
ACCEPTED_FILE = "accepted.parquet"
KEYS = ("source", "source_record_id")
SOURCES_PARAM = "only_sources"
MEMORY_LIMIT_ENV = "CX_MEASURE_MEMORY_LIMIT"
# what the measurements read from the working database
LINKS_TABLE = "warehouse.marts.customer_identity_links"
IDENTIFIERS_TABLE = "warehouse.staging.stg_cx__identifiers"
MATCH_ATTRIBUTES_TABLE = "warehouse.intermediate.int_identity__match_attributes"
METADATA_PREFIX = "match_"

Frame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class MatchQuality:
    records_evaluated: int  # records present in truth and in the evaluated set (see module docstring)
    true_people: int  # distinct person_id among evaluated records
    customers: int  # distinct clusters among evaluated records (unlinked records are singletons)
    true_pairs: int  # pairs of records that are the same person
    predicted_pairs: int  # pairs of records placed in the same cluster
    true_positive_pairs: int  # pairs that are both
    precision: float  # pairwise; 1.0 when predicted_pairs == 0
    recall: float  # pairwise; 1.0 when true_pairs == 0
    f1: float  # harmonic mean of precision and recall; 0.0 when both are 0
    consolidation_rate: float  # 1 - customers / records_evaluated; 0.0 when nothing was evaluated
    largest_cluster: int  # size of the largest predicted cluster
    largest_cluster_people: int  # distinct true people inside it (ties: the most mixed one)

    def as_metadata(self) -> dict[str, float | int]:
        """Flat `match_<field>` -> value, in field order. The keys are Dagster metadata keys:
        keep them stable so metadata plots line up across runs."""
        return {f"{METADATA_PREFIX}{name}": value for name, value in asdict(self).items()}


def _ratio(numerator: int, denominator: int, empty: float) -> float:
    return numerator / denominator if denominator else empty


def _frame(frame: Frame, name: str, columns: tuple[str, ...]) -> pl.DataFrame:
    """`frame` checked to have `columns`, keys as strings, collected (inputs of the frame API are small)."""
    if isinstance(frame, pl.DataFrame):
        frame = frame.lazy()
    elif not isinstance(frame, pl.LazyFrame):
        raise TypeError(f"{name} must be a Polars DataFrame or LazyFrame, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.collect_schema()]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; expected {list(columns)}")
    return frame.select(*(pl.col(k).cast(pl.String) for k in KEYS), *columns[len(KEYS) :]).collect()


def scratch_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for measuring: it spills past its memory limit instead of growing, so
    measuring millions of records costs about a gigabyte (CX_MEASURE_MEMORY_LIMIT to change it)."""
    return duckdb.connect(
        config={"memory_limit": os.environ.get(MEMORY_LIMIT_ENV, "1GB"), "preserve_insertion_order": False}
    )


def match_quality(
    links: Frame,
    truth: Frame,
    *,
    accepted: Frame | None = None,
    only_sources: list[str] | None = None,
) -> MatchQuality:
    """Pairwise precision/recall/F1 and cluster shape of `links` against `truth` (Polars frames).

    The evaluated records are truth ∩ accepted when `accepted` is given (accepted records missing
    from `links` are singletons), else truth ∩ links; `only_sources` narrows them further. Raises
    ValueError if an evaluated record has two person_ids in truth, two customer_ids in links, or
    a null person_id. The largest cluster's people count is the most mixed among equally large ones.
    """
    frames = {
        "links": _frame(links, "links", (*KEYS, "customer_id")),
        "truth": _frame(truth, "truth", (*KEYS, "person_id")),
    }
    if accepted is not None:
        frames["accepted"] = _frame(accepted, "accepted", KEYS)
    with scratch_connection() as con:
        for name, frame in frames.items():
            con.register(name, frame)
        return measure_relations(con, with_accepted=accepted is not None, only_sources=only_sources)


def measure_relations(
    con: duckdb.DuckDBPyConnection, *, with_accepted: bool, only_sources: list[str] | None = None
) -> MatchQuality:
    """`match_quality` over the relations `links`, `truth` and (with_accepted) `accepted` that `con`
    knows by those names, computed by DuckDB in bounded memory."""
    _evaluate(con, with_accepted=with_accepted, only_sources=only_sources)
    return _score(con, "evaluated")


def _evaluate(con: duckdb.DuckDBPyConnection, *, with_accepted: bool, only_sources: list[str] | None) -> None:
    """Temp table `evaluated` (source, source_record_id, person_id, customer_id): one row per
    evaluated record, checked to have one person and at most one customer."""
    source_filter = (
        "true" if only_sources is None else f"t.source in (select unnest(${SOURCES_PARAM}::varchar[]))"
    )
    evaluated_from = (
        "truth as t semi join accepted as a using (source, source_record_id) left join links_known as l "
        "using (source, source_record_id)"
        if with_accepted
        else "truth as t inner join links_known as l using (source, source_record_id)"
    )
    params = {} if only_sources is None else {SOURCES_PARAM: list(only_sources)}
    con.execute(
        f"""
        create or replace temp table evaluated as
        with links_known as (
            select source::varchar as source, source_record_id::varchar as source_record_id, customer_id
            from links where customer_id is not null
        )
        select t.source::varchar as source, t.source_record_id::varchar as source_record_id,
            t.person_id, l.customer_id
        from {evaluated_from}
        where {source_filter}""",
        params,
    )
    # Distinct key hashes prove distinct keys; only a repeated hash needs the exact (slower) look.
    rows, distinct_hashes = con.execute(
        "select count(*), count(distinct hash(source, source_record_id)) from evaluated"
    ).fetchone()
    if rows != distinct_hashes:
        # Identical duplicate rows are harmless: drop them; a record left with two rows then has
        # two person_ids or two customer_ids.
        con.execute("create or replace temp table evaluated as select distinct * from evaluated")
        conflicts = con.sql(
            "select source, source_record_id, person_id, customer_id from evaluated "
            "qualify count(*) over (partition by source, source_record_id) > 1 "
            "order by source, source_record_id, person_id, customer_id limit 2"
        ).pl()
        if conflicts.height:
            raise ValueError(
                "each evaluated record needs exactly one person_id in truth and at most one "
                f"customer_id in links; conflicting rows, e.g. {conflicts.to_dicts()}"
            )
    no_person = con.execute("select count(*) from evaluated where person_id is null").fetchone()[0]
    if no_person:
        raise ValueError(f"truth has {no_person} evaluated record(s) without a person_id")


def _score(con: duckdb.DuckDBPyConnection, evaluated: str) -> MatchQuality:
    """The scores over the records of the relation `evaluated` (made by _evaluate)."""
    # The (cluster, person) contingency table, unlinked records in a null-cluster cell per person.
    (n, unlinked, people, true_pairs, tp_pairs, clusters, predicted_pairs, largest, largest_people) = con.execute(
        f"""
        with cells as (select customer_id, person_id, count(*) as n from {evaluated} group by all),
        persons as (select person_id, sum(n) as n from cells group by all),
        clusters as (
            select customer_id, sum(n) as size, count(*) as people from cells
            where customer_id is not null group by all
        )
        select
            (select coalesce(sum(n), 0) from cells),
            (select coalesce(sum(n), 0) from cells where customer_id is null),
            (select count(*) from persons),
            (select coalesce(sum(n * (n - 1) // 2), 0) from persons),
            (select coalesce(sum(n * (n - 1) // 2), 0) from cells where customer_id is not null),
            (select count(*) from clusters),
            (select coalesce(sum(size * (size - 1) // 2), 0) from clusters),
            (select max(size) from clusters),
            (select max(people) from clusters where size = (select max(size) from clusters))
        """
    ).fetchone()
    n, unlinked, true_pairs, tp_pairs, predicted_pairs = map(int, (n, unlinked, true_pairs, tp_pairs, predicted_pairs))
    customers = int(clusters) + unlinked
    if largest is None:  # no linked records: every cluster (if any) is a singleton
        largest, largest_people = (1, 1) if unlinked else (0, 0)

    precision = _ratio(tp_pairs, predicted_pairs, 1.0)
    recall = _ratio(tp_pairs, true_pairs, 1.0)
    return MatchQuality(
        records_evaluated=n,
        true_people=int(people),
        customers=customers,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        true_positive_pairs=tp_pairs,
        precision=precision,
        recall=recall,
        f1=_ratio(2 * precision * recall, precision + recall, 0.0),
        consolidation_rate=1.0 - customers / n if n else 0.0,
        largest_cluster=int(largest),
        largest_cluster_people=int(largest_people),
    )


def truth_file(paths: DataPaths) -> Path:
    return paths.truth / TRUTH_FILE


def load_truth(paths: DataPaths) -> pl.LazyFrame | None:
    """The generator's identity truth (source, source_record_id, person_id), or None when the data
    folder has none: real customer data has no truth, and callers then skip measurement."""
    path = truth_file(paths)
    if not path.is_file():
        return None
    return pl.scan_parquet(path).select(*KEYS, "person_id")


def load_accepted(paths: DataPaths) -> pl.LazyFrame | None:
    """(source, source_record_id) of every record ingestion accepted, read from
    ingested/<source>/accepted.parquet; None when nothing has been ingested yet."""
    files = sorted(paths.ingested.glob(f"*/{ACCEPTED_FILE}"))
    if not files:
        return None
    return pl.concat(
        [pl.scan_parquet(f).select(pl.lit(f.parent.name, pl.String).alias("source"), "source_record_id") for f in files]
    )


def _accepted_sql(paths: DataPaths) -> str | None:
    files = sorted(paths.ingested.glob(f"*/{ACCEPTED_FILE}"))
    if not files:
        return None
    return " union all ".join(
        f"select {sql_literal(f.parent.name)} as source, source_record_id::varchar as source_record_id "
        f"from read_parquet({sql_literal(str(f))})"
        for f in files
    )


def _open_truth(paths: DataPaths, con: duckdb.DuckDBPyConnection) -> bool | None:
    """Views `truth` and (when ingestion output exists) `accepted` over this data folder's files,
    plus the working database attached as `warehouse`. None when there is no truth; else whether
    `accepted` exists."""
    if not truth_file(paths).is_file():
        return None
    con.execute(f"create view truth as select {', '.join(KEYS)}, person_id from read_parquet({sql_literal(str(truth_file(paths)))})")
    if paths.warehouse.is_file():
        con.execute(f"attach {sql_literal(str(paths.warehouse))} as warehouse (read_only)")
    accepted = _accepted_sql(paths)
    if accepted is not None:
        con.execute(f"create view accepted as {accepted}")
    return accepted is not None


def measure_against_truth(
    paths: DataPaths, links: Frame | None = None, *, only_sources: list[str] | None = None
) -> MatchQuality | None:
    """Match quality of `links` (default: marts.customer_identity_links in the working database)
    over the accepted records of this data folder, or None without truth. Falls back to
    truth ∩ links when no ingestion output exists."""
    with scratch_connection() as con:
        with_accepted = _open_truth(paths, con)
        if with_accepted is None:
            return None
        if links is None:
            con.execute(f"create view links as select {', '.join(KEYS)}, customer_id from {LINKS_TABLE}")
        else:
            con.register("links", _frame(links, "links", (*KEYS, "customer_id")))
        return measure_relations(con, with_accepted=with_accepted, only_sources=only_sources)


def measure_all_and_identified_against_truth(
    paths: DataPaths, anonymous_types: tuple[str, ...]
) -> tuple[MatchQuality, MatchQuality] | None:
    """Match quality of the working database's links over the accepted records (as
    measure_against_truth) and over those of them the data ties to a known person (see
    `identified_records`), or None without truth. One connection: the records and their links are
    joined once for both (at 1 M people 12.9 s -> 11.5 s)."""
    with scratch_connection() as con:
        with_accepted = _open_truth(paths, con)
        if with_accepted is None:
            return None
        con.execute(f"create view links as select {', '.join(KEYS)}, customer_id from {LINKS_TABLE}")
        _evaluate(con, with_accepted=with_accepted, only_sources=None)
        every_record = _score(con, "evaluated")
        con.execute(f"create view identifiers as select * from {IDENTIFIERS_TABLE}")
        con.execute(
            f"create view named as select distinct {', '.join(KEYS)} from {MATCH_ATTRIBUTES_TABLE} "
            "where match_attribute = 'full_name'"
        )
        _identify(con, anonymous_types, into="identified")
        # identified records carry identifiers or names, so they reached identity resolution:
        # all of them are among the evaluated ones
        con.execute(
            "create temp table evaluated_identified as "
            "select * from evaluated semi join identified using (source, source_record_id)"
        )
        return every_record, _score(con, "evaluated_identified")


def identified_records(
    identifiers: Frame, named: Frame, truth: Frame, anonymous_types: tuple[str, ...]
) -> pl.DataFrame:
    """The records the data ties to a known person: those carrying a personal identifier (any type
    not in `anonymous_types`) or a name, plus, within each true person, those sharing an anonymous
    identifier value (a cookie, a device, a login) with such a record, transitively.

    The rest (a cookie that never submitted a form, a device never logged in) are anonymous: no
    matcher can know whose they are, so recall over identified records measures the matcher and
    recall over all records the data as well. `identifiers`: source, source_record_id,
    identifier_type, identifier_value; `named`: source, source_record_id of records with a name.
    """
    with scratch_connection() as con:
        con.register("identifiers", _frame(identifiers, "identifiers", (*KEYS, "identifier_type", "identifier_value")))
        con.register("named", _frame(named, "named", KEYS))
        con.register("truth", _frame(truth, "truth", (*KEYS, "person_id")))
        _identify(con, anonymous_types, into="identified")
        return con.table("identified").pl()


def _identify(con: duckdb.DuckDBPyConnection, anonymous_types: tuple[str, ...], *, into: str) -> None:
    """Temp table `into` (source, source_record_id) from the relations identifiers, named and truth."""
    anonymous = {"anonymous": list(anonymous_types)}
    con.execute(
        f"""create temp table {into} as
        select distinct source, source_record_id from identifiers
        where not list_contains($anonymous::varchar[], identifier_type)
        union
        select source, source_record_id from named""",
        anonymous,
    )
    con.execute(
        """create temp table anonymous_ids as
        select i.source, i.source_record_id, t.person_id, i.identifier_type, i.identifier_value
        from identifiers as i
        inner join truth as t using (source, source_record_id)
        where list_contains($anonymous::varchar[], i.identifier_type)""",
        anonymous,
    )
    # Spread along shared anonymous values within a person until nothing new is reached; each round
    # starts from the records the previous one reached (the first from all), not from all again.
    con.execute(f"create temp table frontier as select source, source_record_id from {into}")
    while True:
        con.execute(
            f"""create or replace temp table frontier as
            with reached_values as (
                select distinct person_id, identifier_type, identifier_value
                from anonymous_ids semi join frontier using (source, source_record_id)
            )
            select distinct a.source, a.source_record_id
            from anonymous_ids as a
            semi join reached_values using (person_id, identifier_type, identifier_value)
            anti join {into} using (source, source_record_id)"""
        )
        (added,) = con.execute(f"insert into {into} select * from frontier").fetchone()
        if not added:
            con.execute("drop table frontier")
            return


def quality_markdown(q: MatchQuality) -> str:
    """A markdown table of the measurement, for the Dagster UI."""
    rows = [
        ("Precision (pairwise)", f"{q.precision:.4f}"),
        ("Recall (pairwise)", f"{q.recall:.4f}"),
        ("F1", f"{q.f1:.4f}"),
        ("Records evaluated", f"{q.records_evaluated:,}"),
        ("True people", f"{q.true_people:,}"),
        ("Customers (unlinked = singletons)", f"{q.customers:,}"),
        ("Consolidation rate", f"{q.consolidation_rate:.2%}"),
        ("True pairs", f"{q.true_pairs:,}"),
        ("Predicted pairs", f"{q.predicted_pairs:,}"),
        ("True positive pairs", f"{q.true_positive_pairs:,}"),
        ("Largest customer (records)", f"{q.largest_cluster:,}"),
        ("People in largest customer", f"{q.largest_cluster_people:,}"),
    ]
    return "\n".join(["| Measure | Value |", "| --- | ---: |", *(f"| {k} | {v} |" for k, v in rows)])
