"""The churn frame: one row per customer with RFM and engagement features as of a time, and whether they churned.

A customer is a contact with at least one purchase (:func:`pulso.ml.purchases.purchase_log`) before ``as_of``.
Features use only what happened before ``as_of``. ``churned`` is 1 when the customer made no purchase in
``(as_of, as_of + horizon]``, 0 when they did, and missing (NaN) when that period is not over by ``now`` (scoring
rows). Training uses ``as_of = now - horizon``; scoring uses ``as_of = now``. Definitions: :data:`FEATURES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from pulso.metrics.columns import fetch_frame
from pulso.ml.purchases import purchase_log
from pulso.store.models import Conversation, Feedback, Message
from pulso.store.session import PulsoSession
from pulso.store.sqltime import epoch_ms

FEATURES = {
    "recency_days": "Days from the last purchase to as_of.",
    "frequency": "Repeat purchases: distinct purchase days before as_of, minus one.",
    "monetary_mean": "Mean purchase value before as_of.",
    "total_value": "Sum of purchase values before as_of.",
    "tenure_days": "Days from the first purchase to as_of.",
    "purchases_last_90_days": "Purchases in the 90 days before as_of.",
    "messages_last_30_days": "Messages from the customer in the 30 days before as_of.",
    "days_since_last_message": "Days from the customer's last message to as_of (missing without one).",
    "last_nps": "The customer's latest NPS answer (0-10) before as_of.",
    "last_csat": "The customer's latest CSAT answer (1-5) before as_of.",
}
MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class ChurnFrameParams:
    as_of: datetime
    now: datetime
    horizon: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is None or self.now.tzinfo is None:
            raise ValueError("as_of, now: timezone-aware times")
        if self.as_of > self.now:
            raise ValueError("as_of: not after now")
        if self.horizon < timedelta(days=1):
            raise ValueError("horizon: at least one day")


def churn_frame(session: PulsoSession, params: ChurnFrameParams) -> pd.DataFrame:
    """Indexed by contact_id (the customer): the :data:`FEATURES` and ``churned`` (1/0/NaN)."""
    log = purchase_log(session, until=params.now)
    as_of = pd.Timestamp(params.as_of)
    before, after = log[log["at"] < as_of], log[log["at"] >= as_of]
    grouped = before.groupby("customer")
    frame = pd.DataFrame(index=pd.Index(sorted(before["customer"].unique()), name="contact_id"))
    frame["recency_days"] = _days(as_of - grouped["at"].max())
    frame["frequency"] = grouped["at"].agg(lambda at: at.dt.floor("D").nunique() - 1)
    frame["monetary_mean"] = grouped["value"].mean()
    frame["total_value"] = grouped["value"].sum()
    frame["tenure_days"] = _days(as_of - grouped["at"].min())
    recent = before[before["at"] >= as_of - pd.Timedelta(days=90)].groupby("customer").size()
    frame["purchases_last_90_days"] = recent.reindex(frame.index, fill_value=0).astype(int)
    _engagement(session, frame, params)
    bought_again = set(after[after["at"] <= as_of + pd.Timedelta(params.horizon)]["customer"])
    observable = params.as_of + params.horizon <= params.now
    churned = ~frame.index.isin(list(bought_again))
    frame["churned"] = np.where(observable, churned.astype(float), np.nan)
    return frame


def _days(delta: pd.Series) -> pd.Series:
    days: pd.Series = delta.dt.total_seconds() / 86400
    return days


def _engagement(session: PulsoSession, frame: pd.DataFrame, params: ChurnFrameParams) -> None:
    as_of_ms = int(params.as_of.timestamp() * 1000)
    m = Message
    messages = fetch_frame(
        session,
        select(Conversation.contact_id.label("contact"), epoch_ms(session, m.created_at).label("at"))
        .join(Conversation, Conversation.id == m.conversation_id)
        .where(m.direction == "incoming", Conversation.contact_id.is_not(None), m.created_at < params.as_of),
        {"contact": "int64", "at": "int64"},
    )
    recent = messages[messages["at"] >= as_of_ms - 30 * MS_PER_DAY].groupby("contact").size()
    frame["messages_last_30_days"] = recent.reindex(frame.index, fill_value=0).astype(int)
    last = messages.groupby("contact")["at"].max().reindex(frame.index)
    frame["days_since_last_message"] = (as_of_ms - last) / MS_PER_DAY
    f = Feedback
    answers = fetch_frame(
        session,
        select(f.contact_id.label("contact"), f.kind, f.score, epoch_ms(session, f.answered_at).label("at")).where(
            f.contact_id.is_not(None), f.answered_at < params.as_of
        ),
        {"contact": "int64", "kind": "object", "score": "float64", "at": "int64"},
    ).sort_values(["at"], kind="stable")
    for kind in ("nps", "csat"):
        latest = answers[answers["kind"] == kind].drop_duplicates("contact", keep="last").set_index("contact")
        frame[f"last_{kind}"] = latest["score"].reindex(frame.index)
