"""The score updater: keeps the activity lead scores fresh, incrementally (the ``gold.lead_scores`` job).

A run, for one tenant at ``now``:

1. **Model.** An active version trained on imported attributes (``--target``) is the user's choice: the run
   leaves it alone and writes nothing. With no active version, or an activity version trained
   :data:`RETRAIN_AFTER` ago or more, it rebuilds the training frame and trains a new version (activated; same
   window, horizon and seed) —
   unless the frame is the very one the active version was trained on (same sha256: nothing new to learn), or
   the active version is not the newest (a rollback with ``pulso train activate``: kept until a version is
   trained on demand).
   Too few finished leads is logged, not an error: the run goes on with the version it has, or writes nothing.
2. **Stale leads.** Every open lead is compared with its latest ``lead_scores`` row; it is rescored when
   - ``new``: it has no score yet;
   - ``model``: its latest score came from another version than the active one;
   - ``changed``: Pulso wrote something about it after that score: the contact row (``created_at``,
     ``updated_at``), one of its conversations (``synced_at``, stamped whenever the conversation or one of its
     messages is written; ``created_at`` when never stamped), the facts of one (``computed_at``), an AI insight on
     one (``created_at``), or one of its events (``received_at``). A write stamped before a run started but
     committed after the run read the data is seen at the lead's next change or age refresh only: rescanning a
     few minutes back, as ``gold.conversation_facts`` does, would rescore young leads whose score moves with the
     clock on every run, and the second of two runs in a row would write;
   - ``aged``: it was inside its window when last scored (``scored_at < started_at + window``: its age and its
     silence still move the score) and the time since that score is at least its age then, clipped to
     [:data:`MIN_REFRESH`, :data:`MAX_REFRESH`] — so an hour-old lead is rescored after an hour, a three-day-old
     one after a day, and one score is written after the window closes, after which only changes count.
3. **Scores.** Each rescored lead gets one appended ``lead_scores`` row (score, reasons, the version's id,
   ``scored_at = now``) — unless it was rescored for a change or its age and its score came out exactly as its
   latest (say, a message after its window closed): then nothing new is appended. Earlier rows stay as the lead's
   history. So a second run right after the first writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select

from pulso.errors import InvalidInputError, NotFoundError
from pulso.ml.lead_frame import LeadInputs, fetch_lead_inputs
from pulso.ml.leads import registry
from pulso.ml.leads.activity import (
    ActivityParams,
    is_activity,
    open_leads_frame,
    score_rows,
    train_on_frame,
    training_frame,
)
from pulso.ml.leads.train import data_hash
from pulso.store.models import (
    Contact,
    Conversation,
    ConversationFactsRow,
    ConversationInsight,
    Event,
    LeadScore,
    ModelVersion,
)
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

log = logging.getLogger(__name__)

RETRAIN_AFTER = timedelta(days=7)
MIN_REFRESH = timedelta(minutes=15)
MAX_REFRESH = timedelta(days=1)
STALE_REASONS = ("new", "model", "changed", "aged")


@dataclass(frozen=True)
class UpdateResult:
    version: ModelVersion | None
    trained: bool
    scored: int
    why: dict[str, int] = field(default_factory=dict)  # scores written, per stale reason
    note: str = ""
    unchanged: int = 0  # leads rescored for a change or their age whose score came out the same: not written

    @property
    def rows(self) -> int:
        """Rows written: the scores, plus the version when one was trained."""
        return self.scored + int(self.trained)


def update_lead_scores(session: PulsoSession, *, now: datetime | None = None) -> UpdateResult:
    """One run of the updater for the session's tenant (see the module docstring)."""
    now = now or utcnow()
    try:
        active: ModelVersion | None = registry.active_version(session)
    except NotFoundError:
        active = None
    if active is not None and not is_activity(active):
        return UpdateResult(active, False, 0, note=f"active version {active.version} is not an activity model")
    trained, note = False, ""
    inputs = fetch_lead_inputs(session)
    if active is None or (now - active.created_at >= RETRAIN_AFTER and _is_newest(session, active)):
        retrained, note = _retrain(session, active, now, inputs)
        if retrained is None and active is None:
            return UpdateResult(None, False, 0, note=note)
        trained, active = retrained is not None, retrained or active
    assert active is not None
    params = ActivityParams.of(active)
    frame = open_leads_frame(session, params, now, inputs)
    latest = latest_scores(session)
    why = stale_leads(session, frame, latest, active.id, params.window, now)
    rows = score_rows(session, active, frame[frame["contact_id"].isin(why.index)], now)
    written = [row for row in rows if not _same_as_before(row, why, latest)]
    if written:
        session.execute(insert(LeadScore), written)
    reasons = why.reindex([row["contact_id"] for row in written])
    counts = {reason: int((reasons == reason).sum()) for reason in STALE_REASONS if (reasons == reason).any()}
    return UpdateResult(active, trained, len(written), counts, note, unchanged=len(rows) - len(written))


