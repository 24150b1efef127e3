"""``score_tenant`` on SQLite and PostgreSQL: one ``lead_scores`` row per contact, written in bulk, holding the
probability and reasons the straightforward path (predict_proba, contributions, the row-by-row reasons) gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pulso.config import Settings
from pulso.ml.leads import registry
from pulso.ml.leads.service import contacts_frame, score_tenant, train_tenant
from pulso.store import platform_session, tenant_session
from pulso.store.models import Contact, LeadScore
from pulso.tenancy.service import create_tenant
from tests.ml.synthetic import leads
from tests.ml.test_leads_fast_path import reference_reasons


@pytest.fixture
def tenant_id(any_settings: Settings) -> int:
    with platform_session() as session:
        tenant = int(create_tenant(session, slug="escola", name="Escola").id)
    frame = leads(n=400, seed=4)
    frame.loc[350:, "Converted"] = None  # open leads
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with tenant_session(tenant) as session:
        session.add_all(
            Contact(
                tenant_id=tenant,
                name=f"Lead {i}",
                first_seen_at=start + timedelta(hours=i),
                attributes={k: v for k, v in row.items() if v is not None},
            )
            for i, row in enumerate(frame.to_dict("records"))
        )
    return tenant


def test_scores_and_reasons_stored_are_those_of_the_straightforward_path(tenant_id: int) -> None:
    with tenant_session(tenant_id) as session:
        train_tenant(session, "Converted", exclude=["First Visit"])
        run = score_tenant(session, open_only=True)
    assert run.scored == 50 and sum(run.grades.values()) == 50
    with tenant_session(tenant_id) as session:
        model = registry.load_model(registry.active_version(session))
        frame = contacts_frame(session)
        frame = frame[frame["Converted"].isna()].reset_index(drop=True)
        features = model.builder.transform(frame)
        probability = model.scorer.predict_proba(features)[:, 1]
        expected = reference_reasons(model.scorer.contributions(features), frame, model.builder)
        stored = {
            row.contact_id: row
            for row in session.scalars(select(LeadScore).where(LeadScore.model_version_id == run.version.id))
        }
    assert len(stored) == 50
    for contact_id, p, why in zip(frame["contact_id"], probability, expected, strict=True):
        row = stored[int(contact_id)]
        assert row.score == p
        assert row.reasons == [{**r, "direction": d} for d in ("raises", "lowers") for r in why[d]]
        assert row.tenant_id == tenant_id and row.scored_at is not None
