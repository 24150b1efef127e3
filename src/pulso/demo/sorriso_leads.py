"""Clínica Sorriso's new leads, drawn a chunk of days at a time: where they came from, what they want, who
answered them, how fast, and whether they will book (the planted logistic model, effect 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pulso.demo.effects import (
    BOOK_IN_FIRST_CONVERSATION,
    BUSINESS_HOURS,
    LEAD_CONVERSION_COEFFICIENTS,
    LEAD_CONVERSION_INTERCEPT,
    MAX_CONVERSION_DAYS,
    PROCEDURES,
    SORRISO_AGENTS,
    SORRISO_PROMO_CAMPAIGN,
)
from pulso.demo.timeline import BoolArray, FloatArray, IntArray, Timeline, sample_seconds_of_day

INBOXES = ("whatsapp", "instagram")
WHATSAPP, INSTAGRAM = 0, 1
# Local hour-of-day profiles of first messages: business-hours peaks, strong evening WhatsApp traffic,
# Instagram later in the day.
HOUR_WEIGHTS = {
    WHATSAPP: (
        0.3,
        0.15,
        0.1,
        0.05,
        0.05,
        0.2,
        0.8,
        2.5,
        5,
        7,
        7.5,
        7,
        5,
        5.5,
        6.5,
        6.5,
        6,
        5.5,
        5.5,
        6,
        6.5,
        5.5,
        3,
        1,
    ),
    INSTAGRAM: (0.6, 0.3, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 3.5, 4, 4, 4, 4, 4, 4, 4.5, 5, 6, 7, 8, 8, 6, 2.5),
}


@dataclass(frozen=True)
class LeadSource:
    channel: str  # contacts.first_touch_channel
    source: str
    medium: str
    share: float
    instagram_share: float  # probability the first conversation comes through the Instagram inbox
    campaigns: tuple[tuple[str, float], ...] = ()


LEAD_SOURCES = (
    LeadSource(
        "instagram_ads",
        "instagram",
        "paid_social",
        0.30,
        0.70,
        (("sorriso_clareamento_ig", 0.6), ("sorriso_ortodontia_ig", 0.4)),
    ),
    LeadSource(
        "google_ads",
        "google",
        "cpc",
        0.22,
        0.05,
        (("sorriso_implante_search", 0.55), ("sorriso_emergencia_search", 0.45)),
    ),
    LeadSource("referral", "indicacao", "referral", 0.15, 0.05),
    LeadSource("organic_instagram", "instagram", "organic", 0.18, 0.75),
    LeadSource("organic_search", "google", "organic", 0.08, 0.10),
    LeadSource("direct", "(direct)", "(none)", 0.07, 0.10),
)
PROMO_SOURCE = 0  # promotion-day leads come from instagram_ads, campaign SORRISO_PROMO_CAMPAIGN
PROMO_SHARE_ON_ANOMALY_DAY = 0.75
GENERAL_PROCEDURE_MIX = (0.22, 0.22, 0.18, 0.15, 0.10, 0.13)  # in PROCEDURES order
CAMPAIGN_FOCUS = {
    "sorriso_clareamento_ig": ("clareamento", 0.70),
    "sorriso_ortodontia_ig": ("ortodontia", 0.65),
    "sorriso_implante_search": ("implante", 0.70),
    "sorriso_emergencia_search": ("canal", 0.65),
    SORRISO_PROMO_CAMPAIGN: ("clareamento", 0.85),
}
ASKED_PRICE_PROBABILITY = (0.30, 0.45, 0.75, 0.65, 0.70, 0.40)  # in PROCEDURES order
MAX_INCOMING_MESSAGES = 10
HUMAN_AGENTS = [i for i, a in enumerate(SORRISO_AGENTS) if a.kind == "human"]
BOT_AGENT = next(i for i, a in enumerate(SORRISO_AGENTS) if a.kind == "bot")


@dataclass(frozen=True)
class LeadBatch:
    """Every new lead of a chunk of days, one array element per lead, in time order."""

    day: IntArray
    created: IntArray  # UTC epoch seconds of the first message
    source: IntArray  # index into LEAD_SOURCES
    campaign: list[str | None]
    inbox: IntArray  # WHATSAPP or INSTAGRAM
    procedure: IntArray  # index into PROCEDURES
    asked_price: BoolArray
    incoming_messages: IntArray  # in the first conversation
    agent: IntArray  # index into SORRISO_AGENTS
    first_response_seconds: IntArray
    converts: BoolArray
    books_in_first: BoolArray
    conversion_delay_days: FloatArray  # for converting leads that book in a follow-up conversation
    log_odds: FloatArray

    def __len__(self) -> int:
        return len(self.day)


def in_business_hours(timeline: Timeline, day: IntArray, seconds: IntArray) -> BoolArray:
    weekday = timeline.weekday[day]
    opening = np.array([BUSINESS_HOURS.get(w, (0, 0))[0] for w in range(7)])[weekday] * 3600
    closing = np.array([BUSINESS_HOURS.get(w, (0, 0))[1] for w in range(7)])[weekday] * 3600
    return np.asarray((seconds >= opening) & (seconds < closing) & ~timeline.is_holiday[day], dtype=np.bool_)


def assign_agents(rng: np.random.Generator, timeline: Timeline, day: IntArray, seconds: IntArray) -> IntArray:
    """Humans (by share) inside business hours, the bot outside."""
    shares = np.array([SORRISO_AGENTS[i].share for i in HUMAN_AGENTS])
    humans = np.asarray(HUMAN_AGENTS)[rng.choice(len(HUMAN_AGENTS), size=len(day), p=shares / shares.sum())]
    return np.asarray(np.where(in_business_hours(timeline, day, seconds), humans, BOT_AGENT), dtype=np.int64)


def reply_seconds(rng: np.random.Generator, agent: IntArray, scale: float = 1.0) -> IntArray:
    """Log-normal reply delays with each agent's median (times ``scale``) and sigma; at least 2 seconds."""
    medians = np.array([a.median_first_response_seconds for a in SORRISO_AGENTS])[agent] * scale
    sigmas = np.array([a.sigma for a in SORRISO_AGENTS])[agent]
    draws = np.exp(np.log(medians) + sigmas * rng.standard_normal(len(agent)))
    return np.asarray(np.maximum(np.rint(draws), 2), dtype=np.int64)


