"""Vectorised text transforms used to render and disturb names, e-mails and phones (Polars expressions)."""

from __future__ import annotations

import unicodedata

import numpy as np
import polars as pl

# ASCII -> full-width forms (what Japanese IMEs produce when the user forgets to switch mode)
_ASCII = [chr(c) for c in range(0x21, 0x7F)]
_FULLWIDTH = [chr(c + 0xFEE0) for c in range(0x21, 0x7F)]


def _halfwidth_kana_table() -> tuple[list[str], list[str]]:
    """Full-width katakana -> half-width (ｶﾀｶﾅ), including voiced marks (ガ -> ｶﾞ): legacy systems store this."""
    full, half = [], []
    for code in range(0xFF66, 0xFF9E):
        h = chr(code)
        for mark in ("", "\uff9e", "\uff9f"):  # none, dakuten, handakuten
            composed = unicodedata.normalize("NFKC", h + mark)
            if len(composed) == 1 and composed not in full:
                full.append(composed)
                half.append(h + mark)
    full.append("ー")
    half.append("ｰ")
    return full, half


_KANA_FULL, _KANA_HALF = _halfwidth_kana_table()

# Old or variant kanji forms (異体字) seen in registered names: 高橋 / 髙橋, 渡辺 / 渡邊, 斎藤 / 齋藤 ...
ITAIJI = {
    "高": "髙",
    "辺": "邊",
    "斎": "齋",
    "崎": "﨑",
    "浜": "濱",
    "沢": "澤",
    "島": "嶋",
    "桜": "櫻",
    "広": "廣",
    "国": "國",
}


def fullwidth(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(_ASCII + [" "], _FULLWIDTH + ["\u3000"])


def halfwidth_kana(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(_KANA_FULL + ["\u3000"], _KANA_HALF + [" "])


def old_kanji(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(list(ITAIJI), list(ITAIJI.values()))


def has_old_kanji_form(expr: pl.Expr) -> pl.Expr:
    return expr.str.contains("[" + "".join(ITAIJI) + "]")


def typo(expr: pl.Expr, kind: pl.Expr, position: pl.Expr) -> pl.Expr:
    """A one-character slip: kind 0 drops, 1 doubles, 2 swaps with the next character.

    `position` is a fraction in [0, 1) mapped onto the string; strings shorter than 2 stay as they are.
    """
    length = expr.str.len_chars()
    p = (position * (length - 1).clip(lower_bound=1)).floor().cast(pl.Int64)
    head = expr.str.slice(0, p)
    drop = head + expr.str.slice(p + 1)
    double = expr.str.slice(0, p + 1) + expr.str.slice(p)
    swap = head + expr.str.slice(p + 1, 1) + expr.str.slice(p, 1) + expr.str.slice(p + 2)
    changed = pl.when(kind == 0).then(drop).when(kind == 1).then(double).otherwise(swap)
    return pl.when(length >= 2).then(changed).otherwise(expr)


def cat(*parts: str | pl.Expr) -> pl.Expr:
    """concat_str where plain strings are literals, not column names."""
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def padded(values: np.ndarray, width: int) -> pl.Series:
    """Integers as zero-padded strings."""
    return pl.Series(values, dtype=pl.Int64).cast(pl.String).str.zfill(width)


def ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Identifiers such as 'ACC-000123' from integers."""
    return pl.select(cat(prefix, pl.lit(padded(numbers, width)))).to_series()


def strings(values: np.ndarray, name: str = "") -> pl.Series:
    """A String series from a numpy array that may hold None (object arrays are not inferred reliably)."""
    if values.dtype.kind == "U":
        return pl.Series(name, values)
    return pl.Series(name, values.tolist(), dtype=pl.String)
