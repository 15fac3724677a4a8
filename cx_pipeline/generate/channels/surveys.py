"""surveys: NPS responses from customers who reached successful use.

A person's band (promoter 9-10, passive 7-8, detractor 0-6) is a fact of the journey, so every
response of a promoter is >= 9 and `is_promoter` in the truth is the latest response >= 9.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import bookkeeping, contact_emails, utc
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY, NPS_BANDS
from cx_pipeline.generate.randomness import choice_index, unique_numbers
from cx_pipeline.generate.text import ids, strings


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("surveys")
    life = ctx.pop.life
    first = np.flatnonzero(life.surveyed)
    second_t = life.first_survey_at[first] + 90 * DAY + np.floor(rng.exponential(60 * DAY, len(first)))
    again = (rng.random(len(first)) < ctx.config.volumes.second_survey_share) & (second_t <= life.activity_end[first])
    pidx = np.concatenate([first, first[again]])
    ts = np.concatenate([life.first_survey_at[first], second_t[again]])
    m = len(pidx)

    band = life.nps_band[pidx]
    score = np.select(
        [band == 0, band == 1],
        [9 + rng.integers(0, 2, m), 7 + rng.integers(0, 2, m)],
        choice_index(rng, [0.04, 0.04, 0.06, 0.1, 0.14, 0.26, 0.36], m),
    )
    lang = ctx.people(pidx, "language")["language"].to_numpy()
    comment = np.full(m, None, dtype=object)
    has_comment = rng.random(m) < 0.4
    for (language, band_name), texts in ctx.pools.comments.items():
        rows = np.flatnonzero(has_comment & (lang == language) & (band == NPS_BANDS.index(band_name)))
        comment[rows] = texts[rng.integers(0, len(texts), len(rows))]
    width = max(8, len(str(m)))
    return pl.DataFrame(
        {
            "response_id": ids("NPS-", unique_numbers(rng, m, 1, 10**width), width),
            "respondent_email": contact_emails(ctx, rng, pidx, 0.15),
            "nps_score": score.astype(np.int64),
            "comment": strings(comment),
            "responded_at": utc(ts),
            "_iso_tz": np.where(lang == "ja", "Asia/Tokyo", "UTC"),
            **bookkeeping(pidx, ts),
        }
    )
