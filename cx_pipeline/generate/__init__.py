"""Deterministic sample data for cx_pipeline: one population of people, nine departmental channels.

    generate_sample(landing_dir, people=10_000, seed=42) -> summary dict

writes landing/<source>/<source>.<ext> for every snapshot source in the registry, and
landing/<source>/<YYYY-MM-DD>.<ext> for every event stream (`partitioned_by: day`; append_day lands
the days held back one at a time), plus the ground truth in
landing/_truth/: identity_truth.parquet (which person each record belongs to), people.parquet (true
identity and journey facts), row_issues.parquet (rows deliberately made bad, duplicated or impossible)
and summary.json. Same (people, seed, config) -> byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cx_pipeline.generate.channels import BUILDERS
from cx_pipeline.generate.config import GeneratorConfig, NoiseRates
from cx_pipeline.generate.context import DEFECT_KINDS, Context, NoiseLog
from cx_pipeline.generate.contract import SourceSpec, load_contract
from cx_pipeline.generate.noise import arrange, disturb_identifiers, inject_bad_rows
from cx_pipeline.generate.pools import build_pools
from cx_pipeline.generate.population import Population, build_population
from cx_pipeline.generate.render import render_text
from cx_pipeline.generate.writers import write_source, write_summary, write_truth

__all__ = ["GeneratorConfig", "NoiseRates", "append_day", "generate_sample"]

TRUTH_DIR = "_truth"


def _record_id(spec: SourceSpec, frame: pl.DataFrame) -> pl.Expr:
    """The id the ingestion computes: the record_id column, or the columns joined with '|'."""
    parts = []
    for column in spec.record_id:
        dtype = frame.schema[column]
        c = pl.col(column)
        parts.append(c.dt.strftime("%Y-%m-%d") if dtype == pl.Date else c.cast(pl.String))
    return parts[0] if len(parts) == 1 else pl.concat_str(parts, separator="|")


def _people_truth(pop: Population, last_activity: pl.DataFrame) -> pl.DataFrame:
    life = pop.life

    def ts(values: np.ndarray) -> pl.Series:
        ok = ~np.isnan(values)
        s = pl.Series(np.nan_to_num(values).astype(np.int64) * 1_000_000).cast(pl.Datetime("us", "UTC"))
        return s.scatter(np.flatnonzero(~ok), None) if (~ok).any() else s

    person_ids = pop.people["person_id"]
    referred_by = pl.Series(life.referred_by)
    last = np.full(pop.size, np.nan)
    last[last_activity["_pidx"].to_numpy()] = last_activity["_ts"].to_numpy()
    facts = pl.DataFrame(
        {
            "lead_source": life.lead_source,
            "referred_by_person_id": person_ids.gather(referred_by.clip(lower_bound=0)).scatter(
                np.flatnonzero(life.referred_by < 0), None
            ),
            "anonymous_only": life.anonymous_only,
            "first_interaction_at": ts(life.first_interaction_at),
            "identified_at": ts(life.identified_at),
            "mql_at": ts(life.mql_at),
            "evaluating_at": ts(life.evaluating_at),
            "opportunity_created_at": ts(life.opportunity_created_at),
            "contract_signed_at": ts(life.contract_signed_at),
            "purchased_at": ts(life.purchased_at),
            "first_success_at": ts(life.first_success_at),
            "upsell_at": ts(life.upsell_at),
            "first_survey_at": ts(life.first_survey_at),
            "is_promoter": life.is_promoter,
            "referred_others": life.referred_others,
            "at_risk": life.at_risk,
            "lapsed": life.lapsed,
            "last_activity_at": ts(last),
            "journey_stage": life.journey_stage(),
        }
    )
    identity = pop.people.select(
        "person_id",
        "account_id",
        "company_name",
        "company_domain",
        "country",
        "name_locale",
        pl.col.family.alias("family_name"),
        pl.col.given.alias("given_name"),
        pl.col.family_kana.alias("family_name_kana"),
        pl.col.given_kana.alias("given_name_kana"),
        pl.col.family_latin.alias("family_name_latin"),
        pl.col.given_latin.alias("given_name_latin"),
        "email",
        "personal_email",
        "phone",
        "postal_code",
        "app_login",
        "service_customer_no",
    )
    return pl.concat([identity, facts], how="horizontal")


@dataclass
class _Built:
    """One source's generated rows, ready to write, with the truth they add."""

    spec: SourceSpec
    frame: pl.DataFrame
    truth: pl.DataFrame
    activity: pl.DataFrame


