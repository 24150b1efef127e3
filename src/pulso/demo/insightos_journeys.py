"""InsightOS visitors: sessions on the website, the signup funnel (effect 2), the plan and monthly payments
(effect 1) and logged-in product use, as timed hits that :mod:`pulso.demo.insightos_events` turns into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pulso.demo.effects import (
    FUNNEL_STEP_PROBABILITIES,
    INSIGHTOS_HOLIDAY_MULTIPLIER,
    INSIGHTOS_WEEKDAY_MULTIPLIERS,
    LTV_CAMPAIGN,
    MONTHLY_RENEWAL_PROBABILITY,
    PLAN_MIX_LTV_CAMPAIGN,
    PLAN_MIX_OTHERS,
    PLAN_PRICES_BRL,
)
from pulso.demo.insightos_site import APP_PAGES, FUNNEL_PAGES, SOURCES, TrafficSource, site_pages
from pulso.demo.timeline import SECONDS_PER_DAY, IntArray, Timeline, sample_seconds_of_day

# Local hour-of-day profile of website and product use: office hours with a lunch dip and a short evening tail.
HOUR_WEIGHTS = (0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 1.2, 3, 5, 6, 6, 4.5, 5, 6, 6, 5.5, 4.5, 3, 2.2, 2, 1.6, 1, 0.5)
APP_VISIT_PROBABILITY = 0.30  # per active day, times the weekday (or holiday) multiplier
GOLDEN_FRACTION = 0.6180339887498949
PLANS = tuple(PLAN_PRICES_BRL)


@dataclass
class Hit:
    """One event before it is a row: milliseconds, Segment type, name, page path, properties, session, device.

    Website sessions are numbered 0, 1, ...; logged-in visits get negative numbers (no campaign context).
    """

    at: int
    type: str
    name: str | None
    path: str
    properties: dict[str, Any]
    session: int
    device: int = 0
    identified: bool = False


@dataclass
class Journey:
    source: TrafficSource
    sessions: list[TrafficSource | None]  # the campaign context of each session (None: direct, no UTM)
    referrers: list[str]  # the referrer of each website session's first page ('' for direct)
    hits: list[Hit] = field(default_factory=list)
    signed_up_at: int | None = None  # ms
    subscribed_at: int | None = None
    plan: str | None = None
    payments: list[int] = field(default_factory=list)  # ms
    cancelled_at: int | None = None
    second_device: bool = False
    visits: int = 0

    def next_visit(self) -> int:
        """A new logged-in visit's (negative) session number."""
        self.visits += 1
        return -self.visits


