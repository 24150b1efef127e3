"""InsightOS: a Brazilian project-management SaaS with a tracked website, a free trial and monthly plans.

Campaigns and daily spend, then six months of visitors written a chunk of days per transaction: the contacts
(everyone who signed up) with their identities, their monthly subscription payments, and every tracked event.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine

from pulso.demo.effects import INSIGHTOS_HOLIDAY_MULTIPLIER, INSIGHTOS_WEEKDAY_MULTIPLIERS, PLAN_PRICES_BRL
from pulso.demo.insightos_events import EventRows, Visitor, random_hex, uuid_text
from pulso.demo.insightos_journeys import HOUR_WEIGHTS as SITE_HOUR_WEIGHTS
from pulso.demo.insightos_journeys import Journey, JourneyMaker
from pulso.demo.insightos_site import PAID_SOURCES, SOURCES
from pulso.demo.people import BRAZIL_CITIES, COMPANY_SIZES, JOB_TITLES, People
from pulso.demo.timeline import FloatArray, Timeline, chunks, daily_counts, sample_seconds_of_day, utc_ms
from pulso.demo.writer import (
    DemoTenant,
    ProgressSink,
    RowCounts,
    insert_returning_ids,
    insert_rows,
    write_demo_source,
)
from pulso.store.models import Campaign, CampaignSpend, Contact, ContactIdentity, Event, Order
from pulso.store.session import PulsoSession, tenant_session

if TYPE_CHECKING:
    from pulso.demo import DemoSize

TENANT = DemoTenant("insightos", "InsightOS", "America/Sao_Paulo", "owner@insightos.demo")
RNG_STREAM = 2
CAMPAIGN_CHANNELS = {"google": "google_ads", "facebook": "meta_ads", "linkedin": "linkedin_ads", "newsletter": "email"}
CLICKS_PER_VISITOR = 1.15  # ad clicks that never load the tracker (bounces before it runs, blockers)


def seed_insightos(
    engine: Engine, tenant_id: int, timeline: Timeline, size: DemoSize, seed: int, sink: ProgressSink
) -> RowCounts:
    rng = np.random.default_rng([seed, RNG_STREAM])
    people = People(seed + RNG_STREAM, rng)
    counts = RowCounts()
    expected = timeline.expected_daily(
        size.insightos_visitors_per_day, INSIGHTOS_WEEKDAY_MULTIPLIERS, INSIGHTOS_HOLIDAY_MULTIPLIER
    )
    daily = daily_counts(rng, expected)
    with tenant_session(tenant_id, engine=engine) as session:
        write_demo_source(session, tenant_id, size.describe(seed, timeline.end_date), timeline.start_utc, counts)
        _write_campaigns(session, tenant_id, timeline, expected, rng, counts)
    maker = JourneyMaker(rng, timeline)
    events = EventRows(tenant_id, timeline, rng)
    sequence = 0
    sink.start(f"{TENANT.name}: days of history ({size.name})", timeline.n_days)
    for days in chunks(timeline.n_days, size.chunk_days):
        day = np.repeat(np.arange(days.start, days.stop), daily[days.start : days.stop])
        seconds = sample_seconds_of_day(rng, SITE_HOUR_WEIGHTS, len(day))
        journeys = [maker.make(int(d), int(s)) for d, s in zip(day, seconds, strict=True)]
        with tenant_session(tenant_id, engine=engine) as session:
            visitors = _write_people(session, tenant_id, timeline, journeys, people, rng, sequence, counts)
            insert_rows(session, Event, events.rows(list(zip(journeys, visitors, strict=True))), counts)
        sequence += len(journeys)
        sink.advance(len(days))
    return counts


def _write_people(
    session: PulsoSession,
    tenant_id: int,
    timeline: Timeline,
    journeys: list[Journey],
    people: People,
    rng: np.random.Generator,
    sequence: int,
    counts: RowCounts,
) -> list[Visitor]:
    """Contacts (everyone who signed up before the cutoff), their identities and payments; a Visitor per journey."""
    cutoff_ms = timeline.cutoff * 1000
    ids = random_hex(rng, 3 * len(journeys))
    visitors: list[Visitor] = []
    contacts: list[dict[str, Any]] = []
    for n, journey in enumerate(journeys):
        anonymous = (uuid_text(ids[3 * n]), uuid_text(ids[3 * n + 1]))
        agents, ips = (people.user_agent(), people.user_agent()), (people.ip(), people.ip())
        if journey.signed_up_at is None or journey.signed_up_at >= cutoff_ms:
            visitors.append(Visitor(anonymous, agents, ips, None, None, {}))
            continue
        person = people.person()
        company, domain = people.company()
        user_id = f"usr_{ids[3 * n + 2][:14]}"
        email = people.work_email(person, domain, sequence + n + 1)
        traits = {
            "email": email,
            "name": person.name,
            "company": company,
            "createdAt": utc_ms(journey.signed_up_at).isoformat(),
        }
        visitors.append(Visitor(anonymous, agents, ips, user_id, None, traits))
        contacts.append(
            _contact_row(
                tenant_id, journey, person.name, email, company, user_id, people, rng, cutoff_ms, sequence + n + 1
            )
        )
    contact_ids = iter(insert_returning_ids(session, Contact, contacts, counts))
    identities: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    for n, (journey, visitor) in enumerate(zip(journeys, visitors, strict=True)):
        if visitor.user_id is None:
            continue
        contact_id = next(contact_ids)
        visitors[n] = Visitor(
            visitor.anonymous_ids, visitor.user_agents, visitor.ips, visitor.user_id, contact_id, visitor.traits
        )
        values = [
            ("anonymous_id", visitor.anonymous_ids[0]),
            ("user_id", visitor.user_id),
            ("email", visitor.traits["email"]),
        ]
        if any(h.device == 1 and h.at < cutoff_ms for h in journey.hits):
            values.append(("anonymous_id", visitor.anonymous_ids[1]))
        identities += [{"tenant_id": tenant_id, "contact_id": contact_id, "kind": k, "value": v} for k, v in values]
        for k, paid_at in enumerate(p for p in journey.payments if p < cutoff_ms):
            plan = str(journey.plan)
            orders.append(
                {
                    "tenant_id": tenant_id,
                    "external_id": f"inv-{visitor.user_id}-{k + 1:02d}",
                    "contact_id": contact_id,
                    "kind": "subscription_payment",
                    "product": f"InsightOS {plan.capitalize()} (mensal)",
                    "amount": Decimal(f"{PLAN_PRICES_BRL[plan]:.2f}"),
                    "currency": "BRL",
                    "status": "completed",
                    "ordered_at": utc_ms(paid_at),
                    "scheduled_for": None,
                }
            )
    insert_rows(session, ContactIdentity, identities, counts)
    insert_rows(session, Order, orders, counts)
    return visitors


def _contact_row(
    tenant_id: int,
    journey: Journey,
    name: str,
    email: str,
    company: str,
    user_id: str,
    people: People,
    rng: np.random.Generator,
    cutoff_ms: int,
    sequence: int,
) -> dict[str, Any]:
    signed_up = utc_ms(int(journey.signed_up_at or 0))
    subscribed = journey.subscribed_at is not None and journey.subscribed_at < cutoff_ms
    churned = journey.cancelled_at is not None and journey.cancelled_at < cutoff_ms
    source, medium = journey.source.first_touch(journey.referrers[0])
    city, state = people.city(BRAZIL_CITIES)
    last_seen = max(h.at for h in journey.hits if h.at < cutoff_ms)
    attributes: dict[str, Any] = {
        "user_id": user_id,
        "company": company,
        "company_size": COMPANY_SIZES[int(rng.integers(len(COMPANY_SIZES)))],
        "job_title": JOB_TITLES[int(rng.integers(len(JOB_TITLES)))],
    }
    if subscribed:
        attributes["plan"] = journey.plan
    return {
        "tenant_id": tenant_id,
        "name": name,
        "email": email,
        "phone": people.phone(sequence) if rng.random() < 0.3 else None,
        "city": city,
        "state": state,
        "lifecycle_stage": "churned" if churned else "customer" if subscribed else "lead",
        "first_seen_at": utc_ms(journey.hits[0].at),
        "became_lead_at": signed_up,
        "became_customer_at": utc_ms(int(journey.subscribed_at or 0)) if subscribed else None,
        "first_touch_channel": journey.source.channel,
        "first_touch_source": source,
        "first_touch_medium": medium,
        "first_touch_campaign": journey.source.campaign,
        "first_touch_term": None,
        "first_touch_content": None,
        "attributes": attributes,
        "created_at": signed_up,
        "updated_at": utc_ms(last_seen),
    }


def _write_campaigns(
    session: PulsoSession,
    tenant_id: int,
    timeline: Timeline,
    expected: FloatArray,
    rng: np.random.Generator,
    counts: RowCounts,
) -> None:
    """Every tagged campaign; daily spend for the paid ones, from the visitors they are expected to bring."""
    created = datetime.combine(timeline.day(0), time(), tzinfo=UTC)
    tagged = [s for s in SOURCES if s.utm]
    campaigns = [
        {
            "tenant_id": tenant_id,
            "channel": CAMPAIGN_CHANNELS[utm[0]],
            "name": utm[2],
            "utm_source": utm[0],
            "utm_medium": utm[1],
            "started_on": timeline.day(0),
            "ended_on": None,
            "created_at": created,
        }
        for utm in (s.utm for s in tagged)
        if utm is not None
    ]
    campaign_ids = dict(
        zip([s.key for s in tagged], insert_returning_ids(session, Campaign, campaigns, counts), strict=True)
    )
    spend: list[dict[str, Any]] = []
    for source in PAID_SOURCES:
        noise = np.exp(0.15 * rng.standard_normal((timeline.n_days, 3)))
        for day in range(timeline.n_days):
            clicks = round(expected[day] * source.share * CLICKS_PER_VISITOR * noise[day, 1])
            spend.append(
                {
                    "tenant_id": tenant_id,
                    "campaign_id": campaign_ids[source.key],
                    "day": timeline.day(day),
                    "cost": Decimal(f"{clicks * source.cost_per_click * noise[day, 0]:.2f}"),
                    "currency": "BRL",
                    "impressions": round(clicks / source.click_through_rate * noise[day, 2]),
                    "clicks": clicks,
                }
            )
    insert_rows(session, CampaignSpend, spend, counts)