def _build_sources(ctx: Context, say: Callable[[str], None]) -> Iterator[_Built]:
    pop = ctx.pop
    for source, build in BUILDERS.items():
        spec = ctx.contract.sources.get(source)
        if spec is None:
            continue
        frame = build(ctx)
        frame = frame.with_columns(_record_id=_record_id(spec, frame))
        activity = frame.filter(pl.col._activity & ~pl.col._impossible).select("_pidx", "_ts")
        ctx.log.mark(source, frame.filter(pl.col._impossible)["_record_id"], "impossible_sequence")
        if source == "crm_contacts":
            ctx.log.mark(source, ctx.shared["crm_duplicate_ids"], "crm_duplicate_contact")
        frame = disturb_identifiers(ctx, spec, frame)
        if spec.is_text:
            frame = render_text(spec, frame)
        frame = inject_bad_rows(ctx, spec, frame)
        truth = frame.select(
            pl.lit(source).alias("source"),
            pl.col._record_id.alias("source_record_id"),
            pl.lit(pop.people["person_id"]).gather(pl.col._pidx).alias("person_id"),
        )
        yield _Built(spec, arrange(ctx, spec, frame), truth, activity)


def _context(people: int, seed: int, config: GeneratorConfig, say: Callable[[str], None]) -> Context:
    if people < 1:
        raise ValueError("people must be >= 1")
    say(f"building {people:,} people (seed {seed})")
    pools = build_pools(seed)
    pop = build_population(seed, people, pools, config)
    return Context(seed=seed, config=config, contract=load_contract(), pools=pools, pop=pop, log=NoiseLog())


def _event_days(ctx: Context, frame: pl.DataFrame) -> pl.Series:
    """The day each row happened in the registry's time zone: the day file it lands in."""
    zone = ctx.contract.default_timezone
    return frame.select(pl.from_epoch("_ts").dt.replace_time_zone("UTC").dt.convert_time_zone(zone).dt.date())[
        "_ts"
    ]


def _remove_earlier_sample_files(spec: SourceSpec, written: Path) -> None:
    """A new sample replaces the files an earlier one wrote: the event stream's other day files
    (appended days, another hold-back) and its single file of the layout before daily files."""
    if not spec.registered.partitioned:
        return
    for stale in [*written.parent.glob(f"????-??-??.{spec.extension}"), written.parent / f"{spec.name}.{spec.extension}"]:
        if stale != written and stale.is_file():
            stale.unlink()


