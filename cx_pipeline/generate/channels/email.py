"""email_events: marketing sends, opens, clicks and unsubscribes by subscriber address.

Campaigns go out weekly; a subscriber gets some of them from sign-up until unsubscribing or the as-of
date. Sends are the company's action (not the person's activity); opens and clicks happen only while
the person is still active. Unsubscribes are shared with the CRM (do_not_contact).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import YEAR, bookkeeping, contact_emails, poisson, span, utc
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY, tokyo_midnight
from cx_pipeline.generate.randomness import counts_to_owners, tokens
from cx_pipeline.generate.text import cat

SUBSCRIBER_SHARE = 0.7


def _campaign_calendar(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Tuesdays 10:00 Tokyo time from the start to the as-of date: (send times, yyyymmdd labels)."""
    start = ctx.config.start
    first_tuesday = start + timedelta(days=(1 - start.weekday()) % 7)
    days = np.arange(0, (ctx.config.as_of - first_tuesday).days + 1, 7)
    times = tokyo_midnight(first_tuesday) + days * DAY + 10 * 3600
    labels = [(first_tuesday + timedelta(days=int(d))).strftime("%Y%m%d") for d in days]  # ~130 campaigns
    return times, np.array(labels)


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("email_events")
    life = ctx.pop.life
    vol = ctx.config.volumes
    n = ctx.pop.size
    subs = np.flatnonzero(life.identified & (rng.random(n) < SUBSCRIBER_SHARE))
    k = len(subs)
    subscribed = np.floor(life.identified_at[subs] + rng.random(k) * 7200)
    active_end = np.maximum(life.activity_end[subs], subscribed)
    unsub = rng.random(k) < vol.email_unsubscribe_share
    unsub_at = np.where(unsub, np.floor(subscribed + rng.random(k) * span(subscribed, active_end)), np.nan)
    send_end = np.where(unsub, unsub_at, life.as_of - 3600)

    campaigns, labels = _campaign_calendar(ctx)
    lo = np.searchsorted(campaigns, subscribed, side="left")
    hi = np.searchsorted(campaigns, send_end - 1800, side="right")  # a send takes up to 30 minutes
    counts = np.where(hi > lo, poisson(rng, vol.email_sends_per_year * span(subscribed, send_end) / YEAR), 0)
    owner = counts_to_owners(counts)
    campaign = lo[owner] + (rng.random(len(owner)) * (hi - lo)[owner]).astype(np.int64)
    # one send per campaign and subscriber
    keep = (
        pl.DataFrame({"o": owner, "c": campaign}).select(pl.struct("o", "c").is_first_distinct()).to_series().to_numpy()
    )
    owner, campaign = owner[keep], campaign[keep]
    sent = np.floor(campaigns[campaign] + rng.random(len(owner)) * 1800)

    # opens and clicks while the subscriber is still engaged
    opened = rng.random(len(owner)) < vol.email_open_rate
    open_t = np.floor(sent + rng.exponential(6 * 3600, len(owner)))
    opened &= open_t <= np.minimum(active_end[owner], life.as_of)
    clicked = opened & (rng.random(len(owner)) < vol.email_click_rate)
    click_t = open_t + 5 + np.floor(rng.random(len(owner)) * 600)
    clicked &= click_t <= np.minimum(active_end[owner], life.as_of)

    unsub_rows = np.flatnonzero(unsub)
    unsub_campaign = np.searchsorted(campaigns, unsub_at[unsub_rows], side="right") - 1
    row_owner = np.concatenate([owner, owner[opened], owner[clicked], unsub_rows])
    ts = np.concatenate([sent, open_t[opened], click_t[clicked], unsub_at[unsub_rows]])
    camp = np.concatenate([campaign, campaign[opened], campaign[clicked], unsub_campaign])
    event_type = np.concatenate(
        [
            np.full(len(owner), "sent"),
            np.full(int(opened.sum()), "open"),
            np.full(int(clicked.sum()), "click"),
            np.full(len(unsub_rows), "unsubscribe"),
        ]
    )
    pidx = subs[row_owner]
    m = len(pidx)

    # one address per subscriber, used for every event
    address = contact_emails(ctx, rng, subs, 0.15).gather(row_owner)
    lang = ctx.people(pidx, "language")["language"]
    campaign_id = pl.select(
        pl.when(pl.lit(pl.Series(camp >= 0))).then(
            cat("CMP-", pl.lit(pl.Series(labels[np.maximum(camp, 0)])), "-", pl.lit(lang).str.to_uppercase())
        )
    ).to_series()

    ctx.shared["unsubscribed_at"] = pl.DataFrame({"_pidx": subs[unsub_rows], "unsubscribed_at": unsub_at[unsub_rows]})
    return pl.DataFrame(
        {
            "event_id": np.char.add("em-", tokens(rng, m, 20)),
            "subscriber_email": address,
            "campaign_id": campaign_id,
            "event_type": event_type,
            "event_ts": utc(ts),
            **bookkeeping(pidx, ts, activity=event_type != "sent"),
        }
    )
