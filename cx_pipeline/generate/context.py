"""What every channel builder gets: the population, the pools, seeded streams and the noise log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from cx_pipeline.generate.config import GeneratorConfig, NoiseRates
from cx_pipeline.generate.contract import Contract
from cx_pipeline.generate.pools import Pools
from cx_pipeline.generate.population import Population
from cx_pipeline.generate.randomness import stream

DEFECT_KINDS = (
    "bad_date",
    "negative_amount",
    "unknown_currency",
    "broken_json",
    "missing_required",
    "out_of_range",
    "not_allowed_value",
)


@dataclass
class NoiseLog:
    """Counts of injected noise per (source, kind), and the record ids of deliberately odd rows."""

    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    marked: list[pl.DataFrame] = field(default_factory=list)

    def add(self, source: str, kind: str, n: int | np.integer) -> None:
        if n:
            self.counts[source][kind] += int(n)

    def mark(self, source: str, record_ids: pl.Series, kind: str) -> None:
        """Remember rows the ingestion should reject or flag (bad rows, duplicates, impossible sequences)."""
        if len(record_ids):
            self.marked.append(
                pl.DataFrame({"source": source, "source_record_id": record_ids.cast(pl.String), "kind": kind})
            )

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for kinds in self.counts.values():
            for kind, n in kinds.items():
                out[kind] += n
        return dict(sorted(out.items()))

    def by_source(self) -> dict[str, dict[str, int]]:
        return {s: dict(sorted(k.items())) for s, k in sorted(self.counts.items())}

    def marked_rows(self) -> pl.DataFrame:
        if not self.marked:
            return pl.DataFrame(schema={"source": pl.String, "source_record_id": pl.String, "kind": pl.String})
        return pl.concat(self.marked)


@dataclass
class Context:
    seed: int
    config: GeneratorConfig
    contract: Contract
    pools: Pools
    pop: Population
    log: NoiseLog
    shared: dict = field(default_factory=dict)  # facts one channel decides and another reads

    @property
    def noise(self) -> NoiseRates:
        return self.config.noise

    def rng(self, name: str) -> np.random.Generator:
        return stream(self.seed, name)

    def people(self, pidx: np.ndarray, *columns: str) -> pl.DataFrame:
        """Person attributes gathered for each row of a channel frame."""
        return self.pop.people.select(columns)[pidx]