def _same_as_before(row: dict[str, Any], why: pd.Series, latest: pd.DataFrame) -> bool:
    """A lead rescored for a change or its age whose score came out as its latest: nothing new to append."""
    contact = row["contact_id"]
    return bool(why[contact] in ("changed", "aged") and abs(row["score"] - latest.at[contact, "score"]) <= 1e-12)


def _is_newest(session: PulsoSession, active: ModelVersion) -> bool:
    """False after a rollback (an older version activated): the updater keeps it and does not retrain."""
    newest = session.scalar(select(func.max(ModelVersion.id)).where(ModelVersion.kind == active.kind))
    return bool(active.id == newest)


def _retrain(
    session: PulsoSession, active: ModelVersion | None, now: datetime, inputs: LeadInputs
) -> tuple[ModelVersion | None, str]:
    """A new active version, or None and why not."""
    params = ActivityParams.of(active) if active is not None else ActivityParams()
    seed = int(active.params.get("random_state", 0)) if active is not None else 0
    try:
        frame = training_frame(session, params, now, inputs, random_state=seed)
        if active is not None and data_hash(frame) == active.data_hash:
            return None, f"version {active.version} was trained on these very leads"
        saved = train_on_frame(session, frame, params, now, random_state=seed)
    except InvalidInputError as exc:
        log.warning("lead scores, tenant %s: not trained: %s", session.tenant_id, exc)
        return None, f"not trained: {exc}"
    log.info("lead scores, tenant %s: trained %s", session.tenant_id, saved.version.version)
    return saved.version, f"trained {saved.version.version}"


def stale_leads(
    session: PulsoSession, frame: pd.DataFrame, latest: pd.DataFrame, version_id: int, window: timedelta, now: datetime
) -> pd.Series:
    """The open leads of ``frame`` to rescore, indexed by contact id, valued by the first reason that holds.
    ``latest``: :func:`latest_scores`."""
    leads = frame.set_index("contact_id")[["started_at"]]
    latest = latest.reindex(leads.index)
    scored_at = latest["scored_at"]
    cutoff = scored_at.min()
    written = last_writes(session, cutoff.to_pydatetime()) if pd.notna(cutoff) else pd.Series(dtype=object)
    written = pd.to_datetime(written.reindex(leads.index), utc=True)
    age_then = scored_at - leads["started_at"]
    wait = age_then.where(age_then > MIN_REFRESH, MIN_REFRESH).where(age_then < MAX_REFRESH, MAX_REFRESH)
    conditions = [
        scored_at.isna(),
        latest["model_version_id"] != version_id,
        written > scored_at,
        (scored_at < leads["started_at"] + window) & (pd.Timestamp(now) - scored_at >= wait),
    ]
    reason = pd.Series(np.select(conditions, STALE_REASONS, default=""), index=leads.index)
    return reason[reason != ""]


def latest_scores(session: PulsoSession) -> pd.DataFrame:
    """Per scored contact, its latest ``lead_scores`` row (the last appended): scored_at, model_version_id, score."""
    last = select(func.max(LeadScore.id).label("id")).group_by(LeadScore.contact_id).subquery()
    rows = session.execute(
        select(LeadScore.contact_id, LeadScore.scored_at, LeadScore.model_version_id, LeadScore.score).join(
            last, last.c.id == LeadScore.id
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["contact_id", "scored_at", "model_version_id", "score"])
    frame["scored_at"] = pd.to_datetime(frame["scored_at"], utc=True)
    return frame.set_index("contact_id")


def last_writes(session: PulsoSession, after: datetime) -> pd.Series:
    """Per contact, the latest time Pulso wrote something about it, among writes after ``after``."""
    conversation_written = func.coalesce(Conversation.synced_at, Conversation.created_at)
    sources = [
        (Contact.id, Contact.created_at, None),
        (Contact.id, Contact.updated_at, None),
        (Conversation.contact_id, conversation_written, None),
        (Conversation.contact_id, ConversationFactsRow.computed_at, ConversationFactsRow),
        (Conversation.contact_id, ConversationInsight.created_at, ConversationInsight),
        (Event.contact_id, Event.received_at, None),
    ]
    rows: list[tuple[Any, Any]] = []
    for contact, written, joined in sources:
        query = select(contact, func.max(written)).where(written > after, contact.is_not(None)).group_by(contact)
        if joined is not None:
            query = query.join_from(joined, Conversation, Conversation.id == joined.conversation_id)
        rows += session.execute(query).all()
    if not rows:
        return pd.Series(dtype="datetime64[ns, UTC]")
    writes = pd.DataFrame(rows, columns=["contact_id", "at"])
    return pd.to_datetime(writes["at"], utc=True).groupby(writes["contact_id"]).max()
