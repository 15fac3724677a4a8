"""orders: commerce's view, keyed by buyer e-mail and/or phone; no account or CRM id.

A customer's first order is the purchase, for a contract size (seats) and in a currency that stay the
customer's own; renewals follow yearly at that size while they stay active, an upsell adds 30-100 %
of it, and a few small add-ons (5-20 %) fall in between.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import (
    YEAR,
    bookkeeping,
    contact_emails,
    events_between,
    impossible_before,
    local_zones,
    poisson,
    span,
    utc,
)
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY
from cx_pipeline.generate.names import full_names
from cx_pipeline.generate.randomness import choice_index, unique_numbers
from cx_pipeline.generate.text import cat, ids

STATUSES = np.array(["paid", "shipped", "placed", "cancelled", "refunded"])
STATUS_SHARES = [0.80, 0.12, 0.03, 0.03, 0.02]


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("orders")
    life = ctx.pop.life
    vol = ctx.config.volumes
    buyers = np.flatnonzero(life.purchased)
    start, end = life.purchased_at[buyers], life.activity_end[buyers]

    renew1 = start + YEAR
    renew2 = start + 2 * YEAR
    r1 = buyers[renew1 <= end]
    r2 = buyers[renew2 <= end]
    ups = buyers[~np.isnan(life.upsell_at[buyers])]
    addon_p, addon_t = events_between(
        rng, buyers, poisson(rng, vol.add_on_orders_per_year * span(start, end) / YEAR), start, end
    )

    pidx = np.concatenate([buyers, r1, r2, ups, addon_p])
    ts = np.concatenate(
        [start, life.purchased_at[r1] + YEAR, life.purchased_at[r2] + 2 * YEAR, life.upsell_at[ups], addon_t]
    )
    scale = np.concatenate(
        [
            np.ones(len(buyers) + len(r1) + len(r2)),
            0.3 + 0.7 * rng.random(len(ups)),
            0.05 + 0.15 * rng.random(len(addon_p)),
        ]
    )
    ts = np.floor(ts)
    ts, impossible = impossible_before(
        ctx, rng, "orders", ts, life.first_interaction_at[pidx], np.ones(len(ts), dtype=bool)
    )
    m = len(pidx)

    people = ctx.people(pidx, "country", "phone", "postal_code")
    country = people["country"].to_numpy()
    # one contract size and one billing currency per customer (GB customers pay in USD or EUR)
    order_of_buyer = np.searchsorted(buyers, pidx)
    seats = rng.integers(5, 200, len(buyers))[order_of_buyer]
    pays_usd = (rng.random(len(buyers)) < 0.5)[order_of_buyer]
    # JPY in yen; USD/EUR in cents, written with two decimals
    currency = np.select(
        [country == "JP", country == "US", country == "DE"],
        ["JPY", "USD", "EUR"],
        np.where(pays_usd, "USD", "EUR"),
    )
    minor = np.where(currency == "JPY", np.round(seats * 12_000 * scale, -2), np.round(seats * 12_000 * scale))
    minor = minor.astype(np.int64)
    amount = pl.select(
        pl.when(pl.lit(pl.Series(currency == "JPY")))
        .then(pl.lit(pl.Series(minor)).cast(pl.String))
        .otherwise(
            cat(
                (pl.lit(pl.Series(minor)) // 100).cast(pl.String),
                ".",
                (pl.lit(pl.Series(minor)) % 100).cast(pl.String).str.zfill(2),
            )
        )
    ).to_series()
    status = STATUSES[choice_index(rng, STATUS_SHARES, m)]
    status[ts > life.as_of - 3 * DAY] = "placed"

    has_email = rng.random(m) < 0.9
    has_phone = (rng.random(m) < 0.55) | ~has_email  # at least one contact per order
    email = contact_emails(ctx, rng, pidx, 0.15)
    width = max(8, len(str(m)))
    frame = pl.DataFrame(
        {
            "order_id": ids("ORD-", unique_numbers(rng, m, 1, 10**width), width),
            "buyer_email": pl.select(pl.when(pl.lit(pl.Series(has_email))).then(pl.lit(email))).to_series(),
            "buyer_phone": people.select(pl.when(pl.lit(pl.Series(has_phone))).then(pl.col.phone)).to_series(),
            "buyer_name": full_names(ctx, "orders", pidx),
            "postal_code": people["postal_code"],
            "ordered_at": utc(ts),
            "amount": amount,
            "currency": currency,
            "status": status,
            "_iso_tz": local_zones(ctx, pidx),
            **bookkeeping(pidx, ts),
        }
    )
    return frame.with_columns(_impossible=pl.Series(impossible), _activity=pl.Series(~impossible))