def add_months(timestamp_ms: int, months: int, timeline: Timeline) -> int:
    """Same local day-of-month (clamped to 28) and time, ``months`` later: a monthly billing date."""
    seconds = timestamp_ms // 1000
    day = timeline.day_of(seconds)
    local = timeline.day(day)
    month_index = local.month - 1 + months
    target = local.replace(year=local.year + month_index // 12, month=month_index % 12 + 1, day=min(local.day, 28))
    return (timeline.at(timeline.index_of(target), seconds - timeline.at(day, 0))) * 1000 + timestamp_ms % 1000


class JourneyMaker:
    def __init__(self, rng: np.random.Generator, timeline: Timeline) -> None:
        self.rng = rng
        self.timeline = timeline
        self.cutoff_ms = timeline.cutoff * 1000
        # Plans are drawn by stratified sampling (a golden-ratio sequence per first-touch group), so the realized
        # plan mix follows the documented mix closely even for a few hundred customers.
        self.plan_draws = {True: float(rng.random()), False: float(rng.random())}
        weekday = np.asarray(INSIGHTOS_WEEKDAY_MULTIPLIERS)[timeline.weekday]
        self.visit_probability = APP_VISIT_PROBABILITY * np.where(
            timeline.is_holiday, INSIGHTOS_HOLIDAY_MULTIPLIER, weekday
        )

    def _seconds(self, size: int) -> IntArray:
        return sample_seconds_of_day(self.rng, HOUR_WEIGHTS, size)

    def _dwell_ms(self) -> int:
        return int(np.exp(np.log(45_000) + 0.8 * self.rng.standard_normal())) + 2_000

    def _visit(
        self, journey: Journey, start: int, paths: list[str], session: int, device: int, identified: bool
    ) -> int:
        t = start
        for path in paths:
            journey.hits.append(Hit(t, "page", None, path, {}, session, device, identified))
            t += self._dwell_ms()
        return t

    def _track(self, journey: Journey, at: int, name: str, properties: dict[str, Any], session: int = 0) -> None:
        """A named event and the page view just before it (anonymous for the signup page)."""
        session = session if name == "user_signed_up" else journey.next_visit()
        page_at = at - int(self.rng.integers(3_000, 30_000))
        journey.hits.append(Hit(page_at, "page", None, FUNNEL_PAGES[name], {}, session, 0, name != "user_signed_up"))
        journey.hits.append(Hit(at, "track", name, FUNNEL_PAGES[name], properties, session, 0, True))

    def make(self, day: int, seconds: int) -> Journey:
        """One visitor first seen on local ``day`` at ``seconds``: everything they will ever do."""
        rng = self.rng
        shares = np.array([s.share for s in SOURCES])
        source = SOURCES[int(rng.choice(len(SOURCES), p=shares / shares.sum()))]
        n_sessions = 1 + int(rng.poisson(0.6))
        sessions: list[TrafficSource | None] = [source]
        sessions += [source if rng.random() < 0.3 and source.utm else None for _ in range(n_sessions - 1)]
        referrers = [s.referrers[int(rng.integers(len(s.referrers)))] if s else "" for s in sessions]
        journey = Journey(source, sessions, referrers)
        signs_up = rng.random() < source.signup_rate
        start = self.timeline.at(day, seconds) * 1000 + int(rng.integers(1000))
        end = start
        for s in range(n_sessions):
            if s:
                start = end + int(rng.exponential(2.5) * SECONDS_PER_DAY * 1000) + 600_000
            paths = site_pages(rng, source.landing if sessions[s] is not None else "/", 1 + int(rng.poisson(1.4)))
            end = self._visit(journey, start, paths, s, 0, False)
        if signs_up:
            self._funnel(journey, end + int(rng.integers(20_000, 120_000)), n_sessions - 1)
        return journey

    def _funnel(self, journey: Journey, signed_up: int, session: int) -> None:
        rng, day_ms = self.rng, SECONDS_PER_DAY * 1000
        journey.signed_up_at = signed_up
        method = "google" if rng.random() < 0.35 else "email"
        journey.hits.append(
            Hit(signed_up - 500, "identify", None, FUNNEL_PAGES["user_signed_up"], {}, session, 0, True)
        )
        self._track(journey, signed_up, "user_signed_up", {"method": method, "trial_days": 14}, session)
        verify, project, invite, subscribe = (rng.random(4) < np.asarray(FUNNEL_STEP_PROBABILITIES)).tolist()
        active_until = signed_up + int(rng.uniform(0, 2) * day_ms)
        if not verify:
            return
        t = signed_up + int(np.exp(np.log(600_000) + rng.standard_normal()))
        self._track(journey, t, "user_verified", {"method": "email_link" if method == "email" else "google"})
        if project:
            t += min(int(np.exp(np.log(3 * 3_600_000) + 1.8 * rng.standard_normal())), 10 * day_ms)
            template = ("kanban", "scrum", "okr", "em_branco")[int(rng.integers(4))]
            self._track(
                journey,
                t,
                "project_created",
                {"project_id": f"prj_{int(rng.integers(16**8)):08x}", "template": template},
            )
            active_until = t + int(min(rng.exponential(10.0), 30.0) * day_ms)
            if invite:
                t += min(int(np.exp(np.log(day_ms) + rng.standard_normal())), 10 * day_ms)
                invites = 1 + int(rng.poisson(1.2))
                self._track(journey, t, "invited_teammate", {"invites": invites, "role": "membro"})
                if subscribe:
                    t = max(t + 3_600_000, signed_up + int(rng.uniform(5, 16) * day_ms))
                    self._subscribe(journey, t)
                    active_until = journey.cancelled_at or self.cutoff_ms
        journey.second_device = rng.random() < 0.2
        self._use_product(journey, signed_up, active_until)

    def _subscribe(self, journey: Journey, at: int) -> None:
        rng = self.rng
        group = journey.source.campaign == LTV_CAMPAIGN
        mix = PLAN_MIX_LTV_CAMPAIGN if group else PLAN_MIX_OTHERS
        self.plan_draws[group] = (self.plan_draws[group] + GOLDEN_FRACTION) % 1.0
        plan = PLANS[min(int(np.searchsorted(np.cumsum(mix), self.plan_draws[group], side="right")), len(PLANS) - 1)]
        journey.subscribed_at, journey.plan, journey.payments = at, plan, [at]
        price = PLAN_PRICES_BRL[plan]
        properties = {"plan": plan, "price": price, "currency": "BRL", "billing_period": "monthly"}
        self._track(journey, at, "subscription_started", properties)
        month = 1
        while (due := add_months(at, month, self.timeline)) < self.cutoff_ms:
            if rng.random() >= MONTHLY_RENEWAL_PROBABILITY:
                journey.cancelled_at = journey.payments[-1] + int(rng.uniform(3, 28) * SECONDS_PER_DAY * 1000)
                reason = ("preco", "nao_usamos_mais", "mudamos_de_ferramenta", "empresa_fechou")[int(rng.integers(4))]
                self._track(journey, journey.cancelled_at, "subscription_cancelled", {"plan": plan, "reason": reason})
                return
            journey.payments.append(due)
            month += 1

    def _use_product(self, journey: Journey, signed_up: int, active_until: int) -> None:
        """Logged-in visits on active days after signup, more on busy weekdays (effect 4)."""
        first = self.timeline.day_of(signed_up // 1000) + 1
        last = min(self.timeline.day_of(min(active_until, self.cutoff_ms - 1) // 1000), self.timeline.n_days - 1)
        if last < first:
            return
        days = np.arange(first, last + 1)
        visited = days[self.rng.random(len(days)) < self.visit_probability[days]]
        seconds = self._seconds(len(visited))
        for day, second in zip(visited.tolist(), seconds.tolist(), strict=True):
            device = 1 if journey.second_device and self.rng.random() < 0.3 else 0
            paths = [APP_PAGES[int(i)] for i in self.rng.integers(len(APP_PAGES), size=1 + int(self.rng.poisson(1.2)))]
            self._visit(journey, self.timeline.at(day, second) * 1000, paths, journey.next_visit(), device, True)
