"""crm_contacts: sales' view of leads and customers, one row per contact record.

Stage follows the person's true journey (lead -> mql -> sql/opportunity -> customer, churned when
lapsed). Sales reps also create a second record for some people they already have (new crm_id, often a
private address): the crm_duplicate_contact noise kind.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import bookkeeping, contact_emails, tokyo_date, utc
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY
from cx_pipeline.generate.names import split_names
from cx_pipeline.generate.randomness import unique_numbers
from cx_pipeline.generate.text import ids, strings

LEAD_SOURCE_LABELS = {
    "web": "Web",
    "event": "Event",
    "partner": "Partner",
    "referral": "Referral",
    "outbound": "Outbound",
}


def _stage(life, pidx: np.ndarray) -> np.ndarray:
    step = life.step[pidx]
    sql_only = np.isnan(life.opportunity_created_at[pidx])
    stage = np.array(["lead", "lead", "mql", "opportunity", "customer"], dtype=object)[step]
    stage[(step == 3) & sql_only] = "sql"
    stage[life.lapsed[pidx]] = "churned"
    return stage.astype(str)


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("crm_contacts")
    life = ctx.pop.life
    n = ctx.pop.size
    web = life.lead_source == "web"
    u = rng.random(n)
    in_crm = life.identified & (((life.step >= 3) & (u < 0.97)) | (~web & (u < 0.95)) | (web & (u < 0.55)))
    pidx = np.flatnonzero(in_crm)
    k = len(pidx)
    ident = life.identified_at[pidx]
    created = np.where(web[pidx], np.minimum(ident + np.floor(rng.random(k) * 7200), life.activity_end[pidx]), ident)

    # last change: the latest milestone sales would record, churn noticed after the lapse period
    churn_seen = life.activity_end + ctx.config.funnel.lapse_days * DAY
    milestones = np.vstack(
        [
            ident,
            life.mql_at[pidx],
            life.evaluating_at[pidx],
            life.purchased_at[pidx],
            life.upsell_at[pidx],
            np.where(life.lapsed[pidx], churn_seen[pidx], np.nan),
        ]
    )
    updated = np.fmax(np.nanmax(milestones, axis=0), created) + np.floor(rng.random(k) * 3 * DAY)
    updated = np.minimum(updated, life.as_of)

    # duplicate contact records created later by another rep
    dup = np.flatnonzero(rng.random(k) < ctx.noise.crm_duplicate_contact)
    dup_created = np.floor(created[dup] + (10 + rng.random(len(dup)) * 290) * DAY)
    dup = dup[dup_created <= life.as_of]
    dup_created = dup_created[dup_created <= life.as_of]
    ctx.log.add("crm_contacts", "crm_duplicate_contact", len(dup))

    rows = np.concatenate([np.arange(k), dup])
    p = pidx[rows]
    m = len(p)
    is_dup = np.r_[np.zeros(k, dtype=bool), np.ones(len(dup), dtype=bool)]
    created_all = np.concatenate([created, dup_created])
    updated_all = np.concatenate([updated, dup_created])
    stage = np.where(is_dup, "lead", _stage(life, p))
    opp_at = np.where(is_dup, np.nan, life.opportunity_created_at[p])
    signed = np.where(is_dup, np.nan, life.contract_signed_at[p])

    people = ctx.people(p, "account_id", "company_name", "phone", "country", "postal_code")
    jp = people["country"].to_numpy() == "JP"
    amount = np.where(jp, 10_000, 100) * rng.integers(30, 600, m)
    email = contact_emails(ctx, rng, p, np.where(is_dup, 0.6, 0.1))
    phone_present = pl.Series(rng.random(m) < np.where(is_dup, 0.5, 0.85))
    unsubscribed = ctx.shared.get("unsubscribed_at")
    dnc = np.zeros(m, dtype=bool)
    if unsubscribed is not None:
        dnc = np.isin(p, unsubscribed["_pidx"].to_numpy())
    dnc |= rng.random(m) < 0.01
    first, last = split_names(ctx, "crm_contacts", p)
    width = max(7, len(str(m)))

    frame = pl.DataFrame(
        {
            "crm_id": ids("CRM-", unique_numbers(rng, m, 1, 10**width), width),
            "account_id": people["account_id"],
            "account_name": people["company_name"],
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": people.select(pl.when(pl.lit(phone_present)).then(pl.col.phone)).to_series(),
            "country": people["country"],
            "postal_code": people["postal_code"],
            "lead_source": pl.Series(life.lead_source[p]).replace_strict(LEAD_SOURCE_LABELS),
            "stage": stage,
            "do_not_contact": dnc,
            "created_at": utc(created_all),
            "updated_at": utc(updated_all),
            "opportunity_created_at": tokyo_date(opp_at),
            "opportunity_amount": strings(np.where(np.isnan(opp_at), None, amount.astype(str))),
            "contract_signed_at": tokyo_date(signed),
            # a rep re-entering a contact is not something the person did
            **bookkeeping(p, created_all, activity=~is_dup),
        }
    )
    ctx.shared["crm_duplicate_ids"] = frame["crm_id"].filter(pl.Series(is_dup))
    return frame
