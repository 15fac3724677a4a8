"""app_events: the mobile app, keyed by device; the app login appears on login and feature events.

Only customers have the app. A device is installed soon after the purchase, then logged in with the
same login the product usage log records; some logins also carry the account e-mail.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import MONTH, bookkeeping, contact_emails, events_between, poisson, span, utc
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY
from cx_pipeline.generate.randomness import choice_index, counts_to_owners, tokens


def _device_ids(rng: np.random.Generator, ios: np.ndarray) -> np.ndarray:
    """iOS vendor ids look like upper-case UUIDs, Android ids like 16 hex digits."""
    h = tokens(rng, len(ios), 32, "hex")
    groups = [_slice(h, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
    uuid = groups[0]
    for group in groups[1:]:
        uuid = np.char.add(np.char.add(uuid, "-"), group)
    return np.where(ios, np.char.upper(uuid), _slice(h, 0, 16))


def _slice(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Fixed-position substring of a fixed-width numpy unicode array, without a Python loop."""
    width = values.dtype.itemsize // 4
    codes = values.view(np.uint32).reshape(-1, width)[:, start:stop]
    return np.ascontiguousarray(codes).view(f"<U{stop - start}").ravel()


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("app_events")
    life = ctx.pop.life
    vol = ctx.config.volumes
    users = np.flatnonzero(life.purchased)
    jp = ctx.people(users, "country")["country"].to_numpy() == "JP"

    # devices: one, sometimes two (phone + tablet)
    n_dev = 1 + (rng.random(len(users)) < vol.app_second_device_share)
    dev_owner = counts_to_owners(n_dev)  # index into users
    dev_user = users[dev_owner]
    ios = rng.random(len(dev_owner)) < np.where(jp[dev_owner], 0.6, 0.5)
    device_id = _device_ids(rng, ios)
    start, end = life.purchased_at[dev_user], life.activity_end[dev_user]
    second = np.r_[False, dev_owner[1:] == dev_owner[:-1]]
    delay = np.where(
        second,
        rng.random(len(dev_owner)),
        rng.random(len(dev_owner)) * np.minimum(1.0, 10 * DAY / np.maximum(span(start, end), 1)),
    )
    install = np.floor(start + delay * span(start, end))
    login = np.minimum(install + 30 + np.floor(rng.random(len(install)) * 600), np.maximum(end, install))

    # later opens, feature use and re-logins over the device's life, fading for at-risk customers
    counts = poisson(rng, vol.app_events_per_month * span(install, end) / MONTH)
    dev_idx, t = events_between(rng, np.arange(len(dev_owner)), counts, install, end, fading=life.at_risk[dev_user])
    kind = np.array(["app_open", "feature_used", "login"])[choice_index(rng, [0.5, 0.4, 0.1], len(dev_idx))]

    logs_in = np.flatnonzero(rng.random(len(dev_owner)) < vol.app_login_after_install)
    device = np.concatenate([np.arange(len(dev_owner)), logs_in, dev_idx])
    ts = np.concatenate([install, login[logs_in], t])
    event_type = np.concatenate([np.full(len(install), "app_install"), np.full(len(logs_in), "login"), kind])
    pidx = dev_user[device]
    m = len(pidx)

    people = ctx.people(pidx, "app_login")
    with_login = np.isin(event_type, ["login", "feature_used"])
    email = contact_emails(ctx, rng, pidx, 0.1)
    with_email = (event_type == "login") & (rng.random(m) < 0.5)
    uuid = np.char.lower(_device_ids(rng, np.ones(m, dtype=bool)))
    return pl.DataFrame(
        {
            "event_id": uuid,
            "device_id": device_id[device],
            "app_login": people.select(pl.when(pl.lit(pl.Series(with_login))).then(pl.col.app_login)).to_series(),
            "account_email": pl.select(pl.when(pl.lit(pl.Series(with_email))).then(pl.lit(email))).to_series(),
            "event_type": event_type,
            "event_ts": utc(ts),
            "platform": np.where(ios[device], "ios", "android"),
            **bookkeeping(pidx, ts),
        }
    )
