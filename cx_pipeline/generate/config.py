"""Knobs of the sample-data generator: calendar, population mix, funnel, volumes and noise rates.

Every default is a plain value so that a run is reproducible from (people, seed, config) alone:
no "today", no environment lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date

# Rates that describe the population rather than defects; `NoiseRates.scaled` leaves them alone.
_POPULATION_SHARES = ("anonymous_visitor", "support_phone_missing", "phone_format")


@dataclass(frozen=True)
class NoiseRates:
    """Probability of each kind of noise. Each kind is drawn independently from the seed and counted.

    Identifier noise applies per present value (one kind at most per value); bad-row kinds apply per
    row (one defect at most per row) and only where the source has a field the defect fits.
    """

    # -- identifier noise: the values stay usable, but need normalising or fuzzy matching
    email_case_whitespace: float = 0.06  # "Taro.Tanaka@X.co.jp", " taro.tanaka@x.co.jp "
    email_typo: float = 0.015  # dropped, doubled or swapped character in the local part
    phone_format: float = 0.30  # "03-1234-5678", "+81 3 1234 5678", "03(1234)5678" instead of E.164
    phone_fullwidth: float = 0.02  # "０３－１２３４－５６７８"
    name_variant: float = 0.08  # katakana, half-width kana, romaji, old kanji forms, "Smith, John", full-width
    name_typo: float = 0.015
    missing_identifier: float = 0.04  # optional email/phone left empty
    placeholder_email: float = 0.01  # test@example.com and friends
    placeholder_phone: float = 0.01  # 0000000000 and friends
    shared_email: float = 0.02  # info@<company domain>, shared by colleagues
    shared_phone: float = 0.02  # the company's switchboard number
    country_variant: float = 0.10  # "Japan", "日本", "JPN" instead of "JP"
    postal_format: float = 0.05  # "1000005", "〒100-0005"
    # -- population / entity level
    anonymous_visitor: float = 0.20  # share of people who only ever browse the web site anonymously
    crm_duplicate_contact: float = 0.03  # a second CRM contact (new crm_id) for the same person
    support_phone_missing: float = 0.25  # support cases without a phone: support stays partly siloed
    # -- row order and repeats
    duplicate_row: float = 0.01  # exact repeat of a row, same record id, later in the file
    out_of_order: float = 0.05  # row displaced from time order
    late_event: float = 0.01  # row arriving at the end of the file, long after its timestamp
    impossible_sequence: float = 0.003  # order before first interaction / usage before purchase
    # -- bad rows, for the ingestion to quarantine
    bad_date: float = 0.005  # unparseable date/timestamp text
    negative_amount: float = 0.01
    unknown_currency: float = 0.01  # e.g. "XXX"
    broken_json: float = 0.004  # truncated NDJSON line
    missing_required: float = 0.005  # a `required: true` field (never the record id) left empty
    out_of_range: float = 0.01  # csat 9, nps 12, negative minutes
    not_allowed_value: float = 0.004  # a value outside the field's `allowed:` list

    def scaled(self, factor: float) -> NoiseRates:
        """All defect rates multiplied by `factor` (capped at 0.5); population shares unchanged."""
        return replace(
            self,
            **{
                f.name: min(0.5, getattr(self, f.name) * factor)
                for f in fields(self)
                if f.name not in _POPULATION_SHARES
            },
        )

    @classmethod
    def none(cls) -> NoiseRates:
        """Clean data: no noise of any kind and no anonymous-only visitors."""
        return cls(**{f.name: 0.0 for f in fields(cls)})

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Funnel:
    """How far identified people are meant to go (a person stops earlier if the as-of date comes first),
    and what happens after the purchase."""

    # deepest step aimed for by identified people: lead, engaged (mql), evaluating (sql/opp), purchase
    target_shares: tuple[float, float, float, float] = (0.27, 0.20, 0.13, 0.40)
    # how identified people first reached us
    lead_sources: tuple[tuple[str, float], ...] = (
        ("web", 0.55),
        ("event", 0.12),
        ("partner", 0.12),
        ("referral", 0.06),
        ("outbound", 0.15),
    )
    mean_days_to_identify: float = 12.0  # web visitors: first visit -> form submit
    mean_days_to_mql: float = 20.0
    mean_days_to_opportunity: float = 25.0
    mean_days_to_purchase: float = 35.0
    sql_without_opportunity: float = 0.3  # evaluating people stuck at sql
    success_share: float = 0.85  # purchasers who ever reach successful use
    mean_days_to_success: float = 20.0
    lapse_share: float = 0.15
    lapse_days: int = 120  # no activity for this long after purchase = lapsed
    at_risk_share: float = 0.15  # successful users whose usage fades in the last months
    upsell_share: float = 0.35
    survey_share: float = 0.5  # successful users who answer the NPS survey


@dataclass(frozen=True)
class Volumes:
    """Average activity, tuned so that the default run writes ~5 source rows per person."""

    web_views_anonymous: float = 0.2  # extra page views after the first one
    web_views_per_step: tuple[float, float, float, float] = (0.2, 0.4, 0.8, 0.3)  # lead..customer
    email_sends_per_year: float = 0.8
    email_open_rate: float = 0.35
    email_click_rate: float = 0.3  # of opens
    email_unsubscribe_share: float = 0.05
    app_second_device_share: float = 0.15
    app_login_after_install: float = 0.6
    app_events_per_month: float = 0.05
    usage_days_per_month: float = 0.12
    support_cases_per_year: float = 0.3
    add_on_orders_per_year: float = 0.05
    second_survey_share: float = 0.3


@dataclass(frozen=True)
class GeneratorConfig:
    start: date = date(2024, 1, 1)  # first possible interaction
    as_of: date = date(2026, 6, 30)  # nothing happens after this day (Asia/Tokyo)
    japanese_share: float = 0.6
    western_countries: tuple[tuple[str, float], ...] = (("US", 0.5), ("GB", 0.25), ("DE", 0.25))
    people_per_company: float = 5.0  # mean; sizes are skewed (a few large accounts)
    personal_email_share: float = 0.3  # people who also use a private address somewhere
    funnel: Funnel = field(default_factory=Funnel)
    volumes: Volumes = field(default_factory=Volumes)
    noise: NoiseRates = field(default_factory=NoiseRates)
