"""The conversation funnel with its default rules finds the Sorriso demo's converted leads (docs/demo-data.md,
effect 6) on the small seed: counted per person over the settled history, its customer rate is exactly the share of
leads the generator made customers, and close to what the planted logistic model expects.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pulso.demo.effects import conversion_log_odds
from pulso.demo.verify import FEATURES, SETTLED_DAYS, design_row, tenant_ids
from pulso.metrics.conversation_funnel import ConversationFunnelParams, conversation_funnel
from pulso.metrics.overview import DateRange
from pulso.store.engine import app_engine
from pulso.store.models import Contact
from pulso.store.session import tenant_session
from tests.demo.helpers import END_DATE, SeededDemo

TZ = "America/Sao_Paulo"


def test_customer_rate_is_the_share_of_converted_leads(seeded: SeededDemo) -> None:
    engine = app_engine(seeded.settings)
    tenant_id = tenant_ids(engine)["sorriso"]
    # leads settled for 30 days (the generator converts within 21), so every conversion is observed
    last_day = END_DATE - timedelta(days=SETTLED_DAYS + 1)
    history = DateRange(END_DATE - timedelta(days=182), last_day)
    settled = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(TZ))
    with tenant_session(tenant_id, engine=engine) as session:
        people = conversation_funnel(session, ConversationFunnelParams(history, TZ, unit="people")).total
        conversations = conversation_funnel(session, ConversationFunnelParams(history, TZ)).total
        leads = session.execute(
            select(Contact.lifecycle_stage, Contact.attributes).where(Contact.became_lead_at < settled)
        ).all()
    # independently: the generator's lifecycle stages and its planted model
    customers = sum(stage == "customer" for stage, _ in leads)
    assert people.count("conversations") == len(leads) > 1000
    assert people.count("customer") == customers
    assert people.customer_rate == customers / len(leads)
    expected = [
        1 / (1 + math.exp(-conversion_log_odds(dict(zip(FEATURES, design_row(a), strict=True))))) for _, a in leads
    ]
    mean = sum(expected) / len(expected)
    standard_error = math.sqrt(sum(p * (1 - p) for p in expected)) / len(expected)
    assert abs(people.customer_rate - mean) < 3.5 * standard_error, (people.customer_rate, mean)
    # every booking makes a customer, so scheduled and customer coincide for new leads; a follow-up booking
    # conversation counts as a second conversation, hence more conversations than people at every stage
    assert people.count("scheduled") == customers
    assert conversations.count("conversations") > people.count("conversations")
    assert conversations.count("customer") > customers
