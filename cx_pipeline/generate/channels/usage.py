"""product_usage: one row per account, login and day the product was used (customers only).

A day counts as successful use at >= 30 active minutes and >= 5 feature events; every day before the
person's first_success_at is below that bar and the first_success_at day reaches it, so the truth can
be recomputed from the log. At-risk customers use the product less and less.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import (
    MONTH,
    TOKYO_OFFSET,
    bookkeeping,
    events_between,
    poisson,
    span,
    tokyo_day,
)
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY

SUCCESS_MINUTES = 30
SUCCESS_FEATURES = 5


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("product_usage")
    life = ctx.pop.life
    vol = ctx.config.volumes
    users = np.flatnonzero(life.purchased)
    start, end = life.purchased_at[users], life.activity_end[users]
    counts = np.maximum(poisson(rng, vol.usage_days_per_month * span(start, end) / MONTH), 1)
    p, t = events_between(rng, users, counts, start, end, fading=life.at_risk[users])
    succeeded = users[~np.isnan(life.first_success_at[users])]

    pidx = np.concatenate([succeeded, p])  # the success day first, so it wins de-duplication
    ts = np.concatenate([life.first_success_at[succeeded], t])
    day = tokyo_day(ts)
    m = len(pidx)

    success_at = life.first_success_at[pidx]
    before_success = np.isnan(success_at) | (day < tokyo_day(np.nan_to_num(success_at)))
    forced = np.arange(m) < len(succeeded)
    # minutes fade towards zero over the last 120 days of an at-risk customer
    fade = np.clip((life.activity_end[pidx] - ts) / (120 * DAY), 0.1, 1.0)
    fade = np.where(life.at_risk[pidx], fade, 1.0)
    minutes = np.maximum(1, np.round(rng.lognormal(3.7, 0.6, m) * fade)).astype(np.int64)
    features = rng.poisson(minutes / 5.0)
    low_minutes = 1 + rng.integers(0, SUCCESS_MINUTES - 1, m)
    low_features = rng.integers(0, SUCCESS_FEATURES, m)
    minutes = np.where(before_success, low_minutes, minutes)
    features = np.where(before_success, np.minimum(features, low_features), features)
    minutes = np.where(forced, np.maximum(minutes, SUCCESS_MINUTES), minutes)
    features = np.where(forced, np.maximum(features, SUCCESS_FEATURES), features)

    # usage logged on a date before the purchase: impossible, flagged for the timeline checks
    impossible = (rng.random(m) < ctx.noise.impossible_sequence) & ~forced
    purchase_day = tokyo_day(life.purchased_at[pidx])
    day = np.where(impossible, purchase_day - 1 - rng.integers(0, 60, m), day)

    people = ctx.people(pidx, "account_id", "app_login")
    frame = pl.DataFrame(
        {
            "account_id": people["account_id"],
            "login": people["app_login"],
            "usage_date": pl.Series(day.astype(np.int32)).cast(pl.Date),
            "active_minutes": minutes,
            "feature_events": features.astype(np.int64),
            **bookkeeping(pidx, day * 86_400 - TOKYO_OFFSET),
        }
    ).with_columns(_impossible=pl.Series(impossible), _activity=pl.Series(~impossible))
    # one row per (account, login, day): keep the first, which is the success day where they collide
    frame = frame.unique(subset=["account_id", "login", "usage_date"], keep="first", maintain_order=True)
    ctx.log.add("product_usage", "impossible_sequence", frame["_impossible"].sum())
    return frame
