"""A tenant's purchases as a transaction log for the CLV models, and per-customer figures summed by acquisition.

The log is every order with a revenue status (:data:`pulso.store.models.silver.REVENUE_STATUSES`) that has a
contact, one row per order: the customer (the contact, or the contact it was merged into), the time and the
amount. :mod:`pulso.ml.clv` turns it into frequency, recency and age; :func:`by_acquisition` groups per-customer
predictions by the customers' first-touch channel or campaign.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pandas as pd
from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import aliased

from pulso.metrics.columns import fetch_columns, fetch_frame
from pulso.store.models import Contact, Order
from pulso.store.models.silver import REVENUE_STATUSES
from pulso.store.session import PulsoSession
from pulso.store.sqltime import epoch_ms

Acquisition = Literal["first_touch_channel", "first_touch_campaign"]
NO_VALUE = "(none)"


def purchase_log(session: PulsoSession, until: datetime | None = None) -> pd.DataFrame:
    """Columns customer (contact id), at (UTC timestamp) and value (float), ordered by customer and time; only
    orders placed before ``until`` when it is given."""
    owner = aliased(Contact)
    customer = func.coalesce(owner.merged_into_id, owner.id)
    query = (
        select(
            customer.label("customer"),
            epoch_ms(session, Order.ordered_at).label("at"),
            cast(Order.amount, Float).label("value"),
        )
        .join(owner, owner.id == Order.contact_id)
        .where(Order.status.in_(REVENUE_STATUSES))
    )
    if until is not None:
        query = query.where(Order.ordered_at < until)
    log = fetch_frame(session, query, {"customer": "int64", "at": "int64", "value": "float64"})
    log["at"] = pd.to_datetime(log["at"], unit="ms", utc=True)
    return log.sort_values(["customer", "at"], kind="stable").reset_index(drop=True)


def by_acquisition(session: PulsoSession, per_customer: pd.DataFrame, by: Acquisition) -> pd.DataFrame:
    """``per_customer`` (indexed by contact id, numeric columns) grouped by the contacts' ``by``: customers, and
    each column's sum and mean; customers without a value fall in '(none)'. Largest total first."""
    if by not in ("first_touch_channel", "first_touch_campaign"):
        raise ValueError(f"by: must be first_touch_channel or first_touch_campaign, got {by!r}")
    column = getattr(Contact, by)
    found = fetch_columns(session, select(Contact.id.label("id"), column.label("g")), {"id": "int64", "g": "object"})
    groups = pd.Series(found["g"], index=found["id"]).reindex(per_customer.index).fillna(NO_VALUE)
    numeric = per_customer.select_dtypes("number")
    table = numeric.groupby(groups.to_numpy()).agg(["sum", "mean"])
    table.columns = ["_".join(map(str, pair)) for pair in table.columns.to_flat_index()]
    table.insert(0, "customers", per_customer.groupby(groups.to_numpy()).size())
    table.index.name = by
    first = table.columns[1] if len(table.columns) > 1 else "customers"
    return table.sort_values([first, "customers"], ascending=False)
