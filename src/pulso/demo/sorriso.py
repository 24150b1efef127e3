"""Clínica Sorriso: a dental clinic in São Paulo answering leads on WhatsApp and Instagram.

Inboxes, three human agents and a bot, paid campaigns with daily spend, then six months of leads written a
chunk of days per transaction: contacts, identities, conversations, messages, bookings, CSAT and NPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine

from pulso.demo.effects import (
    SORRISO_AGENTS,
    SORRISO_ANOMALY,
    SORRISO_HOLIDAY_MULTIPLIER,
    SORRISO_PROMO_CAMPAIGN,
    SORRISO_WEEKDAY_MULTIPLIERS,
)
from pulso.demo.people import People
from pulso.demo.sorriso_leads import LEAD_SOURCES, PROMO_SHARE_ON_ANOMALY_DAY, draw_leads
from pulso.demo.sorriso_rows import SorrisoRows
from pulso.demo.sorriso_stories import StoryTeller
from pulso.demo.sorriso_texts import Texts
from pulso.demo.timeline import FloatArray, Timeline, chunks, daily_counts
from pulso.demo.writer import (
    DemoTenant,
    ProgressSink,
    RowCounts,
    insert_returning_ids,
    insert_rows,
    write_demo_source,
)
from pulso.store.models import Agent, Campaign, CampaignSpend, Inbox
from pulso.store.session import PulsoSession, tenant_session

if TYPE_CHECKING:
    from pulso.demo import DemoSize

TENANT = DemoTenant("sorriso", "Clínica Sorriso", "America/Sao_Paulo", "owner@sorriso.demo")
RNG_STREAM = 1
INBOX_SPECS = (
    ("cw-inbox-1", "WhatsApp Clínica Sorriso", "whatsapp", "Channel::Whatsapp"),
    ("cw-inbox-2", "Instagram @clinicasorriso", "instagram", "Channel::Instagram"),
)


@dataclass(frozen=True)
class PaidCampaign:
    """Cost model of a paid campaign: cost per lead, clicks per lead and click-through rate."""

    cost_per_lead: float
    clicks_per_lead: float
    click_through_rate: float


PAID_CAMPAIGNS = {
    "sorriso_clareamento_ig": PaidCampaign(24.0, 12.0, 0.009),
    "sorriso_ortodontia_ig": PaidCampaign(28.0, 13.0, 0.008),
    "sorriso_implante_search": PaidCampaign(45.0, 8.0, 0.05),
    "sorriso_emergencia_search": PaidCampaign(32.0, 6.0, 0.07),
    SORRISO_PROMO_CAMPAIGN: PaidCampaign(9.0, 10.0, 0.015),
}


def seed_sorriso(
    engine: Engine, tenant_id: int, timeline: Timeline, size: DemoSize, seed: int, sink: ProgressSink
) -> RowCounts:
    rng = np.random.default_rng([seed, RNG_STREAM])
    people = People(seed + RNG_STREAM, rng)
    counts = RowCounts()
    expected = timeline.expected_daily(
        size.sorriso_leads_per_day, SORRISO_WEEKDAY_MULTIPLIERS, SORRISO_HOLIDAY_MULTIPLIER, SORRISO_ANOMALY
    )
    daily = daily_counts(rng, expected)
    anomaly_day = timeline.anomaly_index(SORRISO_ANOMALY)
    with tenant_session(tenant_id, engine=engine) as session:
        write_demo_source(session, tenant_id, size.describe(seed, timeline.end_date), timeline.start_utc, counts)
        inbox_ids, agent_ids = _write_setup(session, tenant_id, timeline, counts)
        _write_campaigns(session, tenant_id, timeline, expected, rng, counts)
    rows = SorrisoRows(tenant_id, timeline, rng, people, inbox_ids, agent_ids)
    teller = StoryTeller(rng, timeline, Texts(rng))
    referral = next(i for i, s in enumerate(LEAD_SOURCES) if s.channel == "referral")
    sink.start(f"{TENANT.name}: days of history ({size.name})", timeline.n_days)
    for days in chunks(timeline.n_days, size.chunk_days):
        leads = draw_leads(rng, timeline, daily, days, anomaly_day)
        persons = [people.person() for _ in range(len(leads))]
        stories = [teller.tell(leads, i, p.first_name, leads.source[i] == referral) for i, p in enumerate(persons)]
        with tenant_session(tenant_id, engine=engine) as session:
            rows.write(session, leads, stories, persons, counts)
        sink.advance(len(days))
    return counts


def _midnight(timeline: Timeline, day_index: int) -> datetime:
    return datetime.combine(timeline.day(day_index), time(), tzinfo=UTC)


def _write_setup(
    session: PulsoSession, tenant_id: int, timeline: Timeline, counts: RowCounts
) -> tuple[list[int], list[int]]:
    created = _midnight(timeline, -30)
    inboxes = [
        {
            "tenant_id": tenant_id,
            "external_id": external_id,
            "name": name,
            "channel_type": channel_type,
            "source_channel_type": source_type,
            "created_at": created,
        }
        for external_id, name, channel_type, source_type in INBOX_SPECS
    ]
    agents = [
        {
            "tenant_id": tenant_id,
            "external_id": agent.external_id,
            "name": agent.name,
            "email": agent.email,
            "kind": agent.kind,
            "is_active": True,
            "created_at": created,
        }
        for agent in SORRISO_AGENTS
    ]
    return (
        insert_returning_ids(session, Inbox, inboxes, counts),
        insert_returning_ids(session, Agent, agents, counts),
    )


def _write_campaigns(
    session: PulsoSession,
    tenant_id: int,
    timeline: Timeline,
    expected: FloatArray,
    rng: np.random.Generator,
    counts: RowCounts,
) -> None:
    """One campaign per paid campaign name, and what each cost per day (from its expected leads that day)."""
    anomaly_day = timeline.anomaly_index(SORRISO_ANOMALY)
    regular = expected.copy()
    regular[anomaly_day] *= 1.0 - PROMO_SHARE_ON_ANOMALY_DAY
    leads_per_day: dict[str, tuple[str, FloatArray, range]] = {}
    for source in LEAD_SOURCES:
        for name, share in source.campaigns:
            leads_per_day[name] = (source.channel, regular * source.share * share, range(timeline.n_days))
    promo = np.zeros(timeline.n_days)
    promo[anomaly_day - 2 : anomaly_day] = 0.3 * expected.mean()
    promo[anomaly_day] = expected[anomaly_day] * PROMO_SHARE_ON_ANOMALY_DAY
    leads_per_day[SORRISO_PROMO_CAMPAIGN] = ("instagram_ads", promo, range(anomaly_day - 2, anomaly_day + 1))

    campaigns = []
    for name, (channel, _, active) in leads_per_day.items():
        source = next(s for s in LEAD_SOURCES if s.channel == channel)
        campaigns.append(
            {
                "tenant_id": tenant_id,
                "channel": channel,
                "name": name,
                "utm_source": source.source,
                "utm_medium": source.medium,
                "started_on": timeline.day(active.start),
                "ended_on": timeline.day(active.stop - 1) if name == SORRISO_PROMO_CAMPAIGN else None,
                "created_at": _midnight(timeline, active.start),
            }
        )
    campaign_ids = insert_returning_ids(session, Campaign, campaigns, counts)
    spend: list[dict[str, Any]] = []
    for campaign_id, (name, (_, leads, active)) in zip(campaign_ids, leads_per_day.items(), strict=True):
        model = PAID_CAMPAIGNS[name]
        noise = np.exp(0.2 * rng.standard_normal((timeline.n_days, 3)))
        for day in active:
            clicks = round(leads[day] * model.clicks_per_lead * noise[day, 1])
            spend.append(
                {
                    "tenant_id": tenant_id,
                    "campaign_id": campaign_id,
                    "day": timeline.day(day),
                    "cost": Decimal(f"{leads[day] * model.cost_per_lead * noise[day, 0]:.2f}"),
                    "currency": "BRL",
                    "impressions": round(clicks / model.click_through_rate * noise[day, 2]),
                    "clicks": clicks,
                }
            )
    insert_rows(session, CampaignSpend, spend, counts)
