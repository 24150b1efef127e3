"""A small synthetic tenant for the CLV service, job, data function and API tests: 40 customers over 200 days up to
NOW, about half of them buying again, with first-touch channels and campaigns, and the same log as a frame."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from pulso.store.models import Contact, Order
from pulso.store.session import tenant_session

NOW = datetime(2025, 6, 1, 15, tzinfo=UTC)  # 12:00 in São Paulo
CUSTOMERS = 40
CHANNELS = ("google", "meta", None)
CAMPAIGNS = ("gestao", None)


def purchases(seed: int = 3) -> pd.DataFrame:
    """Columns customer (0..39, the i-th contact), at (UTC, before NOW) and value: each customer's first purchase
    in the 200 days before NOW, then Poisson repeat purchases at its own rate until it drops out."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, datetime, float]] = []
    for customer in range(CUSTOMERS):
        first = rng.uniform(0, 200)
        rate, mean_value = rng.gamma(1.5, 1 / 40), rng.gamma(4.0, 25.0)
        lifetime = rng.exponential(120)
        day = first
        while day < 200 and day - first <= lifetime:
            at = NOW - timedelta(days=200) + timedelta(days=day)
            rows.append((customer, at, round(float(rng.gamma(6.0, mean_value / 6.0)), 2)))
            day += rng.exponential(1 / rate)
    return pd.DataFrame(rows, columns=["customer", "at", "value"])


def seed_tenant(tenant_id: int, log: pd.DataFrame | None = None) -> dict[int, int]:
    """Contacts and completed orders of ``log`` (default :func:`purchases`), plus a cancelled order and a contact
    without orders that the models must not count. Returns customer number -> contact id."""
    log = purchases() if log is None else log
    with tenant_session(tenant_id) as session:
        contacts = [
            Contact(
                name=f"Customer {n}",
                first_touch_channel=CHANNELS[n % len(CHANNELS)],
                first_touch_campaign=CAMPAIGNS[n % len(CAMPAIGNS)],
            )
            for n in range(CUSTOMERS)
        ]
        browser = Contact(name="Only browsing", first_touch_channel="google")
        session.add_all([*contacts, browser])
        session.flush()
        ids = {n: contact.id for n, contact in enumerate(contacts)}
        for n, row in enumerate(log.itertuples(index=False)):
            session.add(
                Order(
                    external_id=f"o{n}",
                    contact_id=ids[int(row.customer)],
                    amount=Decimal(f"{row.value:.2f}"),
                    ordered_at=row.at,
                )
            )
        session.add(
            Order(external_id="void", contact_id=ids[0], amount=Decimal("999"), ordered_at=NOW, status="cancelled")
        )
    return ids


def contact_log(log: pd.DataFrame, ids: dict[int, int]) -> pd.DataFrame:
    """``log`` with customers as contact ids and times as pandas UTC timestamps, as purchase_log returns it."""
    return pd.DataFrame(
        {"customer": log["customer"].map(ids).astype("int64"), "at": pd.to_datetime(log["at"], utc=True),
         "value": log["value"]}
    )  # fmt: skip
