"""Measure the planted effects in the stored demo data, the way docs/demo-data.md says to check them.

Every query goes through :func:`pulso.store.tenant_session`; percentiles, funnels and the logistic fit are
computed in numpy on the fetched columns, so the numbers are the same on SQLite and PostgreSQL. The logistic
regression (Newton-Raphson, numpy only) is here only to check effect 6; lead scoring lives in :mod:`pulso.ml`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Engine, func, select

from pulso.config import Settings
from pulso.demo.effects import (
    FUNNEL_STEPS,
    INSIGHTOS_ANOMALY,
    LEAD_CONVERSION_COEFFICIENTS,
    LTV_CAMPAIGN,
    PROCEDURES,
    SORRISO_ANOMALY,
)
from pulso.store.engine import app_engine
from pulso.store.models import Agent, Contact, Conversation, Event, Order, Source, Tenant
from pulso.store.session import PulsoSession, platform_session, tenant_session

SETTLED_DAYS = 30  # leads and signups younger than this may still convert: the funnel and the fit leave them out

FEATURES = tuple(LEAD_CONVERSION_COEFFICIENTS)


@dataclass(frozen=True)
class LogisticFit:
    """Intercept and coefficients (log-odds) by feature name, with standard errors from the Hessian."""

    intercept: float
    coefficients: dict[str, float]
    standard_errors: dict[str, float]
    intercept_standard_error: float
    n: int
    iterations: int


def design_row(attributes: Mapping[str, Any]) -> list[float]:
    """One lead's features, in FEATURES order, from ``contacts.attributes`` as the demo stores them."""
    values = {
        "is_referral": float(bool(attributes["is_referral"])),
        "first_response_under_5min": float(bool(attributes["first_response_under_5min"])),
        "asked_price": float(bool(attributes["asked_price"])),
        "messages_in_first_conversation": float(attributes["messages_in_first_conversation"]),
        "channel_instagram": float(attributes["channel"] == "instagram"),
    }
    for procedure in PROCEDURES[1:]:
        values[f"procedure_{procedure}"] = float(attributes["procedure_interest"] == procedure)
    return [values[name] for name in FEATURES]