def lead_log_odds(
    is_referral: BoolArray,
    fast: BoolArray,
    asked_price: BoolArray,
    incoming_messages: IntArray,
    inbox: IntArray,
    procedure: IntArray,
) -> FloatArray:
    """The planted model: log-odds of becoming a customer from the stored features."""
    coefficients = LEAD_CONVERSION_COEFFICIENTS
    procedure_effect = np.array([coefficients.get(f"procedure_{p}", 0.0) for p in PROCEDURES])[procedure]
    log_odds = (
        LEAD_CONVERSION_INTERCEPT
        + coefficients["is_referral"] * is_referral
        + coefficients["first_response_under_5min"] * fast
        + coefficients["asked_price"] * asked_price
        + coefficients["messages_in_first_conversation"] * incoming_messages
        + coefficients["channel_instagram"] * (inbox == INSTAGRAM)
        + procedure_effect
    )
    return np.asarray(log_odds, dtype=np.float64)


def draw_leads(
    rng: np.random.Generator, timeline: Timeline, counts: IntArray, days: range, anomaly_day: int
) -> LeadBatch:
    """Draw the leads of ``days`` (``counts`` per history day), features first, then the outcome."""
    day = np.repeat(np.arange(days.start, days.stop), counts[days.start : days.stop]).astype(np.int64)
    n = len(day)
    shares = np.array([s.share for s in LEAD_SOURCES])
    source = rng.choice(len(LEAD_SOURCES), size=n, p=shares / shares.sum())
    promo = (day == anomaly_day) & (rng.random(n) < PROMO_SHARE_ON_ANOMALY_DAY)
    source = np.where(promo, PROMO_SOURCE, source).astype(np.int64)
    campaign: list[str | None] = []
    for i in range(n):
        options = LEAD_SOURCES[source[i]].campaigns
        if promo[i]:
            campaign.append(SORRISO_PROMO_CAMPAIGN)
        elif options:
            weights = np.array([w for _, w in options])
            campaign.append(options[int(rng.choice(len(options), p=weights / weights.sum()))][0])
        else:
            campaign.append(None)
    instagram_share = np.array([s.instagram_share for s in LEAD_SOURCES])[source]
    inbox = np.where(rng.random(n) < instagram_share, INSTAGRAM, WHATSAPP).astype(np.int64)

    procedure = rng.choice(len(PROCEDURES), size=n, p=GENERAL_PROCEDURE_MIX)
    focus_draw = rng.random(n)
    for i, name in enumerate(campaign):
        if name in CAMPAIGN_FOCUS:
            focus, probability = CAMPAIGN_FOCUS[name]
            if focus_draw[i] < probability:
                procedure[i] = PROCEDURES.index(focus)
    procedure = procedure.astype(np.int64)
    asked_price = rng.random(n) < np.asarray(ASKED_PRICE_PROBABILITY)[procedure]
    incoming = np.minimum(1 + rng.poisson(1.6 + 0.7 * asked_price), MAX_INCOMING_MESSAGES).astype(np.int64)

    seconds = np.empty(n, dtype=np.int64)
    for box in (WHATSAPP, INSTAGRAM):
        mask = inbox == box
        seconds[mask] = sample_seconds_of_day(rng, HOUR_WEIGHTS[box], int(mask.sum()))
    created = timeline.to_utc(day, seconds)
    order = np.lexsort((created,))
    agent = assign_agents(rng, timeline, day, seconds)
    first_response = reply_seconds(rng, agent)

    is_referral = source == next(i for i, s in enumerate(LEAD_SOURCES) if s.channel == "referral")
    log_odds = lead_log_odds(is_referral, first_response < 300, asked_price, incoming, inbox, procedure)
    converts = rng.random(n) < 1.0 / (1.0 + np.exp(-log_odds))
    books_in_first = converts & (incoming >= 2) & (rng.random(n) < BOOK_IN_FIRST_CONVERSATION)
    delay = np.minimum(1.0 + rng.exponential(4.0, size=n), MAX_CONVERSION_DAYS)
    return LeadBatch(
        day=day[order],
        created=created[order],
        source=source[order],
        campaign=[campaign[i] for i in order],
        inbox=inbox[order],
        procedure=procedure[order],
        asked_price=asked_price[order],
        incoming_messages=incoming[order],
        agent=agent[order],
        first_response_seconds=first_response[order],
        converts=converts[order],
        books_in_first=books_in_first[order],
        conversion_delay_days=delay[order],
        log_odds=log_odds[order],
    )
