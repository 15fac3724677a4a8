"""support_cases: the service desk's own world, keyed by its own customer number (SVC-...).

The contact phone is the only link to other departments for most cases, and it is missing on a share
of them (support_phone_missing) so support stays partly siloed. Only e-mail cases carry an address.
Japanese phone operators often type the caller's name in katakana, as heard.

Trouble is what puts a successful customer at risk: each at-risk customer opens a severe case shortly
before going quiet, which is either still unresolved or was closed and rated badly (a few leave no
rating, so only their fading usage tells). Their cases in the last 120 days before that are rated
low too; lapsed customers rate low throughout. A few cases of any customer wait weeks in a backlog.
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
BACKLOG_SHARE = 0.05  # cases that wait in a backlog: about a month to close instead of two days
TROUBLE_UNRESOLVED_SHARE = 0.55  # at-risk customers whose severe case is still open on the as-of day
TROUBLE_RATED_SHARE = 0.8  # the others rate it 1 or 2, unless they leave no rating


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
    severity = SEVERITIES[choice_index(rng, [0.4, 0.35, 0.2, 0.05], len(pidx))]
    resolve_days = np.where(rng.random(len(pidx)) < BACKLOG_SHARE, 30.0, 2.0)

    # the trouble of each at-risk customer: a severe case in the last two weeks before going quiet
    troubled = np.flatnonzero(life.at_risk)
    trouble_opened = np.floor(
        np.maximum(life.activity_end[troubled] - rng.random(len(troubled)) * 14 * DAY, life.first_success_at[troubled])
    )
    unresolved = rng.random(len(troubled)) < TROUBLE_UNRESOLVED_SHARE
    pidx = np.concatenate([pidx, troubled])
    opened = np.concatenate([opened, trouble_opened])
    severity = np.concatenate([severity, np.where(rng.random(len(troubled)) < 0.6, "high", "critical")])
    resolve_days = np.concatenate([resolve_days, np.where(unresolved, np.inf, 3.0)])
    trouble = np.arange(len(pidx)) >= len(pidx) - len(troubled)
    m = len(pidx)

    channel = CHANNELS[choice_index(rng, [0.55, 0.25, 0.20], m)]
    closed = np.floor(opened + 600 + rng.exponential(1.0, m) * resolve_days * DAY)
    is_closed = closed <= life.as_of
    status = np.where(is_closed, "closed", np.where(rng.random(m) < 0.5, "open", "pending"))
    troubled_since = np.where(life.at_risk[pidx], life.activity_end[pidx] - 120 * DAY, np.inf)
    sad = life.lapsed[pidx] | (opened >= troubled_since)
    csat = np.where(
        sad,
        1 + choice_index(rng, [0.30, 0.30, 0.20, 0.12, 0.08], m),
        1 + choice_index(rng, [0.03, 0.05, 0.15, 0.37, 0.40], m),
    )
    csat = np.where(trouble, 1 + (rng.random(m) < 0.5), csat)
    has_csat = is_closed & (rng.random(m) < np.where(trouble, TROUBLE_RATED_SHARE, 0.6))

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
            "severity": severity,
            "status": status,
            "opened_at": utc(opened),
            "closed_at": utc(np.where(is_closed, closed, np.nan)),
            "csat": pl.Series(np.where(has_csat, csat, 0)).cast(pl.Int64).scatter(np.flatnonzero(~has_csat), None),
            **bookkeeping(pidx, opened),
        }
    )
