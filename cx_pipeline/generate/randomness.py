"""Seeded random streams and small vectorised sampling helpers.

Each part of the generator draws from its own named stream, so changing how one source is built
does not shift the random numbers of every other source.
"""

from __future__ import annotations

import zlib

import numpy as np

_TOKEN_ALPHABET = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_HEX_ALPHABET = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent generator for one named part of the run (crc32, not hash(): stable across runs)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def tokens(rng: np.random.Generator, n: int, length: int, alphabet: str = "base36") -> np.ndarray:
    """n random fixed-length strings, built as a numpy unicode array without a Python loop."""
    chars = _HEX_ALPHABET if alphabet == "hex" else _TOKEN_ALPHABET
    codes = chars[rng.integers(0, len(chars), size=(n, length))].astype(np.uint32)
    return np.ascontiguousarray(codes).view(f"<U{length}").ravel()


def unique_numbers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """n distinct integers in [low, high), in random order."""
    if high - low < n:
        raise ValueError(f"cannot draw {n} distinct numbers from [{low}, {high})")
    return rng.choice(high - low, size=n, replace=False).astype(np.int64) + low


def choice_index(rng: np.random.Generator, shares: np.ndarray | list[float], n: int) -> np.ndarray:
    """n category indexes drawn with the given (normalised) shares."""
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def pick(rng: np.random.Generator, pool: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """n values sampled from a pool (with replacement)."""
    if weights is None:
        return pool[rng.integers(0, len(pool), size=n)]
    return pool[choice_index(rng, weights, n)]


def counts_to_owners(counts: np.ndarray) -> np.ndarray:
    """Expand per-owner counts into one owner index per item: [2, 0, 1] -> [0, 0, 2]."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)
