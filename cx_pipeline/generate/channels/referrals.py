"""partner_referrals: partners hand over prospects by name, company and e-mail.

A partner-sourced person's first interaction is the referral; now and then a second partner refers
someone the company already knows.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import bookkeeping, contact_emails, span, tokyo_date
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.names import full_names
from cx_pipeline.generate.pools import JA_LEGAL_FORMS
from cx_pipeline.generate.randomness import unique_numbers
from cx_pipeline.generate.text import ids


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("partner_referrals")
    life = ctx.pop.life
    referred = np.flatnonzero(life.identified & (life.lead_source == "partner"))
    again = referred[rng.random(len(referred)) < 0.05]
    lo, hi = life.first_interaction_at[again], life.activity_end[again]
    pidx = np.concatenate([referred, again])
    ts = np.concatenate([life.first_interaction_at[referred], np.floor(lo + rng.random(len(again)) * span(lo, hi))])
    m = len(pidx)

    people = ctx.people(pidx, "country", "company_name")
    jp = people["country"].to_numpy() == "JP"
    partners = ctx.pools.partners
    n_ja = int(np.char.endswith(partners.astype(str), "株式会社").sum())  # Japanese partners come first
    partner = np.where(
        jp, partners[rng.integers(0, n_ja, m)], partners[n_ja + rng.integers(0, len(partners) - n_ja, m)]
    )
    # partners often drop the legal form: "山田建設" for "株式会社山田建設"
    short = pl.Series(rng.random(m) < 0.3)
    company = people.select(
        pl.when(short)
        .then(pl.col.company_name.str.replace_many(list(JA_LEGAL_FORMS), [""] * len(JA_LEGAL_FORMS)))
        .otherwise(pl.col.company_name)
    ).to_series()
    width = max(7, len(str(m)))
    return pl.DataFrame(
        {
            "referral_id": ids("REF-", unique_numbers(rng, m, 1, 10**width), width),
            "partner_name": partner,
            "referred_name": full_names(ctx, "partner_referrals", pidx),
            "referred_company": company,
            "referred_email": contact_emails(ctx, rng, pidx, 0.05),
            "referred_at": tokyo_date(ts),
            **bookkeeping(pidx, ts),
        }
    )
