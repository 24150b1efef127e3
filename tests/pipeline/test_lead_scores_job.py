"""The score updater (``gold.lead_scores``) on a seeded tenant (tests/ml/activity_seed.py, 150 leads: with the
default 90-day horizon, leads 90-149 are finished), on SQLite and PostgreSQL: it trains the first model, scores
only new and changed leads, keeps every score with its version, retrains weekly, and leaves alone what it should.

``now`` is the real clock (rows stamped while seeding must come before the scores), or later, never earlier."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from pulso.config import Settings
from pulso.ml.leads.registry import activate_version
from pulso.ml.leads.service import train_tenant
from pulso.ml.leads.updater import update_lead_scores
from pulso.pipeline.runner import run_pipeline
from pulso.store.models import Contact, Conversation, LeadScore, Message, ModelVersion
from pulso.store.session import platform_session, tenant_session
from pulso.store.types import utcnow
from pulso.tenancy.service import get_tenant
from tests.metrics.helpers import seeded_tenant
from tests.ml.activity_seed import open_leads, seed_leads

N = 150
OPEN = open_leads(N, horizon_days=90)


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(partial(seed_leads, now=utcnow(), n=N))


def history(tenant_id: int, contact_id: int) -> list[tuple[float, str]]:
    with tenant_session(tenant_id) as session:
        rows = session.execute(
            select(LeadScore.score, ModelVersion.version)
            .join(ModelVersion, ModelVersion.id == LeadScore.model_version_id)
            .where(LeadScore.contact_id == contact_id)
            .order_by(LeadScore.id)
        ).all()
    return [(score, version) for score, version in rows]


def tenant_u() -> int:
    with platform_session() as session:
        return int(get_tenant(session, "u").id)


def scores(tenant_id: int) -> int:
    with tenant_session(tenant_id) as session:
        return session.scalar(select(func.count()).select_from(LeadScore)) or 0


def test_first_run_trains_then_only_changed_leads_are_rescored(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    [first] = run_pipeline("t", job_names=["gold.lead_scores"])
    assert (first.status, first.rows) == ("succeeded", len(OPEN) + 1)  # the scores and the version
    [second] = run_pipeline("t", job_names=["gold.lead_scores"])
    assert (second.status, second.rows) == ("succeeded", 0)

    def new_message(lead: str) -> None:
        with tenant_session(tenant_id) as session:
            talk = session.scalars(select(Conversation).where(Conversation.contact_id == ids[lead])).one()
            session.add(Message(external_id=f"new-{lead}", conversation_id=talk.id, direction="incoming",
                                sender_kind="contact", created_at=utcnow()))  # fmt: skip
            talk.synced_at = utcnow()  # as the Chatwoot loader and the importers stamp a conversation they write to

    new_message("lead2")  # open, 2 days old: inside its 7-day window, so the message counts
    with tenant_session(tenant_id) as session:
        third = update_lead_scores(session)
    # only lead2 is rescored; whether its score moves depends on the model chosen on validation (the seed's
    # weekdays follow the real clock, and a tree may not split on what changed): an unchanged score is not written
    assert (third.trained, third.scored + third.unchanged) == (False, 1), third
    assert third.why == ({"changed": 1} if third.scored else {}), third
    assert [version for _, version in history(tenant_id, ids["lead2"])] == ["v1"] * (1 + third.scored)
    assert [version for _, version in history(tenant_id, ids["lead10"])] == ["v1"]
    assert scores(tenant_id) == len(OPEN) + third.scored

    new_message("lead9")  # open, 9 days old: its window closed, so the message changes nothing in its score
    with tenant_session(tenant_id) as session:
        fourth = update_lead_scores(session)
    assert (fourth.scored, fourth.unchanged) == (0, 1) and len(history(tenant_id, ids["lead9"])) == 1

    with tenant_session(tenant_id) as session:  # lead 0 was 3 hours old when scored: rescored once 3 hours pass
        early = update_lead_scores(session, now=utcnow() + timedelta(hours=2))
        aged = update_lead_scores(session, now=utcnow() + timedelta(hours=3, minutes=1))
    assert (early.scored, aged.why) == (0, {"aged": 1}), (early, aged)
    assert len(history(tenant_id, ids["lead0"])) == 2
    assert scores(tenant_u()) == 0  # tenant U holds the same rows: untouched


def test_weekly_retrain_rescores_every_open_lead_with_the_new_version(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        first = update_lead_scores(session)
        soon = update_lead_scores(session, now=utcnow() + timedelta(days=6))
    assert (first.trained, first.scored) == (True, len(OPEN))
    assert (soon.trained, soon.version) == (False, first.version)
    later = utcnow() + timedelta(days=8)  # v1 is over a week old, and 8 more days of leads have finished
    with tenant_session(tenant_id) as session:
        weekly = update_lead_scores(session, now=later)
    assert weekly.trained and weekly.version is not None and weekly.version.version == "v2"
    still_open = len(open_leads(N, horizon_days=90 - 8))
    assert weekly.scored == still_open and weekly.why == {"model": still_open}
    assert [version for _, version in history(tenant_id, ids["lead9"])] == ["v1", "v2"]
    with tenant_session(tenant_id) as session:  # v2 is new to the clock but not the data: same frame, no v3
        again = update_lead_scores(session, now=later)
    assert (again.trained, again.scored, again.note) == (False, 0, "version v2 was trained on these very leads")
    assert weekly.note == "trained v2"
    with tenant_session(tenant_id) as session:  # a rollback to v1 (over a week old) is kept, its scores rewritten
        activate_version(session, "v1")
        rolled_back = update_lead_scores(session, now=later)
    assert (rolled_back.trained, rolled_back.version.version if rolled_back.version else None) == (False, "v1")
    assert rolled_back.why == {"model": still_open}


def test_nothing_written_without_enough_finished_leads_or_with_an_imported_model(any_settings: Settings) -> None:
    tenant_id, _ = seeded_tenant(partial(seed_leads, now=utcnow(), n=60))  # no lead is 90 days old
    with tenant_session(tenant_id) as session:
        result = update_lead_scores(session)
    assert (result.version, result.rows) == (None, 0)
    assert result.note.startswith("not trained: training data: 0 leads have a known outcome")
    with tenant_session(tenant_id) as session:
        for n, contact in enumerate(session.scalars(select(Contact).order_by(Contact.id))):
            contact.attributes = {"won": "yes" if n % 3 == 0 else "no", "size": str(n % 7)}
        train_tenant(session, "won")
    [run] = run_pipeline("t", job_names=["gold.lead_scores"])
    assert (run.status, run.rows) == ("succeeded", 0)
    with tenant_session(tenant_id) as session:
        assert update_lead_scores(session).note == "active version v1 is not an activity model"
    assert scores(tenant_id) == 0
