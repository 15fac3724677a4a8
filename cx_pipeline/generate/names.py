"""How people's names get written by each department, with variants and typos.

Clean forms: Japanese "田中 太郎" (family first), Western "John Smith". Variants are what a person
or an operator really types: katakana readings, half-width kana from legacy systems, romaji, old kanji
forms (髙橋 for 高橋), full-width letters, "Smith, John", swapped first/last fields.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.context import Context
from cx_pipeline.generate.text import cat, fullwidth, halfwidth_kana, has_old_kanji_form, old_kanji, typo

_NAME_COLUMNS = ("family", "given", "family_kana", "given_kana", "family_latin", "given_latin", "country")
N_JA_VARIANTS = 6
N_WEST_VARIANTS = 5


def _pick(code: pl.Expr, options: list[pl.Expr]) -> pl.Expr:
    expr = pl.when(code == 0).then(options[0])
    for k, option in enumerate(options[1:], start=1):
        expr = expr.when(code == k).then(option)
    return expr.otherwise(options[0])


def _variant_codes(ctx: Context, rng: np.random.Generator, frame: pl.DataFrame) -> pl.Series:
    """-1 = clean; otherwise a variant index valid for the person's script."""
    n = frame.height
    jp = frame["country"].to_numpy() == "JP"
    code = np.where(jp, rng.integers(0, N_JA_VARIANTS, n), rng.integers(0, N_WEST_VARIANTS, n))
    return pl.Series(np.where(rng.random(n) < ctx.noise.name_variant, code, -1))


def full_names(ctx: Context, source: str, pidx: np.ndarray, kana_convention: np.ndarray | None = None) -> pl.Series:
    """One display name per row. `kana_convention` rows are written in katakana on purpose
    (Japanese phone operators type the reading they hear), which is not counted as noise."""
    rng = ctx.rng(f"{source}/full_names")
    frame = ctx.people(pidx, *_NAME_COLUMNS)
    n = frame.height
    conv = np.zeros(n, dtype=bool) if kana_convention is None else kana_convention
    f, g = pl.col.family, pl.col.given
    fk, gk, fl, gl = pl.col.family_kana, pl.col.given_kana, pl.col.family_latin, pl.col.given_latin
    katakana = cat(fk, " ", gk)
    ja_clean = cat(f, " ", g)
    ja = [
        katakana,
        halfwidth_kana(katakana),
        cat(gl, " ", fl),
        cat(fl.str.to_uppercase(), " ", gl),
        pl.when(has_old_kanji_form(ja_clean)).then(old_kanji(ja_clean)).otherwise(cat(f, g)),
        cat(f, "\u3000", g),
    ]
    west_clean = cat(g, " ", f)
    west = [
        west_clean.str.to_uppercase(),
        cat(f, ", ", g),
        cat(g.str.slice(0, 1), ". ", f),
        fullwidth(west_clean),
        west_clean.str.to_lowercase(),
    ]
    code = pl.col._code
    is_jp = pl.col.country == "JP"
    clean = pl.when(pl.col._conv).then(katakana).when(is_jp).then(ja_clean).otherwise(west_clean)
    varied = pl.when(is_jp).then(_pick(code, ja)).otherwise(_pick(code, west))
    out = (
        frame.with_columns(_code=_variant_codes(ctx, rng, frame), _conv=pl.Series(conv))
        .with_columns(_clean=clean)
        .with_columns(_name=pl.when((code >= 0) & ~pl.col._conv).then(varied).otherwise(pl.col._clean))
    )
    ctx.log.add(source, "name_variant", out.select((pl.col._name != pl.col._clean).sum()).item())
    return _with_typos(ctx, rng, source, out["_name"])


def split_names(ctx: Context, source: str, pidx: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """(first_name, last_name) as typed into a CRM form."""
    rng = ctx.rng(f"{source}/split_names")
    frame = ctx.people(pidx, *_NAME_COLUMNS)
    f, g = pl.col.family, pl.col.given
    fk, gk, fl, gl = pl.col.family_kana, pl.col.given_kana, pl.col.family_latin, pl.col.given_latin
    both_old = has_old_kanji_form(cat(f, g))
    ja_first = [gk, halfwidth_kana(gk), gl, gl, pl.when(both_old).then(old_kanji(g)).otherwise(gk), g]
    ja_last = [
        fk,
        halfwidth_kana(fk),
        fl,
        fl.str.to_uppercase(),
        pl.when(both_old).then(old_kanji(f)).otherwise(fk),
        cat(f, "\u3000"),
    ]
    west_first = [g.str.to_uppercase(), f, cat(g.str.slice(0, 1), "."), fullwidth(g), g.str.to_lowercase()]
    west_last = [f.str.to_uppercase(), g, f, fullwidth(f), f.str.to_lowercase()]
    code = pl.col._code
    is_jp = pl.col.country == "JP"
    noisy = code >= 0
    out = frame.with_columns(_code=_variant_codes(ctx, rng, frame)).with_columns(
        _first=pl.when(noisy & is_jp)
        .then(_pick(code, ja_first))
        .when(noisy)
        .then(_pick(code, west_first))
        .otherwise(g),
        _last=pl.when(noisy & is_jp).then(_pick(code, ja_last)).when(noisy).then(_pick(code, west_last)).otherwise(f),
    )
    changed = out.select(((pl.col._first != g) | (pl.col._last != f)).sum()).item()
    ctx.log.add(source, "name_variant", changed)
    return out["_first"], _with_typos(ctx, rng, source, out["_last"])


def _with_typos(ctx: Context, rng: np.random.Generator, source: str, names: pl.Series) -> pl.Series:
    n = len(names)
    hit = rng.random(n) < ctx.noise.name_typo
    frame = pl.DataFrame({"s": names, "hit": hit, "k": rng.integers(0, 3, n), "p": rng.random(n)})
    out = frame.select(
        pl.when(pl.col.hit).then(typo(pl.col.s, pl.col.k, pl.col.p)).otherwise(pl.col.s).alias("t"),
        pl.col.s,
    )
    ctx.log.add(source, "name_typo", out.select((pl.col.t != pl.col.s).sum()).item())
    return out["t"]
