"""support_cases: the service desk's own world, keyed by its own customer number (SVC-...).

The contact phone is the only link to other departments for most cases, and it is missing on a share
of them (support_phone_missing) so support stays partly siloed. Only e-mail cases carry an address.
Japanese phone operators often type the caller's name in katakana, as heard.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import YEAR, bookkeeping, contact_emails, events_between, poisson, span, utc
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY
from cx_pipeline.generate.names import full_names
from cx_pipeline.generate.randomness import choice_index, unique_numbers
from cx_pipeline.generate.text import ids

CHANNELS = np.array(["phone", "chat", "email"])
SEVERITIES = np.array(["low", "medium", "high", "critical"])


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("support_cases")
    life = ctx.pop.life
    vol = ctx.config.volumes
    customers = np.flatnonzero(life.purchased)
    start, end = life.purchased_at[customers] + 3600, life.activity_end[customers]
    unhappy = life.at_risk[customers] | life.lapsed[customers]
    # a burst while onboarding, then a steady trickle; unhappy customers call more
    rate = vol.support_cases_per_year * span(start, end) / YEAR * np.where(unhappy, 2.5, 1.0)
    counts = poisson(rng, rate) + (rng.random(len(customers)) < 0.25)
    counts = np.where(end > start, counts, 0)
    pidx, opened = events_between(rng, customers, counts, start, end)
    m = len(pidx)

    channel = CHANNELS[choice_index(rng, [0.55, 0.25, 0.20], m)]
    closed = np.floor(opened + 600 + rng.exponential(2 * DAY, m))
    is_closed = closed <= life.as_of
    status = np.where(is_closed, "closed", np.where(rng.random(m) < 0.5, "open", "pending"))
    sad = life.at_risk[pidx] | life.lapsed[pidx]
    csat = np.where(
        sad,
        1 + choice_index(rng, [0.30, 0.30, 0.20, 0.12, 0.08], m),
        1 + choice_index(rng, [0.03, 0.05, 0.15, 0.37, 0.40], m),
    )
    has_csat = is_closed & (rng.random(m) < 0.6)

    people = ctx.people(pidx, "service_customer_no", "phone", "country")
    no_phone = rng.random(m) < ctx.noise.support_phone_missing
    ctx.log.add("support_cases", "support_phone_missing", no_phone.sum())
    email = contact_emails(ctx, rng, pidx, 0.2)
    with_email = (channel == "email") & (rng.random(m) < 0.85)
    kana = (people["country"].to_numpy() == "JP") & (channel == "phone") & (rng.random(m) < 0.5)
    width = max(8, len(str(m)))
    return pl.DataFrame(
        {
            "case_id": ids("CASE-", unique_numbers(rng, m, 1, 10**width), width),
            "service_customer_no": people["service_customer_no"],
            "contact_phone": people.select(pl.when(pl.lit(pl.Series(~no_phone))).then(pl.col.phone)).to_series(),
            "contact_email": pl.select(pl.when(pl.lit(pl.Series(with_email))).then(pl.lit(email))).to_series(),
            "contact_name": full_names(ctx, "support_cases", pidx, kana_convention=kana),
            "channel": channel,
            "severity": SEVERITIES[choice_index(rng, [0.4, 0.35, 0.2, 0.05], m)],
            "status": status,
            "opened_at": utc(opened),
            "closed_at": utc(np.where(is_closed, closed, np.nan)),
            "csat": pl.Series(np.where(has_csat, csat, 0)).cast(pl.Int64).scatter(np.flatnonzero(~has_csat), None),
            **bookkeeping(pidx, opened),
        }
    )