def generator_fingerprint() -> str:
    """A digest of the generator's own code: a sample written by other code is another sample
    (the benchmark regenerates it rather than measure yesterday's data)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.relative_to(Path(__file__).parent).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def generate_sample(
    landing_dir: Path,
    people: int = 10_000,
    seed: int = 42,
    config: GeneratorConfig | None = None,
    progress: Callable[[str], None] | None = None,
    hold_back_days: int = 0,
) -> dict:
    """Write a reproducible sample of every registry source into `landing_dir`; return a summary.

    Event streams (`partitioned_by: day`) land as one file named for the last day landed, holding
    every day up to it; `hold_back_days` keeps the last days of the history back, for
    `append_day` to land one at a time (a daily increment to simulate and measure).
    """
    config = config or GeneratorConfig()
    say = progress or (lambda _message: None)
    landing_dir = Path(landing_dir)
    if not 0 <= hold_back_days < (config.as_of - config.start).days:
        raise ValueError(f"hold_back_days must be between 0 and the {(config.as_of - config.start).days} days generated")
    landed_through = config.as_of - timedelta(days=hold_back_days)
    ctx = _context(people, seed, config, say)

    rows: dict[str, int] = {}
    truth_parts: list[pl.DataFrame] = []
    activity_parts: list[pl.DataFrame] = []
    skipped = [s for s in ctx.contract.sources if s not in BUILDERS]
    for built in _build_sources(ctx, say):
        spec, frame = built.spec, built.frame
        truth_parts.append(built.truth)
        activity_parts.append(built.activity)
        keep = None
        if spec.registered.partitioned:
            keep = (_event_days(ctx, frame) <= landed_through).to_numpy()
        path = write_source(spec, frame, landing_dir, ctx.rng(f"{spec.name}/write"), keep=keep, day=landed_through)
        _remove_earlier_sample_files(spec, path)
        rows[spec.name] = frame.height if keep is None else int(keep.sum())
        say(f"{spec.name}: {rows[spec.name]:,} rows")

    pop = ctx.pop
    last_activity = pl.concat(activity_parts).group_by("_pidx").agg(pl.col._ts.max())
    people_truth = _people_truth(pop, last_activity)
    identity_truth = pl.concat(truth_parts)
    totals = ctx.log.totals()
    summary = {
        "seed": seed,
        "people": people,
        "generator_fingerprint": generator_fingerprint(),
        "companies": pop.companies.height,
        "start": config.start.isoformat(),
        "as_of": config.as_of.isoformat(),
        "landed_through": landed_through.isoformat(),
        "rows_by_source": rows,
        "total_rows": sum(rows.values()),
        "truth_records": identity_truth.height,
        "noise": totals,
        "bad_rows": {k: v for k, v in totals.items() if k in DEFECT_KINDS},
        "noise_by_source": ctx.log.by_source(),
        "journey_stages": dict(people_truth["journey_stage"].value_counts(sort=True, name="n").iter_rows()),
        "sources_without_generator": skipped,
    }
    write_truth(
        landing_dir / TRUTH_DIR,
        {"identity_truth": identity_truth, "people": people_truth, "row_issues": ctx.log.marked_rows()},
        summary,
    )
    say(f"wrote {summary['total_rows']:,} rows for {people:,} people into {landing_dir}")
    return summary


def append_day(
    landing_dir: Path, config: GeneratorConfig | None = None, progress: Callable[[str], None] | None = None
) -> dict:
    """Land the next held-back day of a sample written by `generate_sample(hold_back_days=...)`:
    one file per event stream, `landing/<source>/<YYYY-MM-DD>.<ext>`, with that day's rows exactly
    as the whole sample has them (same people, seed and config). Returns what was written."""
    config = config or GeneratorConfig()
    say = progress or (lambda _message: None)
    landing_dir = Path(landing_dir)
    summary_path = landing_dir / TRUTH_DIR / "summary.json"
    if not summary_path.exists():
        raise FileNotFoundError(f"{summary_path}: no generated sample to append a day to (run generate first)")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    landed = date.fromisoformat(summary.get("landed_through", summary["as_of"]))
    if summary["as_of"] != config.as_of.isoformat():
        raise ValueError(f"{summary_path}: the sample was generated as of {summary['as_of']}, not {config.as_of}")
    if landed >= config.as_of:
        raise ValueError(
            f"{summary_path}: every day up to {summary['as_of']} has landed; generate with --hold-back-days "
            "to keep days back for append-day"
        )
    day = landed + timedelta(days=1)
    ctx = _context(summary["people"], summary["seed"], config, say)
    appended: dict[str, int] = {}
    for built in _build_sources(ctx, say):
        spec = built.spec
        if not spec.registered.partitioned:
            continue
        keep = (_event_days(ctx, built.frame) == day).to_numpy()
        path = write_source(spec, built.frame, landing_dir, ctx.rng(f"{spec.name}/write"), keep=keep, day=day)
        appended[spec.name] = int(keep.sum())
        say(f"{path.relative_to(landing_dir)}: {appended[spec.name]:,} rows")
    summary["landed_through"] = day.isoformat()
    for source, n in appended.items():
        summary["rows_by_source"][source] += n
    summary["total_rows"] = sum(summary["rows_by_source"].values())
    write_summary(landing_dir / TRUTH_DIR, summary)
    return {"day": day.isoformat(), "rows_by_source": appended}
