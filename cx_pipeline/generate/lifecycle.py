"""The true customer journey of every person, drawn before any channel writes a row.

購入 purchase: first interaction -> identified lead -> engaged (mql) -> evaluating (sql/opportunity) -> purchase
利用 use:      purchase -> first successful use (or stuck onboarding, at risk, lapsed)
拡張 expand:   successful use -> upsell, promoter (NPS >= 9), referring other people

All times are float seconds since the Unix epoch (UTC) with NaN for "never", so the funnel is plain
numpy arithmetic: a step that would happen after the as-of date simply does not happen.
Channels only write events inside the windows these facts allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from cx_pipeline.generate.config import GeneratorConfig
from cx_pipeline.generate.randomness import choice_index

DAY = 86_400.0
TOKYO = timezone(timedelta(hours=9))

NPS_BANDS = ("promoter", "passive", "detractor")


def tokyo_midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=TOKYO).timestamp()


@dataclass
class Lifecycle:
    start: float
    as_of: float  # last second of the as-of day, Tokyo time
    lead_source: np.ndarray  # web | event | partner | referral | outbound
    anonymous_only: np.ndarray  # drawn as never identifying (the anonymous_visitor noise kind)
    step: np.ndarray  # 0 anonymous .. 4 customer, as reached by the as-of date
    first_interaction_at: np.ndarray
    identified_at: np.ndarray
    mql_at: np.ndarray
    evaluating_at: np.ndarray  # sql
    opportunity_created_at: np.ndarray
    contract_signed_at: np.ndarray
    purchased_at: np.ndarray
    first_success_at: np.ndarray
    upsell_at: np.ndarray
    first_survey_at: np.ndarray
    nps_band: np.ndarray  # index into NPS_BANDS (meaningful for surveyed people)
    lapsed: np.ndarray
    at_risk: np.ndarray
    activity_end: np.ndarray  # no customer-initiated event after this
    referred_by: np.ndarray  # person index of the promoter who referred them, -1 if none
    referred_others: np.ndarray

    @property
    def purchased(self) -> np.ndarray:
        return ~np.isnan(self.purchased_at)

    @property
    def identified(self) -> np.ndarray:
        return ~np.isnan(self.identified_at)

    @property
    def surveyed(self) -> np.ndarray:
        return ~np.isnan(self.first_survey_at)

    @property
    def is_promoter(self) -> np.ndarray:
        return self.surveyed & (self.nps_band == 0)

    def journey_stage(self) -> np.ndarray:
        """Coarse stage at the as-of date; later rules win (a lapsed promoter is lapsed)."""
        stage = np.array(["anonymous_visitor", "known_lead", "engaged", "evaluating", "onboarding"], dtype=object)[
            self.step
        ]
        success = ~np.isnan(self.first_success_at)
        stage[success] = "adopting"
        stage[success & ~np.isnan(self.upsell_at)] = "growing"
        stage[success & self.is_promoter] = "advocate"
        stage[self.at_risk] = "at_risk"
        stage[self.lapsed] = "lapsed"
        return stage.astype(str)


def _exp(rng: np.random.Generator, mean_days: float, n: int) -> np.ndarray:
    return rng.exponential(mean_days * DAY, size=n)


def draw_lifecycle(rng: np.random.Generator, n: int, config: GeneratorConfig) -> Lifecycle:
    f = config.funnel
    start = tokyo_midnight(config.start)
    as_of = tokyo_midnight(config.as_of + timedelta(days=1)) - 1
    nan = np.full(n, np.nan)

    anonymous = rng.random(n) < config.noise.anonymous_visitor
    target = 1 + choice_index(rng, f.target_shares, n)  # 1 lead .. 4 purchase
    source_names = np.array([s for s, _ in f.lead_sources])
    source = source_names[choice_index(rng, [w for _, w in f.lead_sources], n)]
    source[anonymous] = "web"
    web = source == "web"

    first = np.floor(start + rng.random(n) * (as_of - 7 * DAY - start))
    ident = np.where(web, first + 3600 + _exp(rng, f.mean_days_to_identify, n), first)
    mql = ident + DAY + _exp(rng, f.mean_days_to_mql, n)
    opp = mql + 2 * DAY + _exp(rng, f.mean_days_to_opportunity, n)
    purch = opp + 3 * DAY + _exp(rng, f.mean_days_to_purchase, n)

    identified = ~anonymous & (ident <= as_of)
    engaged = identified & (target >= 2) & (mql <= as_of)
    evaluating = engaged & (target >= 3) & (opp <= as_of)
    purchased = evaluating & (target >= 4) & (purch <= as_of)
    sql_only = evaluating & ~purchased & (rng.random(n) < f.sql_without_opportunity)
    step = identified.astype(np.int64) + engaged + evaluating + purchased

    purchased_at = np.where(purchased, np.floor(purch), nan)
    signed = np.maximum(purch - rng.random(n) * 3 * DAY, opp)

    # -- after the purchase
    lapse_days = f.lapse_days * DAY
    lapsed = purchased & (purch <= as_of - lapse_days - 30 * DAY) & (rng.random(n) < f.lapse_share)
    success = purch + 2 * DAY + _exp(rng, f.mean_days_to_success, n)
    lapse_end = purch + 7 * DAY + rng.random(n) * (as_of - lapse_days - purch - 7 * DAY)
    end_of_use = np.where(lapsed, lapse_end, as_of)
    succeeded = purchased & (rng.random(n) < f.success_share) & (success <= end_of_use)
    first_success_at = np.where(succeeded, np.floor(success), nan)

    at_risk = succeeded & ~lapsed & (success <= as_of - 60 * DAY) & (rng.random(n) < f.at_risk_share)
    customer_end = np.maximum(as_of - _exp(rng, 4, n), np.where(succeeded, success, purch))
    risk_end = as_of - (10 + rng.random(n) * 35) * DAY

    last_step = np.where(engaged, np.where(evaluating, opp, mql), ident)
    lead_end = np.minimum(as_of, last_step + _exp(rng, 40, n))
    visitor_end = np.minimum(as_of, first + _exp(rng, 7, n))
    activity_end = np.select(
        [lapsed, at_risk, purchased, identified],
        [lapse_end, risk_end, np.minimum(customer_end, as_of), lead_end],
        visitor_end,
    )
    activity_end = np.floor(np.minimum(activity_end, as_of))

    upsell = succeeded & ~lapsed & (rng.random(n) < f.upsell_share)
    upsell_t = success + 20 * DAY + _exp(rng, 90, n)
    upsell_at = np.where(upsell & (upsell_t <= activity_end), np.floor(upsell_t), nan)

    survey_t = success + 5 * DAY + _exp(rng, 40, n)
    surveyed = succeeded & (rng.random(n) < f.survey_share) & (survey_t <= activity_end)
    first_survey_at = np.where(surveyed, np.floor(survey_t), nan)
    unhappy = at_risk | lapsed
    band = np.where(unhappy, choice_index(rng, [0.05, 0.25, 0.70], n), choice_index(rng, [0.45, 0.35, 0.20], n))

    # -- referrals: a referred person names a promoter who was already a promoter at their first touch
    referred_by = np.full(n, -1, dtype=np.int64)
    promoters = np.flatnonzero(surveyed & (band == 0))
    order = np.argsort(first_survey_at[promoters], kind="stable")
    promoters, promoter_since = promoters[order], first_survey_at[promoters][order]
    referred = np.flatnonzero(identified & (source == "referral"))
    available = np.searchsorted(promoter_since, first[referred], side="left")
    has_referrer = available > 0
    chosen = (rng.random(len(referred)) * np.maximum(available, 1)).astype(np.int64)
    referred_by[referred[has_referrer]] = promoters[chosen[has_referrer]]
    source[referred[~has_referrer]] = "event"  # nobody to refer them yet: they came from an event instead
    referred_others = np.bincount(referred_by[referred_by >= 0], minlength=n) > 0

    return Lifecycle(
        start=start,
        as_of=as_of,
        lead_source=source,
        anonymous_only=anonymous,
        step=step,
        first_interaction_at=first,
        identified_at=np.where(identified, np.floor(ident), nan),
        mql_at=np.where(engaged, np.floor(mql), nan),
        evaluating_at=np.where(evaluating, np.floor(opp), nan),
        opportunity_created_at=np.where(evaluating & ~sql_only, np.floor(opp), nan),
        contract_signed_at=np.where(purchased, np.floor(signed), nan),
        purchased_at=purchased_at,
        first_success_at=first_success_at,
        upsell_at=upsell_at,
        first_survey_at=first_survey_at,
        nps_band=band,
        lapsed=lapsed,
        at_risk=at_risk,
        activity_end=activity_end,
        referred_by=referred_by,
        referred_others=referred_others,
    )
