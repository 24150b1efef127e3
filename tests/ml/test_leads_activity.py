"""The activity lead score on a seeded tenant (tests/ml/activity_seed.py), on SQLite and PostgreSQL: landmark
training rows, the planted referral effect, scores of the open leads, and the errors for too little data.

``now`` is fixed (a Sunday noon), so the leads' start weekdays and hours, and hence the fit, never vary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select

from pulso.config import Settings
from pulso.errors import InvalidInputError
from pulso.ml.leads.activity import ActivityParams, score_open_leads, train_activity, training_frame
from pulso.ml.leads.service import train_tenant
from pulso.ml.leads.train import data_hash
from pulso.store.models import Contact, LeadScore
from pulso.store.session import tenant_session
from tests.metrics.helpers import seeded_tenant
from tests.ml.activity_seed import HORIZON, converts, is_referral, open_leads, seed_leads

PARAMS = ActivityParams(timedelta(days=7), HORIZON)
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(partial(seed_leads, now=NOW))


def test_training_rows_are_finished_leads_still_open_at_each_landmark(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        frame = training_frame(session, PARAMS, NOW)
    assert PARAMS.landmark_hours == [1, 6, 24, 72, 168]
    assert set(frame["contact_id"]) == {ids[f"lead{i}"] for i in range(30, 120)}  # horizon over: 30 days
    converted_lead, lost_lead = ids["lead30"], ids["lead31"]  # 30: referral, converts on day 2; 31: google, lost
    assert converts(30) and not converts(31)
    rows = frame.set_index("contact_id")
    assert list(rows.loc[converted_lead, "hours_since_start"]) == [1, 6, 24]  # converted before 72 h
    assert list(rows.loc[lost_lead, "hours_since_start"]) == [1, 6, 24, 72, 168]
    assert list(rows.loc[converted_lead, "converted"]) == [1.0] * 3
    at_a_week = rows.loc[lost_lead].iloc[-1]
    assert (at_a_week["messages_in"], at_a_week["messages_out"], at_a_week["days_since_last_message"]) == (1, 1, 7.0)


def test_train_finds_the_planted_effect_and_scores_open_leads(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        saved = train_activity(session, now=NOW, params=PARAMS)
        assert saved.result.data_hash == data_hash(training_frame(session, PARAMS, NOW))
        run = score_open_leads(session, now=NOW)
        scores = {row.contact_id: row for row in session.scalars(select(LeadScore))}
    version = saved.version
    assert (version.version, version.is_active, version.params["source"]) == ("v1", True, "activity")
    assert (version.params["window_days"], version.params["horizon_days"], version.params["leads"]) == (7, 30, 90)
    assert saved.result.metrics["split"] == "time" and saved.result.metrics["roc_auc"] > 0.7
    expected = {ids[f"lead{i}"] for i in open_leads()}
    assert run.scored == len(expected) == sum(run.grades.values()) and set(scores) == expected
    assert all(row.model_version_id == version.id and row.scored_at == NOW for row in scores.values())
    referral = [scores[ids[f"lead{i}"]].score for i in open_leads() if is_referral(i)]
    others = [scores[ids[f"lead{i}"]].score for i in open_leads() if not is_referral(i)]
    assert sum(referral) / len(referral) > 2 * sum(others) / len(others)
    texts = [r["text"] for r in scores[ids["lead9"]].reasons if r["direction"] == "raises"]
    assert "First touch channel = referral (raises)" in texts


def test_too_few_finished_leads_or_one_class(any_settings: Settings) -> None:
    tenant_id, _ = seeded_tenant(partial(seed_leads, now=NOW, n=60))  # 30 finished leads
    with tenant_session(tenant_id) as session, pytest.raises(InvalidInputError) as caught:
        train_activity(session, now=NOW, params=PARAMS)
    assert str(caught.value).startswith("training data: 30 leads have a known outcome (started before ")
    assert "30 days ago: 9 converted, 21 did not); the activity lead score needs at least 50" in str(caught.value)
    with tenant_session(tenant_id) as session:
        for contact in session.scalars(select(Contact)):
            contact.became_customer_at = None
    long_ago = ActivityParams(timedelta(days=7), timedelta(days=10))  # 50 finished leads, none converted
    with tenant_session(tenant_id) as session, pytest.raises(InvalidInputError, match=r"0 converted, 50 did not\)"):
        train_activity(session, now=NOW, params=long_ago)


def test_scoring_refuses_a_model_trained_on_imported_attributes(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, _ = tenant
    with tenant_session(tenant_id) as session:
        for n, contact in enumerate(session.scalars(select(Contact).order_by(Contact.id))):
            contact.attributes = {"won": "yes" if n % 3 == 0 else "no", "size": str(n % 7)}
    with tenant_session(tenant_id) as session:
        train_tenant(session, "won")
    with tenant_session(tenant_id) as session, pytest.raises(InvalidInputError, match=r"imported attributes"):
        score_open_leads(session)


def test_parameters_are_checked() -> None:
    with pytest.raises(InvalidInputError, match=r"^--window-days: from 1 hour up to the horizon \(30 days\)"):
        ActivityParams(timedelta(days=40), timedelta(days=30))
    assert ActivityParams(timedelta(hours=12)).landmark_hours == [1, 6, 12]
