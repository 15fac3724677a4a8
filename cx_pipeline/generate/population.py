"""Companies and the people who work for them: true names, e-mails, phones, logins and journeys.

Row i of `Population.people` is person index i everywhere in the generator (`_pidx` in channel frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from cx_pipeline.generate.config import GeneratorConfig
from cx_pipeline.generate.lifecycle import Lifecycle, draw_lifecycle
from cx_pipeline.generate.phones import make_phones
from cx_pipeline.generate.pools import FAKER_LOCALES, JA_LEGAL_FORM_SHARES, JA_LEGAL_FORMS, Pools
from cx_pipeline.generate.randomness import choice_index, pick, stream, tokens, unique_numbers
from cx_pipeline.generate.text import cat, ids, padded

TLD = {"JP": ".co.jp", "US": ".com", "GB": ".co.uk", "DE": ".de"}
PERSONAL_PROVIDERS = {
    "JP": ["gmail.com", "yahoo.co.jp", "icloud.com", "docomo.ne.jp", "ezweb.ne.jp"],
    "US": ["gmail.com", "outlook.com", "yahoo.com", "icloud.com"],
    "GB": ["gmail.com", "outlook.com", "btinternet.com", "icloud.com"],
    "DE": ["gmail.com", "web.de", "gmx.de", "t-online.de"],
}
# How a company builds work addresses; one convention per company.
EMAIL_PATTERNS = ("given.family", "g.family", "family.given", "familyg", "gfamily", "family-g")


@dataclass
class Population:
    people: pl.DataFrame
    companies: pl.DataFrame
    life: Lifecycle

    @property
    def size(self) -> int:
        return self.people.height


def _company_countries(rng: np.random.Generator, sizes: np.ndarray, config: GeneratorConfig) -> np.ndarray:
    """Country per company such that the *people* split matches the configured shares: companies in
    random order fill the shares by head count (drawing per company would let a few big accounts skew it)."""
    names = ["JP"] + [c for c, _ in config.western_countries]
    western = np.array([w for _, w in config.western_countries], dtype=float)
    shares = np.r_[config.japanese_share, (1 - config.japanese_share) * western / western.sum()]
    order = rng.permutation(len(sizes))
    midpoint = (np.cumsum(sizes[order]) - sizes[order] / 2) / sizes.sum()
    country = np.empty(len(sizes), dtype=object)
    country[order] = np.array(names)[np.minimum(np.searchsorted(np.cumsum(shares), midpoint), len(names) - 1)]
    return country.astype(str)


def _dedupe(values: pl.Expr, suffix: pl.Expr, within: list[str] | None = None) -> pl.Expr:
    """Append a counter to the 2nd, 3rd... occurrence so identifiers stay one-per-entity."""
    seen = pl.int_range(pl.len()).over([values, *(pl.col(c) for c in within or [])])
    return pl.when(seen == 0).then(values).otherwise(cat(values, suffix, (seen + 1).cast(pl.String)))


def _companies(rng: np.random.Generator, sizes: np.ndarray, pools: Pools, config: GeneratorConfig) -> pl.DataFrame:
    n = len(sizes)
    country = _company_countries(rng, sizes, config)
    name = np.empty(n, dtype=object)
    base = np.empty(n, dtype=object)
    jp = np.flatnonzero(country == "JP")
    words, word_latin = pools.ja_company_words
    cats, cat_latin = pools.ja_company_categories
    w = rng.integers(0, len(words), len(jp))
    c = rng.integers(0, len(cats), len(jp))
    form = JA_LEGAL_FORMS[choice_index(rng, JA_LEGAL_FORM_SHARES, len(jp))]
    core = np.char.add(words[w], cats[c])
    name[jp] = np.where(rng.random(len(jp)) < 0.8, np.char.add(form, core), np.char.add(core, form))
    # half the domains use an abbreviation ("nks-denki"), as many Japanese firms do
    initials = tokens(rng, len(jp), 3, "base36")
    initials = np.char.translate(initials, str.maketrans("0123456789", "abcdefghkm"))
    stem = np.where(rng.random(len(jp)) < 0.5, word_latin[w], initials)
    base[jp] = np.char.add(np.char.add(stem, "-"), cat_latin[c])
    for ctry, pool in pools.companies.items():
        rows = np.flatnonzero(country == ctry)
        k = rng.integers(0, len(pool.names), len(rows))
        name[rows], base[rows] = pool.names[k], pool.slugs[k]
    tld = np.empty(n, dtype="<U6")
    for ctry, suffix in TLD.items():
        tld[country == ctry] = suffix
    tld[(country == "JP") & (rng.random(n) < 0.2)] = ".jp"
    postal = np.empty(n, dtype=object)
    for ctry in TLD:
        rows = np.flatnonzero(country == ctry)
        postal[rows] = pick(rng, pools.postcodes[ctry], len(rows))
    width = max(6, len(str(n)))
    return pl.DataFrame(
        {
            "company_name": name.astype(str),
            "company_country": country,
            "_domain_base": base.astype(str),
            "_tld": tld,
            "company_postal_code": postal.astype(str),
            "_email_pattern": rng.integers(0, len(EMAIL_PATTERNS), n),
        }
    ).with_columns(
        account_id=pl.lit(ids("ACC-", unique_numbers(rng, n, 1, 10**width), width)),
        # numbered per base name whatever the TLD, so no two companies share a domain
        company_domain=cat(_dedupe(pl.col._domain_base, pl.lit("")), pl.col._tld),
    )


def _assign_companies(rng: np.random.Generator, people: int, config: GeneratorConfig) -> tuple[np.ndarray, int]:
    """Skewed company sizes (lognormal weights): many small accounts, a few with dozens of people."""
    wanted = max(1, round(people / config.people_per_company))
    weights = rng.lognormal(0.0, 1.0, wanted)
    raw = rng.choice(wanted, size=people, p=weights / weights.sum())
    used, company = np.unique(raw, return_inverse=True)  # drop companies nobody works for
    return company.astype(np.int64), len(used)


def _names(rng: np.random.Generator, country: np.ndarray, pools: Pools) -> pl.DataFrame:
    n = len(country)
    cols = {
        k: np.empty(n, dtype=object)
        for k in ("family", "given", "family_kana", "given_kana", "family_latin", "given_latin")
    }
    for ctry, pool in pools.names.items():
        rows = np.flatnonzero(country == ctry)
        fi = choice_index(rng, pool.family_weight, len(rows))
        gi = rng.integers(0, len(pool.given), len(rows))
        cols["family"][rows], cols["given"][rows] = pool.family[fi], pool.given[gi]
        cols["family_latin"][rows], cols["given_latin"][rows] = pool.family_latin[fi], pool.given_latin[gi]
        if pool.family_kana is not None:
            cols["family_kana"][rows], cols["given_kana"][rows] = pool.family_kana[fi], pool.given_kana[gi]
    return pl.DataFrame({k: pl.Series(k, v.tolist(), dtype=pl.String) for k, v in cols.items()})


def _work_email_local(pattern: pl.Expr) -> pl.Expr:
    g = pl.col._given_ascii
    f = pl.col._family_ascii
    i = g.str.slice(0, 1)
    forms = [cat(g, ".", f), cat(i, ".", f), cat(f, ".", g), cat(f, i), cat(i, f), cat(f, "-", i)]
    expr = pl.when(pattern == 0).then(forms[0])
    for k, form in enumerate(forms[1:], start=1):
        expr = expr.when(pattern == k).then(form)
    return expr.otherwise(forms[0])


def build_population(seed: int, people: int, pools: Pools, config: GeneratorConfig) -> Population:
    rng = stream(seed, "population")
    company, n_companies = _assign_companies(rng, people, config)
    companies = _companies(stream(seed, "companies"), np.bincount(company, minlength=n_companies), pools, config)
    country = companies["company_country"].to_numpy()[company]

    names = _names(rng, country, pools)
    personal_provider = np.empty(people, dtype=object)
    for ctry, providers in PERSONAL_PROVIDERS.items():
        rows = np.flatnonzero(country == ctry)
        personal_provider[rows] = pick(rng, np.array(providers), len(rows))

    # people's phones (mostly mobiles) and company switchboards, drawn together so all are distinct
    phone_countries = np.concatenate([country, companies["company_country"].to_numpy()])
    mobile = np.concatenate([rng.random(people) < 0.65, np.zeros(n_companies, dtype=bool)])
    phones = make_phones(stream(seed, "phones"), phone_countries, mobile)
    person_phones = phones.slice(0, people)
    company_phone = phones["e164"].slice(people)
    companies = companies.with_columns(company_phone=company_phone)

    life = draw_lifecycle(stream(seed, "lifecycle"), people, config)
    width = max(7, len(str(people)))
    login_digits = padded(rng.integers(0, 100, people), 2)
    personal_digits = padded(rng.integers(0, 100, people), 2)
    has_personal = rng.random(people) < config.personal_email_share
    svc_width = max(6, len(str(people)))

    frame = pl.concat(
        [
            pl.DataFrame(
                {
                    "person_id": ids("P", np.arange(1, people + 1), width),
                    "_company": company,
                    "country": country,
                    "name_locale": pl.Series(country).replace_strict(FAKER_LOCALES, return_dtype=pl.String),
                    "_personal_provider": personal_provider.astype(str),
                    "_login_digits": login_digits,
                    "_personal_digits": personal_digits,
                    "_has_personal": has_personal,
                }
            ),
            names,
            person_phones.rename(lambda c: f"_phone_{c}"),
        ],
        how="horizontal",
    )
    frame = frame.join(
        companies.with_row_index("_company").with_columns(pl.col._company.cast(pl.Int64)),
        on="_company",
        how="left",
        maintain_order="left",
    )
    ascii_only = r"[^a-z]"
    frame = frame.with_columns(
        _given_ascii=pl.col.given_latin.str.to_lowercase().str.replace_all(ascii_only, ""),
        _family_ascii=pl.col.family_latin.str.to_lowercase().str.replace_all(ascii_only, ""),
    ).with_columns(
        _work_local=_work_email_local(pl.col._email_pattern),
        _personal_local=pl.when(pl.Series(rng.random(people) < 0.5))
        .then(cat(pl.col._given_ascii, ".", pl.col._family_ascii, pl.col._personal_digits))
        .otherwise(cat(pl.col._family_ascii, pl.col._given_ascii.str.slice(0, 1), pl.col._personal_digits)),
        _login=cat(pl.col._family_ascii, ".", pl.col._given_ascii.str.slice(0, 1), pl.col._login_digits),
    )
    frame = frame.with_columns(
        email=cat(_dedupe(pl.col._work_local, pl.lit(""), ["company_domain"]), "@", pl.col.company_domain),
        personal_email=pl.when(pl.col._has_personal).then(
            cat(_dedupe(pl.col._personal_local, pl.lit("_"), ["_personal_provider"]), "@", pl.col._personal_provider)
        ),
        app_login=pl.when(pl.Series(life.purchased)).then(_dedupe(pl.col._login, pl.lit("_"))),
        service_customer_no=pl.when(pl.Series(life.purchased)).then(
            pl.lit(ids("SVC-", unique_numbers(rng, people, 1, 10**svc_width), svc_width))
        ),
        phone=pl.col._phone_e164,
        postal_code=pl.col.company_postal_code,
        language=pl.when(pl.col.country == "JP").then(pl.lit("ja")).otherwise(pl.lit("en")),
    )
    return Population(people=frame, companies=companies, life=life)
