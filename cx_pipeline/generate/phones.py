"""Phone numbers: valid-looking numbers per country, kept as parts so any written format can be rendered.

Parts: country code, trunk prefix, area code, and two subscriber groups. The true value is E.164.
National formats are only written for Japanese numbers: the registry reads numbers without a country
code as JP (`phone_default_region`), so a national US number would be a different number there.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.text import cat, fullwidth

COUNTRY_CODES = {"JP": "81", "US": "1", "GB": "44", "DE": "49"}
TRUNK = {"JP": "0", "US": "", "GB": "0", "DE": "0"}

# (area code, digits in first group, digits in second group[, allowed first digits of the first group])
# chosen so that `phonenumbers.is_valid_number` accepts every generated number
_JP_MOBILE = [("90", 4, 4), ("80", 4, 4), ("70", 4, 4)]
_JP_LANDLINE = [
    ("3", 4, 4),
    ("6", 4, 4),
    ("45", 3, 4),
    ("52", 3, 4),
    ("92", 3, 4),
    ("11", 3, 4, "235678"),
    ("75", 3, 4),
]
_US = [(a, 3, 4) for a in ("212", "310", "312", "415", "512", "617", "646", "206", "303", "404", "305", "713")]
_GB_MOBILE = [(f"7{d}", 3, 3) for d in ("400", "500", "800", "900", "723", "834")]
_GB_LANDLINE = [("20", 4, 4, "378"), ("121", 3, 4, "234567"), ("161", 3, 4), ("131", 3, 4, "2345678")]
_DE_MOBILE = [(a, 4, 4) for a in ("151", "152", "160", "170", "171", "176")]
_DE_LANDLINE = [("30", 4, 4), ("40", 4, 4), ("89", 4, 4), ("69", 4, 4)]
PLANS = {
    "JP": (_JP_MOBILE, _JP_LANDLINE),
    "US": (_US, _US),
    "GB": (_GB_MOBILE, _GB_LANDLINE),
    "DE": (_DE_MOBILE, _DE_LANDLINE),
}

# Placeholder numbers that people type into required phone fields
PLACEHOLDER_PHONES = np.array(["0000000000", "000-0000-0000", "1111111111", "090-0000-0000", "03-0000-0000"])


def make_phones(rng: np.random.Generator, countries: np.ndarray, mobile: np.ndarray) -> pl.DataFrame:
    """One distinct phone number per row: columns cc, trunk, area, a, b and e164."""
    n = len(countries)
    area = np.empty(n, dtype=object)
    first = np.zeros(n, dtype=np.int64)
    wa = np.zeros(n, dtype=np.int64)
    wb = np.zeros(n, dtype=np.int64)
    for country, (mobile_plan, land_plan) in PLANS.items():
        for is_mobile, plan in ((True, mobile_plan), (False, land_plan)):
            rows = np.flatnonzero((countries == country) & (mobile == is_mobile))
            which = rng.integers(0, len(plan), size=len(rows))
            for k, entry in enumerate(plan):
                sub = rows[which == k]
                area[sub] = entry[0]
                wa[sub], wb[sub] = entry[1], entry[2]
                allowed = np.array([int(d) for d in (entry[3] if len(entry) > 3 else "23456789")])
                first[sub] = allowed[rng.integers(0, len(allowed), size=len(sub))]
    # first group: allowed first digit + random rest; second group: any digits
    a = first * 10 ** (wa - 1) + rng.integers(0, 10**6, size=n) % (10 ** (wa - 1))
    b = rng.integers(0, 10**6, size=n) % (10**wb)
    frame = pl.DataFrame(
        {
            "cc": pl.Series(countries).replace_strict(COUNTRY_CODES, return_dtype=pl.String),
            "trunk": pl.Series(countries).replace_strict(TRUNK, return_dtype=pl.String),
            "area": pl.Series(area.astype(str)),
            "a": pl.Series(a).cast(pl.String),
            "b": pl.Series(b).cast(pl.String).str.zfill(pl.Series(wb)),
        }
    ).with_columns(e164=cat("+", pl.col.cc, pl.col.area, pl.col.a, pl.col.b))
    # redraw the last group until every number is distinct (a handful of rows, a round or two)
    for _ in range(20):
        dup = frame.select(pl.col.e164.is_duplicated() & (pl.int_range(pl.len()).over("e164") > 0)).to_series()
        rows = np.flatnonzero(dup.to_numpy())
        if len(rows) == 0:
            break
        new_b = pl.Series(rng.integers(0, 10**6, size=len(rows)) % (10 ** wb[rows])).cast(pl.String)
        new_b = new_b.str.zfill(pl.Series(wb[rows]))
        b_col = frame["b"].scatter(rows, new_b)
        frame = frame.with_columns(b=b_col).with_columns(e164=cat("+", pl.col.cc, pl.col.area, pl.col.a, pl.col.b))
    return frame


# Written formats. Japanese numbers get national forms too; others only international ones.
JP_FORMATS = (
    "national_dashed",
    "national_digits",
    "national_parens",
    "national_paren_area",
    "intl_spaced",
    "intl_dashed",
)
OTHER_FORMATS = ("intl_spaced", "intl_dashed", "intl_us_parens")


def format_expr(style: str, cc="cc", trunk="trunk", area="area", a="a", b="b") -> pl.Expr:
    cc, trunk, area, a, b = (pl.col(c) for c in (cc, trunk, area, a, b))
    return {
        "e164": cat("+", cc, area, a, b),
        "intl_spaced": cat("+", cc, " ", area, " ", a, " ", b),
        "intl_dashed": cat("+", cc, "-", area, "-", a, "-", b),
        "intl_us_parens": cat("+", cc, " (", area, ") ", a, "-", b),
        "national_dashed": cat(trunk, area, "-", a, "-", b),
        "national_digits": cat(trunk, area, a, b),
        "national_parens": cat(trunk, area, "(", a, ")", b),
        "national_paren_area": cat("(", trunk, area, ") ", a, "-", b),
    }[style]


def fullwidth_expr(is_jp: pl.Expr) -> pl.Expr:
    """'０３－１２３４－５６７８' for Japanese numbers, full-width international form for others."""
    return fullwidth(pl.when(is_jp).then(format_expr("national_dashed")).otherwise(format_expr("intl_spaced")))
