"""One builder per registry source. Order matters only where a channel reads another's decisions
(the CRM reads e-mail unsubscribes)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from cx_pipeline.generate.channels import app, crm, email, orders, referrals, support, surveys, usage, users, web
from cx_pipeline.generate.context import Context

BUILDERS: dict[str, Callable[[Context], pl.DataFrame]] = {
    "email_events": email.build,
    "crm_contacts": crm.build,
    "web_events": web.build,
    "app_events": app.build,
    "orders": orders.build,
    "support_cases": support.build,
    "product_usage": usage.build,
    "product_users": users.build,
    "partner_referrals": referrals.build,
    "surveys": surveys.build,
}
