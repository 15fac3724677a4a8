"""web_events: page views by cookie; an e-mail only when a form is submitted.

Most visits are anonymous: the form submit (or demo request) is the one event that ties a cookie to an
address, and people use one to three browsers, so some of their cookies are never linked at all.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import bookkeeping, contact_emails, events_between, poisson
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY
from cx_pipeline.generate.randomness import choice_index, pick, tokens
from cx_pipeline.generate.text import cat, strings

SITE = "https://www.cxcloud.example"
PAGES = np.array(
    [
        "/",
        "/product",
        "/solutions/sales",
        "/solutions/service",
        "/customers",
        "/blog/connected-customer",
        "/blog/customer-lifecycle",
        "/docs/getting-started",
        "/ja/",
        "/ja/product",
    ]
)
FORM_PAGES = np.array(["/contact", "/whitepaper/cx-guide", "/webinar/signup"])
UTM = np.array(["google", "linkedin", "newsletter", "facebook", "partner", "yahoo"])


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("web_events")
    life = ctx.pop.life
    n = ctx.pop.size
    vol = ctx.config.volumes
    people = np.arange(n)
    identified = life.identified
    from_web = life.lead_source == "web"
    visitor = ~identified | from_web | (rng.random(n) < 0.4)
    ctx.log.add("web_events", "anonymous_visitor", life.anonymous_only.sum())  # people, not rows

    # 1) the first visit of everyone who found us on the web is their first interaction
    first_visit = np.flatnonzero(from_web)
    # 2) the form submit that identifies a web lead
    submit = np.flatnonzero(from_web & identified)
    # 3) demo requests while evaluating
    demo = np.flatnonzero(~np.isnan(life.evaluating_at) & (rng.random(n) < 0.5))
    demo_t = np.maximum(life.evaluating_at[demo] - rng.random(len(demo)) * DAY, life.identified_at[demo])
    # 4) further page and pricing views over the person's active window
    rate = np.where(
        identified, np.asarray(vol.web_views_per_step)[np.maximum(life.step, 1) - 1], vol.web_views_anonymous
    )
    extra_counts = np.where(visitor, poisson(rng, rate), 0)
    extra_p, extra_t = events_between(rng, people, extra_counts, life.first_interaction_at, life.activity_end)
    pricing_share = np.where(life.step[extra_p] >= 3, 0.3, 0.1)
    extra_type = np.where(rng.random(len(extra_p)) < pricing_share, "pricing_view", "page_view")

    pidx = np.concatenate([first_visit, submit, demo, extra_p])
    ts = np.concatenate([life.first_interaction_at[first_visit], life.identified_at[submit], demo_t, extra_t])
    event_type = np.concatenate(
        [
            np.full(len(first_visit), "page_view"),
            np.full(len(submit), "form_submit"),
            np.full(len(demo), "demo_request"),
            extra_type,
        ]
    )
    m = len(pidx)

    # cookies: 1-3 per person; each event happens in one of them
    n_cookies = 1 + choice_index(rng, [0.65, 0.25, 0.10], n)
    cookie_start = np.concatenate([[0], np.cumsum(n_cookies)[:-1]])
    cookie_pool = np.char.add("ck-", tokens(rng, int(n_cookies.sum()), 20))
    which = (rng.random(m) * n_cookies[pidx]).astype(np.int64)
    cookie = cookie_pool[cookie_start[pidx] + which]

    identifies = np.isin(event_type, ["form_submit", "demo_request"])
    email = contact_emails(ctx, rng, pidx, 0.15)
    path = np.where(
        event_type == "pricing_view",
        "/pricing",
        np.where(
            event_type == "demo_request", "/demo", np.where(identifies, pick(rng, FORM_PAGES, m), pick(rng, PAGES, m))
        ),
    )
    utm = np.where(rng.random(m) < 0.3, pick(rng, UTM, m), None)
    jp = ctx.people(pidx, "country")["country"].to_numpy() == "JP"
    zone = np.where(jp & (rng.random(m) < 0.7), "Asia/Tokyo", "UTC")  # two tag managers, two conventions

    return pl.DataFrame(
        {
            "event_id": np.char.add("wev-", tokens(rng, m, 20)),
            "cookie_id": cookie,
            "event_type": event_type,
            "event_ts": pl.Series(ts.astype(np.int64) * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "page_url": pl.select(cat(SITE, pl.lit(pl.Series(path)))).to_series(),
            "utm_source": strings(utm),
            "email": pl.select(pl.when(pl.lit(pl.Series(identifies))).then(pl.lit(email))).to_series(),
            "_iso_tz": zone,
            **bookkeeping(pidx, ts),
        }
    )
