"""Each planted effect (docs/demo-data.md) is present in a small seed, within a tolerance set by its sample size.

Tolerances are wide enough for any seed at this size (about three standard errors) and narrow enough that a
missing effect fails: without the effect the LTV ratio is 1, the slow agent's P95 is the others', every
weekday is 1.0, the anomaly day is an ordinary day and the coefficients are 0.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from pulso.demo.effects import (
    FUNNEL_STEP_PROBABILITIES,
    FUNNEL_STEPS,
    INSIGHTOS_ANOMALY,
    INSIGHTOS_WEEKDAY_MULTIPLIERS,
    LARGEST_DROP,
    LEAD_CONVERSION_COEFFICIENTS,
    LEAD_CONVERSION_INTERCEPT,
    SLOW_AGENT,
    SORRISO_AGENTS,
    SORRISO_ANOMALY,
    SORRISO_WEEKDAY_MULTIPLIERS,
    true_ltv_ratio,
)
from pulso.demo.verify import EffectReport, tenant_ids
from pulso.store.engine import app_engine
from pulso.store.models import Contact, Conversation, Inbox, Message
from pulso.store.session import tenant_session
from tests.demo.helpers import END_DATE, SeededDemo


def test_true_ltv_ratio_is_about_2_3() -> None:
    assert true_ltv_ratio() == pytest.approx(311.0 / 135.0)
    assert 2.2 < true_ltv_ratio() < 2.4


def test_google_gestao_agil_customers_are_worth_about_2_3_times_the_others(effects: EffectReport) -> None:
    # ~80 campaign and ~180 other customers; plans are stratified, so the ratio's relative standard error is
    # about 9% (months paid vary): 2.3 +/- 3 SE is [1.7, 2.9]. Without the effect the ratio would be ~1.
    assert effects.ltv_customers["campaign"] >= 50 and effects.ltv_customers["others"] >= 120
    assert 1.7 < effects.ltv_ratio < 2.9


def test_the_largest_funnel_drop_is_verified_to_project_created(effects: EffectReport) -> None:
    assert effects.largest_drop == LARGEST_DROP
    for (a, b), truth in zip(itertools.pairwise(FUNNEL_STEPS), FUNNEL_STEP_PROBABILITIES, strict=True):
        realized = effects.funnel_step_conversion[f"{a} -> {b}"]
        # measured on signups at least 30 days old; ~250 users reach the last step: 0.08 is ~3 standard errors
        assert abs(realized - truth) < 0.08, (a, b, realized)


def test_the_slow_agent_p95_first_response_is_over_three_times_every_other_agent(effects: EffectReport) -> None:
    p95 = effects.first_response_p95_seconds
    assert set(p95) == {a.external_id for a in SORRISO_AGENTS}
    slow = p95[SLOW_AGENT]
    for agent, value in p95.items():
        if agent != SLOW_AGENT:
            assert slow > 3 * value, (agent, value, slow)
    truth = {a.external_id: a.p95_first_response_seconds for a in SORRISO_AGENTS}
    for agent in p95:  # each within 35% of its log-normal's P95 (a few hundred conversations each)
        assert p95[agent] == pytest.approx(truth[agent], rel=0.35), agent


@pytest.mark.parametrize(
    ("tenant", "truth"), [("sorriso", SORRISO_WEEKDAY_MULTIPLIERS), ("insightos", INSIGHTOS_WEEKDAY_MULTIPLIERS)]
)
def test_weekday_seasonality(effects: EffectReport, tenant: str, truth: tuple[float, ...]) -> None:
    realized = effects.sorriso_weekday if tenant == "sorriso" else effects.insightos_weekday
    # ~300 leads / ~1,100 visitors per weekday: a weekday's mean is known to within ~6% / ~3%
    assert np.allclose(realized, truth, atol=0.2), realized
    assert realized[0] > 1.15 and min(realized) == min(realized[5:])  # Monday high, the weekend lowest
    assert np.corrcoef(realized, truth)[0, 1] > 0.9


def test_the_promotion_day_is_the_busiest_day_for_new_leads(effects: EffectReport) -> None:
    spike = effects.sorriso_anomaly
    assert spike.day == END_DATE - timedelta(days=SORRISO_ANOMALY.days_before_end)
    assert spike.is_extreme
    assert 2.8 < spike.ratio_to_mean < 5.5  # expected 4.0 x trend (~1.08 there) on ~12 leads


def test_the_tracking_outage_is_the_quietest_day_for_events(effects: EffectReport) -> None:
    outage = effects.insightos_anomaly
    assert outage.day == END_DATE - timedelta(days=INSIGHTOS_ANOMALY.days_before_end)
    assert outage.is_extreme
    assert outage.ratio_to_mean < 0.25  # 10% of a Thursday-like day, far below any holiday (35%)


def test_a_logistic_fit_on_the_stored_features_recovers_the_planted_coefficients(effects: EffectReport) -> None:
    fit = effects.lead_conversion
    assert fit.n > 1_200
    # 11 parameters: the chance that any lands beyond 3.5 standard errors by luck is about 0.5%
    assert abs(fit.intercept - LEAD_CONVERSION_INTERCEPT) < 3.5 * fit.intercept_standard_error
    for name, truth in LEAD_CONVERSION_COEFFICIENTS.items():
        assert abs(fit.coefficients[name] - truth) < 3.5 * fit.standard_errors[name], name
    for name in ("is_referral", "first_response_under_5min", "asked_price", "messages_in_first_conversation"):
        assert np.sign(fit.coefficients[name]) == np.sign(LEAD_CONVERSION_COEFFICIENTS[name]), name
    for name in ("is_referral", "first_response_under_5min", "messages_in_first_conversation"):
        # rough magnitude for the effects estimated to within ~20% at this size (0.6 is about 3 standard errors)
        assert abs(fit.coefficients[name] / LEAD_CONVERSION_COEFFICIENTS[name] - 1) < 0.6, name


def test_lead_features_are_observable_in_conversations_and_messages(seeded: SeededDemo) -> None:
    """Every attribute the conversion model uses can be rebuilt from the lead's first conversation."""
    engine = app_engine(seeded.settings)
    with tenant_session(tenant_ids(engine)["sorriso"], engine=engine) as session:
        contacts = session.execute(
            select(Contact.id, Contact.attributes, Contact.first_touch_channel, Contact.became_lead_at)
        ).all()
        conversations = session.execute(
            select(
                Conversation.id,
                Conversation.contact_id,
                Conversation.created_at,
                Conversation.first_reply_at,
                Conversation.labels,
                Inbox.channel_type,
            ).join(Inbox, Inbox.id == Conversation.inbox_id)
        ).all()
        incoming = defaultdict(int)
        for (conversation_id,) in session.execute(
            select(Message.conversation_id).where(Message.direction == "incoming")
        ):
            incoming[conversation_id] += 1
    first = {}
    for row in sorted(conversations, key=lambda r: r.created_at):
        first.setdefault(row.contact_id, row)
    settled = 0
    for contact_id, attributes, channel, became_lead_at in contacts:
        conversation = first[contact_id]
        assert conversation.created_at == became_lead_at
        assert attributes["channel"] == conversation.channel_type
        assert attributes["is_referral"] == (channel == "referral")
        assert attributes["asked_price"] == ("orcamento" in conversation.labels)
        assert attributes["procedure_interest"] in conversation.labels
        if conversation.first_reply_at is None:
            assert attributes["first_response_under_5min"] is None
            continue
        seconds = (conversation.first_reply_at - conversation.created_at).total_seconds()
        assert attributes["first_response_seconds"] == seconds
        assert attributes["first_response_under_5min"] == (seconds < 300)
        if became_lead_at.date() < END_DATE - timedelta(days=3):
            settled += 1
            assert attributes["messages_in_first_conversation"] == incoming[conversation.id]
    assert settled > 1_500
