"""product_users: the product's user directory, one row per login.

Every customer gets a login when the contract is signed, provisioned by the customer's admin with
the work address the product sends invitations to. It is what ties the usage log and the app's
logins to a known person, as the user table of any SaaS product does. Provisioning is the
company's act, not the person's activity.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cx_pipeline.generate.channels.common import bookkeeping, contact_emails, utc
from cx_pipeline.generate.context import Context
from cx_pipeline.generate.lifecycle import DAY
from cx_pipeline.generate.names import full_names

ADMIN_SHARE = 0.15


def build(ctx: Context) -> pl.DataFrame:
    rng = ctx.rng("product_users")
    life = ctx.pop.life
    users = np.flatnonzero(life.purchased)
    # provisioned within a few days of the purchase, never after the person's last activity
    created = np.floor(np.minimum(life.purchased_at[users] + rng.random(len(users)) * 3 * DAY, life.as_of))
    people = ctx.people(users, "app_login", "account_id")
    return pl.DataFrame(
        {
            "login": people["app_login"],
            "account_id": people["account_id"],
            "email": contact_emails(ctx, rng, users, 0.05),
            "display_name": full_names(ctx, "product_users", users),
            "role": np.where(rng.random(len(users)) < ADMIN_SHARE, "admin", "member"),
            "created_at": utc(created),
            **bookkeeping(users, created, activity=False),
        }
    )
