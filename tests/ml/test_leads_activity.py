"""The activity lead score on a seeded tenant (tests/ml/activity_seed.py), on SQLite and PostgreSQL: landmark
training rows, the planted referral effect, scores of the open leads, and the errors for too little data.

``now`` is fixed (a Sunday noon), so the leads' start weekdays and hours, and hence the fit, never vary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import numpy as np
import pytest
from sqlalchemy import select

from pulso.config import Settings
from pulso.errors import InvalidInputError
from pulso.ml.leads.activity import ActivityParams, landmark_of, score_open_leads, train_activity, training_frame
from pulso.ml.leads.service import train_tenant
from pulso.ml.leads.train import data_hash
from pulso.store.models import Contact, LeadScore
from pulso.store.session import tenant_session
from tests.metrics.helpers import seeded_tenant
from tests.ml.activity_seed import HORIZON, conversion_delay, converts, is_referral, open_leads, seed_leads

PARAMS = ActivityParams(timedelta(days=7), HORIZON)
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(partial(seed_leads, now=NOW))


def test_training_rows_are_finished_leads_still_open_at_their_landmark(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        frame = training_frame(session, PARAMS, NOW)
    hours = PARAMS.landmark_hours
    assert hours == [1, 6, 24, 72, 168]
    finished = {ids[f"lead{i}"]: i for i in range(30, 120)}  # horizon over: 30 days
    drawn = dict(zip(finished, landmark_of(np.array(list(finished)), len(hours), 0), strict=True))
    assert all(10 <= count <= 30 for count in np.bincount(list(drawn.values()), minlength=5))  # about 90 / 5 each
    kept = {
        c for c, i in finished.items() if not converts(i) or conversion_delay(i) >= timedelta(hours=hours[drawn[c]])
    }
    assert frame["contact_id"].is_unique and set(frame["contact_id"]) == kept
    assert 0 < len(finished) - len(kept) < 20  # those that converted before their landmark
    rows = frame.set_index("contact_id")
    assert list(rows["hours_since_start"]) == [hours[drawn[c]] for c in rows.index]
    lost = ids["lead31"]  # google, never converts: kept at whatever landmark it drew
    assert not converts(31) and rows.loc[lost, "converted"] == 0.0
    age_days = round(hours[drawn[lost]] / 24, 2)
    at_landmark = rows.loc[lost]
    assert (at_landmark["messages_in"], at_landmark["messages_out"]) == (1, 1)
    assert at_landmark["days_since_last_message"] == age_days
    assert list(landmark_of(np.array([7, 8, 9]), 5, 0)) == [2, 2, 3]  # stable: the same draw at every retrain


def test_train_finds_the_planted_effect_and_scores_open_leads(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        saved = train_activity(session, now=NOW, params=PARAMS)
        frame = training_frame(session, PARAMS, NOW)
        assert saved.result.data_hash == data_hash(frame)
        run = score_open_leads(session, now=NOW)
        scores = {row.contact_id: row for row in session.scalars(select(LeadScore))}
    version = saved.version
    assert (version.version, version.is_active, version.params["source"]) == ("v1", True, "activity")
    assert (version.params["window_days"], version.params["horizon_days"], version.params["leads"]) == (
        7,
        30,
        len(frame),
    )
    assert saved.result.metrics["split"] == "time" and saved.result.metrics["roc_auc"] > 0.7
    expected = {ids[f"lead{i}"] for i in open_leads()}
    assert run.scored == len(expected) == sum(run.grades.values()) and set(scores) == expected
    assert all(row.model_version_id == version.id and row.scored_at == NOW for row in scores.values())
    referral = [scores[ids[f"lead{i}"]].score for i in open_leads() if is_referral(i)]
    others = [scores[ids[f"lead{i}"]].score for i in open_leads() if not is_referral(i)]
    assert sum(referral) / len(referral) > 2 * sum(others) / len(others)
    texts = [r["text"] for r in scores[ids["lead9"]].reasons if r["direction"] == "raises"]
    assert "Came through referral (raises)" in texts


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