def fit_logistic(
    features: NDArray[np.float64] | Sequence[Sequence[float]],
    outcome: NDArray[np.float64] | Sequence[float],
    names: Sequence[str] = FEATURES,
    *,
    max_iterations: int = 50,
    tolerance: float = 1e-10,
) -> LogisticFit:
    """Maximum-likelihood logistic regression with an intercept, by Newton-Raphson on the log-likelihood."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] != len(names):
        raise ValueError(f"features must be (n, {len(names)}) and outcome (n,), got {x.shape} and {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("outcome must be 0 or 1")
    design = np.column_stack([np.ones(len(y)), x])
    beta = np.zeros(design.shape[1])
    hessian = np.eye(design.shape[1])
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (reported after the loop)
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (y - p)
        hessian = (design * (p * (1.0 - p))[:, None]).T @ design
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if float(np.max(np.abs(step))) < tolerance:
            break
    errors = np.sqrt(np.diag(np.linalg.inv(hessian)))
    return LogisticFit(
        intercept=float(beta[0]),
        coefficients={name: float(b) for name, b in zip(names, beta[1:], strict=True)},
        standard_errors={name: float(e) for name, e in zip(names, errors[1:], strict=True)},
        intercept_standard_error=float(errors[0]),
        n=len(y),
        iterations=iterations,
    )


@dataclass(frozen=True)
class DailyAnomaly:
    day: date
    count: int
    ratio_to_mean: float  # the day's count over the mean of every other history day
    is_extreme: bool  # the day is the maximum (spike) or minimum (outage) of the history


@dataclass(frozen=True)
class EffectReport:
    end_date: date
    ltv_ratio: float
    ltv_customers: dict[str, int]  # 'campaign' / 'others'
    funnel_step_conversion: dict[str, float]  # 'a -> b': P(b | a) among users who did a
    largest_drop: tuple[str, str]
    first_response_p95_seconds: dict[str, float]  # by agent external id
    sorriso_weekday: tuple[float, ...]  # realized weekday multipliers, Monday first, mean 1
    insightos_weekday: tuple[float, ...]
    sorriso_anomaly: DailyAnomaly
    insightos_anomaly: DailyAnomaly
    lead_conversion: LogisticFit


def tenant_ids(engine: Engine) -> dict[str, int]:
    with platform_session(engine=engine) as session:
        rows = session.execute(select(Tenant.slug, Tenant.id).where(Tenant.slug.in_(["sorriso", "insightos"]))).all()
    return {slug: int(tenant_id) for slug, tenant_id in rows}


def demo_end_date(session: PulsoSession) -> date:
    """The end_date the demo was seeded with (kept on the tenant's 'demo' source)."""
    config = session.scalar(select(Source.config).where(Source.kind == "demo"))
    if not config:
        raise LookupError("no demo source: seed the demo first (pulso demo seed)")
    return date.fromisoformat(str(config["end_date"]))


def local_day(session: PulsoSession, column: Any, timezone: str, reference: date) -> ColumnElement[Any]:
    """The local calendar day of a UTC timestamp column, in SQL (SQLite: the zone's offset on ``reference``)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(timezone, column))
    offset = ZoneInfo(timezone).utcoffset(datetime(reference.year, reference.month, reference.day))
    hours = int((offset or timedelta()).total_seconds() // 3600)
    return func.date(column, f"{hours:+d} hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def weekday_multipliers(per_day: dict[date, int], start: date, end: date, skip: set[date]) -> tuple[float, ...]:
    """Mean count per weekday over ``start .. end - 1`` (holidays and ``skip`` left out), scaled to mean 1."""
    national = holidays.country_holidays("BR", years=range(start.year, end.year + 1))
    totals, days = np.zeros(7), np.zeros(7)
    day = start
    while day < end:
        if day not in national and day not in skip:
            totals[day.weekday()] += per_day.get(day, 0)
            days[day.weekday()] += 1
        day += timedelta(days=1)
    means = totals / np.maximum(days, 1)
    return tuple(float(m) for m in means / means.mean())


def anomaly(per_day: dict[date, int], start: date, end: date, day: date, *, spike: bool) -> DailyAnomaly:
    counts = {start + timedelta(days=i): per_day.get(start + timedelta(days=i), 0) for i in range((end - start).days)}
    others = [c for d, c in counts.items() if d != day]
    extreme = counts[day] > max(others) if spike else counts[day] < min(others)
    return DailyAnomaly(day, counts[day], counts[day] / float(np.mean(others)), extreme)


def _ltv(session: PulsoSession) -> tuple[float, dict[str, int]]:
    rows = session.execute(
        select(Contact.first_touch_campaign, func.sum(Order.amount))
        .join(Contact, Contact.id == Order.contact_id)
        .where(Order.kind == "subscription_payment")
        .group_by(Contact.id, Contact.first_touch_campaign)
    ).all()
    campaign = [float(total) for name, total in rows if name == LTV_CAMPAIGN]
    others = [float(total) for name, total in rows if name != LTV_CAMPAIGN]
    return float(np.mean(campaign) / np.mean(others)), {"campaign": len(campaign), "others": len(others)}


def _funnel(session: PulsoSession, settled: datetime) -> dict[str, float]:
    """Ordered funnel by user_id over users who signed up before ``settled`` (the later steps take up to a
    month, so younger signups would read as drop-offs): a step counts if every earlier step came before it.
    """
    rows = session.execute(
        select(Event.user_id, Event.name, func.min(Event.occurred_at))
        .where(Event.type == "track", Event.name.in_(FUNNEL_STEPS), Event.user_id.is_not(None))
        .group_by(Event.user_id, Event.name)
    ).all()
    first: dict[str, dict[str, datetime]] = defaultdict(dict)
    for user_id, name, at in rows:
        first[str(user_id)][str(name)] = at
    reached = np.zeros(len(FUNNEL_STEPS))
    for steps in first.values():
        if steps.get(FUNNEL_STEPS[0], settled) >= settled:
            continue
        previous: datetime | None = None
        for k, name in enumerate(FUNNEL_STEPS):
            reached_at = steps.get(name)
            if reached_at is None or (previous is not None and reached_at < previous):
                break
            reached[k] += 1
            previous = reached_at
    return {
        f"{a} -> {b}": float(reached[k + 1] / reached[k]) for k, (a, b) in enumerate(itertools.pairwise(FUNNEL_STEPS))
    }


def _first_response_p95(session: PulsoSession) -> dict[str, float]:
    rows = session.execute(
        select(Agent.external_id, Conversation.created_at, Conversation.first_reply_at)
        .join(Agent, Agent.id == Conversation.assignee_agent_id)
        .where(Conversation.first_reply_at.is_not(None))
    ).all()
    seconds: dict[str, list[float]] = defaultdict(list)
    for agent, created, replied in rows:
        if replied is not None:
            seconds[str(agent)].append((replied - created).total_seconds())
    return {agent: float(np.percentile(values, 95)) for agent, values in sorted(seconds.items())}


def _settled(end: date, timezone: str) -> datetime:
    """Local midnight SETTLED_DAYS before ``end``: leads and signups before it have had time to convert."""
    return datetime.combine(end - timedelta(days=SETTLED_DAYS), datetime.min.time(), tzinfo=ZoneInfo(timezone))


def _lead_conversion(session: PulsoSession, end: date, timezone: str) -> LogisticFit:
    rows = session.execute(
        select(Contact.attributes, Contact.lifecycle_stage).where(Contact.became_lead_at < _settled(end, timezone))
    ).all()
    leads = [(a, stage) for a, stage in rows if a.get("first_response_under_5min") is not None]
    x = np.array([design_row(attributes) for attributes, _ in leads])
    y = np.array([1.0 if stage == "customer" else 0.0 for _, stage in leads])
    return fit_logistic(x, y)


def _per_day(session: PulsoSession, column: Any, timezone: str, end: date, *where: Any) -> dict[date, int]:
    day = local_day(session, column, timezone, end)
    rows = session.execute(select(day, func.count()).where(*where).group_by(day)).all()
    return {_as_date(d): int(n) for d, n in rows if d is not None}


def measure_effects(settings: Settings | None = None, timezone: str = "America/Sao_Paulo") -> EffectReport:
    """Every planted effect, as realized in the database the settings point at."""
    engine = app_engine(settings)
    ids = tenant_ids(engine)
    with tenant_session(ids["sorriso"], engine=engine) as session:
        end = demo_end_date(session)
        start = end - timedelta(days=182)
        spike_day = end - timedelta(days=SORRISO_ANOMALY.days_before_end)
        leads = _per_day(session, Contact.became_lead_at, timezone, end)
        p95 = _first_response_p95(session)
        fit = _lead_conversion(session, end, timezone)
    with tenant_session(ids["insightos"], engine=engine) as session:
        outage_day = end - timedelta(days=INSIGHTOS_ANOMALY.days_before_end)
        ltv_ratio, ltv_customers = _ltv(session)
        funnel = _funnel(session, _settled(end, timezone))
        events = _per_day(session, Event.occurred_at, timezone, end)
        first_seen = select(func.min(Event.occurred_at).label("first")).group_by(Event.anonymous_id).subquery()
        day = local_day(session, first_seen.c.first, timezone, end)
        visitors = {_as_date(d): int(n) for d, n in session.execute(select(day, func.count()).group_by(day)).all()}
    drop = min(funnel, key=lambda step: funnel[step])
    a, _, b = drop.partition(" -> ")
    return EffectReport(
        end_date=end,
        ltv_ratio=ltv_ratio,
        ltv_customers=ltv_customers,
        funnel_step_conversion=funnel,
        largest_drop=(a, b),
        first_response_p95_seconds=p95,
        sorriso_weekday=weekday_multipliers(leads, start, end, {spike_day}),
        insightos_weekday=weekday_multipliers(visitors, start, end, {outage_day, outage_day + timedelta(days=1)}),
        sorriso_anomaly=anomaly(leads, start, end, spike_day, spike=True),
        insightos_anomaly=anomaly(events, start, end, outage_day, spike=False),
        lead_conversion=fit,
    )
