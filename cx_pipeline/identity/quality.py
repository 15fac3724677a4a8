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
About 5 s for 5 M records on 2 cores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from cx_pipeline.paths import DataPaths

__all__ = [
    "ACCEPTED_FILE",
    "TRUTH_FILE",
    "MatchQuality",
    "load_accepted",
    "load_truth",
    "match_quality",
    "measure_against_truth",
    "quality_markdown",
    "truth_file",
]

TRUTH_FILE = "identity_truth.parquet"
ACCEPTED_FILE = "accepted.parquet"
KEYS = ("source", "source_record_id")
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


def _pairs(n: pl.Expr) -> pl.Expr:
    """C(n, 2) in Int64 (group sizes arrive as UInt32, whose product would overflow)."""
    n = n.cast(pl.Int64)
    return n * (n - 1) // 2


def _lazy(frame: Frame, name: str, columns: tuple[str, ...]) -> pl.LazyFrame:
    if isinstance(frame, pl.DataFrame):
        frame = frame.lazy()
    elif not isinstance(frame, pl.LazyFrame):
        raise TypeError(f"{name} must be a Polars DataFrame or LazyFrame, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.collect_schema()]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; expected {list(columns)}")
    return frame.select(*(pl.col(k).cast(pl.String) for k in KEYS), *columns[len(KEYS) :])


def _ratio(numerator: int, denominator: int, empty: float) -> float:
    return numerator / denominator if denominator else empty


def match_quality(
    links: Frame,
    truth: Frame,
    *,
    accepted: Frame | None = None,
    only_sources: list[str] | None = None,
) -> MatchQuality:
    """Pairwise precision/recall/F1 and cluster shape of `links` against `truth`.

    The evaluated records are truth ∩ accepted when `accepted` is given (accepted records missing
    from `links` are singletons), else truth ∩ links; `only_sources` narrows them further. Raises
    ValueError if an evaluated record has two person_ids in truth, two customer_ids in links, or
    a null person_id. The largest cluster's people count is the most mixed among equally large ones.
    """
    truth_lf = _lazy(truth, "truth", (*KEYS, "person_id"))
    links_lf = _lazy(links, "links", (*KEYS, "customer_id")).drop_nulls()
    if only_sources is not None:
        sources = pl.Series("source", list(only_sources), dtype=pl.String)
        truth_lf = truth_lf.filter(pl.col("source").is_in(sources))
        links_lf = links_lf.filter(pl.col("source").is_in(sources))
    if accepted is None:
        how = "inner"
    else:
        truth_lf = truth_lf.join(_lazy(accepted, "accepted", KEYS), on=list(KEYS), how="semi")
        how = "left"
    evaluated = truth_lf.join(links_lf, on=list(KEYS), how=how)

    # One pass over the records: the (cluster, person) contingency table, with unlinked records in
    # a null-cluster cell per person, and whether any record key came out of the join twice. Distinct
    # key hashes prove distinct keys; only a repeated hash needs the exact (slower) look.
    key_hash = pl.struct(*KEYS).hash()
    by_cell = ("customer_id", "person_id")
    rows, cells = pl.collect_all(
        [
            evaluated.select(n=pl.len(), distinct_hashes=key_hash.n_unique()),
            evaluated.group_by(*by_cell).agg(n=pl.len()),
        ]
    )
    if rows["distinct_hashes"][0] != rows["n"][0]:
        records = evaluated.unique().collect()  # identical duplicate rows are harmless: drop them
        duplicated = records.filter(pl.struct(*KEYS).is_duplicated())
        if duplicated.height:
            example = duplicated.sort(*KEYS).head(2).to_dicts()
            raise ValueError(
                "each evaluated record needs exactly one person_id in truth and at most one "
                f"customer_id in links; conflicting rows, e.g. {example}"
            )
        cells = records.group_by(*by_cell).agg(n=pl.len())

    cell_n, person, customer = pl.col("n"), pl.col("person_id"), pl.col("customer_id")
    cl = cells.lazy()
    linked = cl.filter(customer.is_not_null())
    clusters = linked.group_by("customer_id").agg(size=cell_n.sum(), people=pl.len())
    totals, people, tp, shape = pl.collect_all(
        [
            cl.select(
                n=cell_n.sum(),
                unlinked=cell_n.filter(customer.is_null()).sum(),
                no_person=cell_n.filter(person.is_null()).sum(),
            ),
            cl.group_by("person_id").agg(n=cell_n.sum()).select(people=pl.len(), pairs=_pairs(cell_n).sum()),
            linked.select(pairs=_pairs(cell_n).sum()),
            clusters.select(
                clusters=pl.len(),
                pairs=_pairs(pl.col("size")).sum(),
                largest=pl.col("size").max(),
                largest_people=pl.col("people").filter(pl.col("size") == pl.col("size").max()).max(),
            ),
        ]
    )
    if totals["no_person"][0]:
        raise ValueError(f"truth has {totals['no_person'][0]} evaluated record(s) without a person_id")

    n = int(totals["n"][0])
    unlinked = int(totals["unlinked"][0])
    true_pairs = int(people["pairs"][0] or 0)
    predicted_pairs = int(shape["pairs"][0] or 0)
    tp_pairs = int(tp["pairs"][0] or 0)
    customers = int(shape["clusters"][0]) + unlinked
    largest = shape["largest"][0]
    if largest is None:  # no linked records: every cluster (if any) is a singleton
        largest, largest_people = (1, 1) if unlinked else (0, 0)
    else:
        largest, largest_people = int(largest), int(shape["largest_people"][0])

    precision = _ratio(tp_pairs, predicted_pairs, 1.0)
    recall = _ratio(tp_pairs, true_pairs, 1.0)
    return MatchQuality(
        records_evaluated=n,
        true_people=int(people["people"][0]),
        customers=customers,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        true_positive_pairs=tp_pairs,
        precision=precision,
        recall=recall,
        f1=_ratio(2 * precision * recall, precision + recall, 0.0),
        consolidation_rate=1.0 - customers / n if n else 0.0,
        largest_cluster=largest,
        largest_cluster_people=largest_people,
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


def measure_against_truth(
    paths: DataPaths, links: Frame, *, only_sources: list[str] | None = None
) -> MatchQuality | None:
    """Match quality of `links` over the accepted records of this data folder, or None without truth.
    Falls back to truth ∩ links when no ingestion output exists."""
    truth = load_truth(paths)
    if truth is None:
        return None
    return match_quality(links, truth, accepted=load_accepted(paths), only_sources=only_sources)


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
    ids = _lazy(identifiers, "identifiers", (*KEYS, "identifier_type", "identifier_value")).collect()
    person = _lazy(truth, "truth", (*KEYS, "person_id")).collect()
    personal = ids.filter(~pl.col.identifier_type.is_in(anonymous_types)).select(KEYS)
    known = pl.concat([personal, _lazy(named, "named", KEYS).collect()]).unique()
    anonymous = (
        ids.filter(pl.col.identifier_type.is_in(anonymous_types))
        .join(person, on=list(KEYS))
        .select(*KEYS, "person_id", "identifier_type", "identifier_value")
    )
    while True:  # spread along shared anonymous values until nothing new is reached
        values = anonymous.join(known, on=list(KEYS), how="semi").select(
            "person_id", "identifier_type", "identifier_value"
        ).unique()
        reached = anonymous.join(values, on=["person_id", "identifier_type", "identifier_value"], how="semi")
        grown = pl.concat([known, reached.select(KEYS)]).unique()
        if grown.height == known.height:
            return known
        known = grown


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
