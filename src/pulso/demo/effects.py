"""The planted effects: every number the demo data is generated from and that ``docs/demo-data.md`` documents.

The generators and the tests both read these constants, so the documentation, the data and the checks cannot
drift apart. Numbers are the *true* parameters of the generating process; realized values vary with the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

WEEKDAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# ---------------------------------------------------------------- 4. weekly seasonality (both tenants)
# Multipliers of the expected daily volume, Monday first; each set averages exactly 1.0.
# Sorriso: new leads (first conversations) per local day. InsightOS: new visitors and logged-in visits per day.
SORRISO_WEEKDAY_MULTIPLIERS: Final = (1.40, 1.20, 1.10, 1.05, 0.95, 0.85, 0.45)
INSIGHTOS_WEEKDAY_MULTIPLIERS: Final = (1.25, 1.20, 1.15, 1.10, 0.95, 0.65, 0.70)
# Brazilian national holidays (holidays.Brazil, public category) replace the weekday multiplier with this one.
SORRISO_HOLIDAY_MULTIPLIER: Final = 0.25
INSIGHTOS_HOLIDAY_MULTIPLIER: Final = 0.35
# Both businesses grow: the expected volume rises linearly from TREND_START to TREND_END over the history.
TREND_START: Final = 0.85
TREND_END: Final = 1.15


# ---------------------------------------------------------------- 5. one anomalous day per tenant
@dataclass(frozen=True)
class Anomaly:
    """One local day, ``days_before_end`` days before ``end_date``, whose expected volume is multiplied."""

    days_before_end: int
    multiplier: float
    description: str


SORRISO_ANOMALY: Final = Anomaly(
    days_before_end=38,
    multiplier=4.0,
    description=(
        "'Dia do Sorriso' Instagram promotion: expected new leads = 4.0 x an average day (the weekday and holiday "
        "multipliers do not apply); three quarters of that day's leads come from campaign promo_dia_do_sorriso"
    ),
)
SORRISO_PROMO_CAMPAIGN: Final = "promo_dia_do_sorriso"
INSIGHTOS_ANOMALY: Final = Anomaly(
    days_before_end=17,
    multiplier=0.10,
    description=(
        "tracking outage: every event whose local day is the outage day is kept with probability 0.10 "
        "(orders and campaign spend are not affected)"
    ),
)


# ---------------------------------------------------------------- 3. first response time per Sorriso agent
@dataclass(frozen=True)
class AgentProfile:
    """An agent and the log-normal distribution its first (and later) replies are drawn from."""

    external_id: str
    name: str
    email: str | None
    kind: str
    median_first_response_seconds: float
    sigma: float
    share: float  # of business-hours conversations (humans); the bot takes every out-of-hours conversation

    @property
    def p95_first_response_seconds(self) -> float:
        return self.median_first_response_seconds * math.exp(Z_95 * self.sigma)

    @property
    def probability_under_5min(self) -> float:
        z = (math.log(300) - math.log(self.median_first_response_seconds)) / self.sigma
        return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


Z_95: Final = 1.6448536269514722
SORRISO_AGENTS: Final = (
    AgentProfile("cw-agent-1", "Ana Paula Ribeiro", "ana.ribeiro@clinicasorriso.com.br", "human", 75.0, 0.85, 0.38),
    AgentProfile("cw-agent-2", "Juliana Costa", "juliana.costa@clinicasorriso.com.br", "human", 120.0, 0.90, 0.34),
    AgentProfile("cw-agent-3", "Marcos Vinícius Lima", "marcos.lima@clinicasorriso.com.br", "human", 540.0, 1.05, 0.28),
    AgentProfile("cw-agent-bot", "Sofia (assistente virtual)", None, "bot", 4.0, 0.40, 0.0),
)
SLOW_AGENT: Final = "cw-agent-3"
# Humans answer conversations that start Mon-Fri 08:00-19:00 and Sat 08:00-13:00 local time, except national
# holidays; every other conversation is answered by the bot.
BUSINESS_HOURS: Final = {0: (8, 19), 1: (8, 19), 2: (8, 19), 3: (8, 19), 4: (8, 19), 5: (8, 13)}


# ---------------------------------------------------------------- 6. Sorriso lead -> customer conversion
PROCEDURES: Final = ("avaliacao", "limpeza", "clareamento", "ortodontia", "implante", "canal")
LEAD_CONVERSION_INTERCEPT: Final = -2.2
# Log-odds of becoming a customer. Every feature is stored in contacts.attributes under the same name
# (procedure_interest holds the procedure; channel holds 'whatsapp' or 'instagram').
LEAD_CONVERSION_COEFFICIENTS: Final[dict[str, float]] = {
    "is_referral": 1.10,
    "first_response_under_5min": 0.80,
    "asked_price": -0.45,
    "messages_in_first_conversation": 0.22,
    "channel_instagram": -0.55,
    "procedure_limpeza": 0.50,
    "procedure_clareamento": 0.25,
    "procedure_ortodontia": 0.00,
    "procedure_implante": -0.40,
    "procedure_canal": 0.90,
}
# A converting lead books within the first conversation with this probability (when it has >= 2 incoming
# messages); otherwise in a follow-up conversation 1-21 days later.
BOOK_IN_FIRST_CONVERSATION: Final = 0.65
MAX_CONVERSION_DAYS: Final = 21


def conversion_log_odds(features: dict[str, float]) -> float:
    """The true log-odds for one lead, from the same feature names the attributes use."""
    return LEAD_CONVERSION_INTERCEPT + sum(
        c * features.get(name, 0.0) for name, c in LEAD_CONVERSION_COEFFICIENTS.items()
    )


# ---------------------------------------------------------------- 2. InsightOS funnel
FUNNEL_STEPS: Final = (
    "user_signed_up",
    "user_verified",
    "project_created",
    "invited_teammate",
    "subscription_started",
)
# P(next step | previous step), the same for every campaign. The smallest is the planted largest drop.
FUNNEL_STEP_PROBABILITIES: Final = (0.86, 0.48, 0.74, 0.76)
LARGEST_DROP: Final = ("user_verified", "project_created")


# ---------------------------------------------------------------- 1. InsightOS lifetime value by first touch
LTV_CAMPAIGN: Final = "google_gestao_agil"
PLAN_PRICES_BRL: Final = {"starter": 59.0, "equipe": 179.0, "empresa": 459.0}
# Plan chosen at subscription_started, by first-touch campaign; renewal and churn are the same for everyone,
# so the expected LTV ratio equals the ratio of expected monthly prices whatever the observation window.
PLAN_MIX_LTV_CAMPAIGN: Final = (0.09, 0.40, 0.51)
PLAN_MIX_OTHERS: Final = (0.60, 0.30, 0.10)
MONTHLY_RENEWAL_PROBABILITY: Final = 0.91


def expected_plan_price(mix: tuple[float, ...]) -> float:
    return sum(p * price for p, price in zip(mix, PLAN_PRICES_BRL.values(), strict=True))


def true_ltv_ratio() -> float:
    """E[LTV | first touch google_gestao_agil] / E[LTV | any other first touch] = 311.00 / 135.00."""
    return expected_plan_price(PLAN_MIX_LTV_CAMPAIGN) / expected_plan_price(PLAN_MIX_OTHERS)
