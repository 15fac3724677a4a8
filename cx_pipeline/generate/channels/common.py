"""Helpers shared by the channel builders: windows, timestamps and e-mail choice.

A channel builder returns a typed frame holding the landing columns plus bookkeeping columns:
  _pidx        person index (row of Population.people)
  _ts          event time, int seconds UTC (file order, late events, last activity)
  _activity    True when the row is something the person did (counts for last_activity_at)
  _impossible  True for deliberately injected impossible sequences
  _iso_tz      optional: zone to write an iso8601 timestamp in ("UTC" -> "Z")
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY
from cx_pipeline.generate.randomness import counts_to_owners

MONTH = 30.44 * DAY
YEAR = 365.25 * DAY
TOKYO_OFFSET = 9 * 3600

LOCAL_ZONES = {"JP": "Asia/Tokyo", "US": "America/New_York", "GB": "Europe/London", "DE": "Europe/Berlin"}


def span(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Window length in seconds, 0 for empty or undefined windows."""
    return np.nan_to_num(np.maximum(hi - lo, 0.0), nan=0.0)


def poisson(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    return rng.poisson(np.nan_to_num(np.maximum(mean, 0.0), nan=0.0))


def events_between(
    rng: np.random.Generator,
    people: np.ndarray,
    counts: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    fading: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`counts[i]` event times for person `people[i]` in [lo, hi] (arrays aligned with people).

    Fading people get a linearly decreasing density (fewer events towards the end): at-risk customers.
    Returns (person index per event, time per event).
    """
    owner = counts_to_owners(counts)
    u = rng.random(len(owner))
    if fading is not None:
        fade = fading[owner]
        u = np.where(fade, 1.0 - np.sqrt(1.0 - u), u)
    t = np.floor(lo[owner] + u * span(lo, hi)[owner])
    return people[owner], t


def _nulls_where_nan(series: pl.Series, seconds: np.ndarray) -> pl.Series:
    missing = np.flatnonzero(np.isnan(seconds))
    return series.scatter(missing, None) if len(missing) else series


def utc(seconds: np.ndarray) -> pl.Series:
    """Datetime(us, UTC) from float seconds; NaN -> null."""
    s = np.asarray(seconds, dtype=float)
    series = pl.Series(np.nan_to_num(s).astype(np.int64) * 1_000_000).cast(pl.Datetime("us", "UTC"))
    return _nulls_where_nan(series, s)


def tokyo_day(seconds: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the Tokyo calendar date of each instant."""
    return np.floor_divide(np.asarray(seconds).astype(np.int64) + TOKYO_OFFSET, 86_400)


def tokyo_date(seconds: np.ndarray) -> pl.Series:
    """Date of the Tokyo calendar day; NaN -> null."""
    s = np.asarray(seconds, dtype=float)
    return _nulls_where_nan(pl.Series(tokyo_day(np.nan_to_num(s)).astype(np.int32)).cast(pl.Date), s)


def contact_emails(ctx: Context, rng: np.random.Generator, pidx: np.ndarray, personal_share: float) -> pl.Series:
    """The address a person gives: usually the work one, sometimes a private one if they have it."""
    people = ctx.people(pidx, "email", "personal_email")
    use_personal = pl.Series(rng.random(len(pidx)) < personal_share)
    return people.select(
        pl.when(use_personal & pl.col.personal_email.is_not_null()).then(pl.col.personal_email).otherwise(pl.col.email)
    ).to_series()


def local_zones(ctx: Context, pidx: np.ndarray) -> pl.Series:
    return ctx.people(pidx, "country").select(pl.col.country.replace_strict(LOCAL_ZONES)).to_series()


def bookkeeping(pidx: np.ndarray, ts: np.ndarray, activity: np.ndarray | bool = True) -> dict[str, pl.Series]:
    n = len(pidx)
    act = np.broadcast_to(np.asarray(activity, dtype=bool), (n,)).copy()
    return {
        "_pidx": pl.Series(np.asarray(pidx, dtype=np.int64)),
        "_ts": pl.Series(np.asarray(ts, dtype=np.int64)),
        "_activity": pl.Series(act),
        "_impossible": pl.Series(np.zeros(n, dtype=bool)),
    }


def impossible_before(
    ctx: Context, rng: np.random.Generator, source: str, ts: np.ndarray, limit: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move a few events to before `limit` (the person's first interaction or purchase): a clock or
    data-entry error that a timeline check should flag. Returns (new times, moved mask)."""
    moved = candidates & (rng.random(len(ts)) < ctx.noise.impossible_sequence)
    new = np.where(moved, np.floor(limit - (1 + rng.random(len(ts)) * 60) * DAY), ts)
    ctx.log.add(source, "impossible_sequence", moved.sum())
    return new, moved
