"""Funnels over tracked events or contact lifecycle moments: per-step counts, conversion, drop-off, time to convert.

A query object (STYLE.md point 7): :class:`FunnelParams` in, :class:`FunnelResult` out, carrying the resolved range
and the definitions used. The database reads the candidate rows, filtered, with one bit per step they match
(:mod:`pulso.metrics.funnel_sql`, the same on SQLite and PostgreSQL); numpy matches the attempts in a few array
passes (:mod:`pulso.metrics.funnel_match`); this module counts, times and groups them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from pulso.metrics import funnel_match, funnel_sql
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.metrics.percentiles import order_stats
from pulso.store.session import PulsoSession

Order = Literal["sequential", "strict", "any"]
ORDERS: tuple[Order, ...] = ("sequential", "strict", "any")
Count = Literal["uniques", "totals"]
COUNTS: tuple[Count, ...] = ("uniques", "totals")
Source = Literal["events", "lifecycle"]
SOURCES: tuple[Source, ...] = ("events", "lifecycle")
FIXED_BREAKDOWNS = ("none", "first_touch_channel", "first_touch_campaign")
BREAKDOWN_PREFIXES = ("property:", "attribute:")
# the lifecycle moments, in their order: step name -> contacts column
LIFECYCLE_STEPS = {"first_seen": "first_seen_at", "lead": "became_lead_at", "customer": "became_customer_at"}
MAX_STEPS = 10
MAX_EXCLUSIONS = 10  # steps and exclusions share one 64-bit mask per row
MAX_WINDOW = timedelta(days=365)
DEFAULT_WINDOW = timedelta(days=14)
# histogram edges of the time to convert, in seconds; those below the conversion window are used, the last bin
# ends at the window (included)
HISTOGRAM_EDGES = (0, 60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 90 * 86400)
NO_VALUE = "(none)"
OTHER = "(other)"
_KEY = re.compile(r"^[A-Za-z0-9_.$-]{1,100}$")

DEFINITIONS = {
    "person": (
        "events.contact_id (identity-resolved); an event without a contact belongs to its anonymous_id. Events with "
        "neither are ignored. With contact filters or a contact breakdown, anonymous people have no contact: they "
        "fail every contact filter and fall in the '(none)' group."
    ),
    "steps": (
        "Step 1 is entered by a step-1 event (a track event of that name whose properties equal the given values, "
        "compared as text) in the range of local days; each later step is the earliest matching event of the same "
        "person after the previous step's event (ties on the clock are ordered by event id), no later than the "
        "conversion window after step 1 and, where a step window is set, no later than that after the previous step. "
        "Lifecycle source: a contact's first_seen_at, became_lead_at and became_customer_at are the step events."
    ),
    "order": (
        "sequential: the steps in order, other events may happen in between; strict: each step is the person's very "
        "next track event after the previous step; any: step 1 first, then steps 2..N in any order inside the "
        "window (a step counts as reached when it and every step before it in the list were done)."
    ),
    "exclusions": (
        "An exclusion (event, from, to) cuts an attempt back to step `from` when the person's next exclusion event "
        "after the attempt's step-`from` event (in event order) comes strictly before the furthest step it reached "
        "among from+1..to. Attempts that never passed `from` are not affected. Several exclusions apply from the "
        "largest `from` to the smallest, each to the attempt as the previous ones left it."
    ),
    "count": (
        "uniques: each person once, by their best attempt (the furthest step, then the earliest entry); totals: "
        "every step-1 event in the range is an attempt."
    ),
    "conversion": (
        "conversion_from_first = step count / step-1 count; conversion_from_previous = step count / previous step "
        "count; dropped = previous step count - step count (people or attempts that reached the previous step but "
        "not this one); drop_off_rate = dropped / previous step count."
    ),
    "time": (
        "Seconds. Time from the previous step: the moment the step was reached minus the moment the previous one "
        "was (with order=any, a step is reached when the last of the steps up to it was done). Time to convert: "
        "last step minus step 1, over the attempts that reached the last step. Percentiles interpolate linearly "
        "between ranks (PostgreSQL's percentile_cont)."
    ),
    "breakdown": (
        "first_touch_channel / first_touch_campaign / attribute:<key>: the person's contact; property:<key>: the "
        "step-1 event of the counted attempt. Groups sorted by step-1 count; past breakdown_limit they are summed "
        "into '(other)'; '(none)' holds those without a value."
    ),
    "dropped": (
        "People (each once, by their best attempt) who reached the step but not the next one, with the moment "
        "they reached it, the newest first."
    ),
}


@dataclass(frozen=True)
class FunnelStep:
    """An event name with property equalities, or a lifecycle moment (first_seen, lead, customer)."""

    event: str
    properties: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return self.event + "".join(f"[{key}={value}]" for key, value in self.properties)


@dataclass(frozen=True)
class Exclusion:
    event: str
    from_step: int  # 1-based, as the steps are numbered
    to_step: int


@dataclass(frozen=True)
class FunnelParams:
    date_range: DateRange
    timezone: str
    steps: tuple[FunnelStep, ...]
    source: Source = "events"
    conversion_window: timedelta = DEFAULT_WINDOW
    step_windows: tuple[timedelta | None, ...] = ()  # empty, or one per step after the first (None: no limit)
    order: Order = "sequential"
    exclusions: tuple[Exclusion, ...] = ()
    count: Count = "uniques"
    breakdown: str = "none"
    breakdown_limit: int = 10
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        _check_choice("source", self.source, SOURCES)
        _check_choice("order", self.order, ORDERS)
        _check_choice("count", self.count, COUNTS)
        n = len(self.steps)
        if not 2 <= n <= MAX_STEPS:
            raise ValueError(f"steps: a funnel has 2 to {MAX_STEPS} steps, got {n}")
        for step in self.steps:
            if not step.event or len(step.event) > 200:
                raise ValueError(f"steps: an event name of 1 to 200 characters, got {step.event!r}")
            for key, _ in step.properties:
                if not _KEY.match(key):
                    raise ValueError(f"steps: property key {key!r} (letters, digits, _ . $ -)")
        if self.source == "lifecycle":
            self._check_lifecycle()
        if self.order == "any" and len(set(self.steps)) < n:
            raise ValueError("steps: order=any needs distinct steps (one event cannot be two steps)")
        if not timedelta(minutes=1) <= self.conversion_window <= MAX_WINDOW:
            raise ValueError("window: from 1 minute to 365 days")
        if self.step_windows:
            if len(self.step_windows) != n - 1:
                raise ValueError(f"step_window: one per step after the first ({n - 1}), got {len(self.step_windows)}")
            if self.order == "any":
                raise ValueError("step_window: not available with order=any (steps have no previous step)")
            for window in self.step_windows:
                if window is not None and not timedelta(minutes=1) <= window <= MAX_WINDOW:
                    raise ValueError("step_window: from 1 minute to 365 days, or none")
        if len(self.exclusions) > MAX_EXCLUSIONS:
            raise ValueError(f"exclude: at most {MAX_EXCLUSIONS} exclusions, got {len(self.exclusions)}")
        for exclusion in self.exclusions:
            if not 1 <= exclusion.from_step < exclusion.to_step <= n:
                raise ValueError(
                    f"exclude: steps must satisfy 1 <= from < to <= {n}, got {exclusion.from_step}:{exclusion.to_step}"
                )
            if not exclusion.event:
                raise ValueError("exclude: an event name is needed")
        self._check_breakdown()
        if not 1 <= self.breakdown_limit <= 50:
            raise ValueError(f"breakdown_limit: from 1 to 50, got {self.breakdown_limit}")

    def _check_lifecycle(self) -> None:
        names = [step.event for step in self.steps]
        order = list(LIFECYCLE_STEPS)
        if any(name not in LIFECYCLE_STEPS for name in names) or any(step.properties for step in self.steps):
            raise ValueError(f"steps: with source=lifecycle, steps are {', '.join(order)}, got {', '.join(names)}")
        if names != sorted(names, key=order.index) or len(set(names)) < len(names):
            raise ValueError(f"steps: lifecycle steps go in the order {' -> '.join(order)}")
        if self.exclusions:
            raise ValueError("exclude: exclusions are events, not available with source=lifecycle")

    def _check_breakdown(self) -> None:
        if self.breakdown in FIXED_BREAKDOWNS:
            return
        prefix = next((p for p in BREAKDOWN_PREFIXES if self.breakdown.startswith(p)), None)
        allowed = ", ".join([*FIXED_BREAKDOWNS, "property:<key>", "attribute:<key>"])
        if prefix is None or not _KEY.match(self.breakdown[len(prefix) :]):
            raise ValueError(f"breakdown: must be one of {allowed}, got {self.breakdown!r}")
        if prefix == "property:" and self.source == "lifecycle":
            raise ValueError("breakdown: property:<key> needs source=events")

    @property
    def breakdown_key(self) -> str:
        return self.breakdown.partition(":")[2]


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")


@dataclass(frozen=True)
class StepStats:
    step: int  # 1-based
    name: str
    count: int
    conversion_from_first: float | None
    conversion_from_previous: float | None  # None for step 1
    dropped: int  # reached the previous step, not this one (0 for step 1)
    drop_off_rate: float | None
    median_seconds_from_previous: float | None


@dataclass(frozen=True)
class HistogramBin:
    start_seconds: int
    end_seconds: int  # excluded, except for the last bin, which ends at the conversion window (included)
    count: int


@dataclass(frozen=True)
class TimeToConvert:
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    histogram: tuple[HistogramBin, ...]


@dataclass(frozen=True)
class FunnelSeries:
    """The funnel of one group: everyone (``value`` None and not ``other``), one breakdown value, or the rest."""

    value: str | None
    steps: tuple[StepStats, ...]
    time_to_convert: TimeToConvert
    other: bool = False

    @property
    def label(self) -> str:
        return OTHER if self.other else NO_VALUE if self.value is None else self.value


@dataclass(frozen=True)
class FunnelResult:
    params: FunnelParams
    start_utc: datetime
    end_utc: datetime
    total: FunnelSeries
    breakdown: tuple[FunnelSeries, ...] = ()  # by step-1 count, the largest first; '(other)' last
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))

    @property
    def histogram_edges_seconds(self) -> tuple[int, ...]:
        return _edges(self.params.conversion_window)


@dataclass(frozen=True)
class DroppedPerson:
    contact_id: int | None
    anonymous_id: str | None  # for people without a contact
    name: str | None
    email: str | None
    reached_at: datetime


def funnel(session: PulsoSession, params: FunnelParams) -> FunnelResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    edges = _edges(params.conversion_window)
    candidates = funnel_sql.read(session, params, start, end)
    attempts = funnel_match.match(candidates.rows, _rules(params, start, end))
    units = _units(params, attempts)
    total = _series(params, None, False, attempts, units, edges)
    if params.breakdown == "none":
        return FunnelResult(params, start, end, total)
    index: dict[str | None, int] = {}
    codes = np.array([index.setdefault(v, len(index)) for v in _values(session, params, candidates, attempts, units)])
    sizes = np.bincount(codes, minlength=len(index)) if len(index) else np.zeros(0, dtype=np.int64)
    # by size, then by value with '(none)' first, as the labels sort
    ranked = sorted(index, key=lambda v: (-sizes[index[v]], "0" if v is None else "1" + v))
    kept = ranked[: params.breakdown_limit]
    groups = [_series(params, v, False, attempts, units[codes == index[v]], edges) for v in kept]
    if len(ranked) > len(kept):
        rest = ~np.isin(codes, [index[v] for v in kept])
        groups.append(_series(params, None, True, attempts, units[rest], edges))
    groups.sort(key=lambda s: (s.other, -s.steps[0].count, s.label))
    return FunnelResult(params, start, end, total, tuple(groups))


def _rules(params: FunnelParams, start: datetime, end: datetime) -> funnel_match.Rules:
    def ms(window: timedelta | None) -> int | None:
        return None if window is None else int(window.total_seconds() * 1000)

    return funnel_match.Rules(
        n_steps=len(params.steps),
        order=params.order,
        window_ms=int(params.conversion_window.total_seconds() * 1000),
        step_windows_ms=tuple(ms(w) for w in params.step_windows),
        exclusions=tuple((x.from_step, x.to_step) for x in params.exclusions),
        start_ms=int(start.timestamp() * 1000),
        end_ms=int(end.timestamp() * 1000),
    )


def _units(params: FunnelParams, attempts: funnel_match.Attempts) -> np.ndarray:
    """What is counted: every attempt, or each person's best one (indices into ``attempts``)."""
    if params.count == "uniques":
        return funnel_match.best_per_person(attempts)
    return np.arange(len(attempts.reached))


def _values(
    session: PulsoSession,
    params: FunnelParams,
    candidates: funnel_sql.Candidates,
    attempts: funnel_match.Attempts,
    units: np.ndarray,
) -> list[str | None]:
    """Each unit's breakdown value: its step-1 row's (property, lifecycle) or its contact's."""
    first = attempts.first[units]
    if candidates.value is not None:
        return [None if v is None else str(v) for v in candidates.value[first].tolist()]
    contacts = candidates.contact[first]
    known = funnel_sql.contact_values(session, params, contacts)
    return [known.get(c) for c in contacts.tolist()]


@dataclass(frozen=True)
class DroppedResult:
    params: FunnelParams
    start_utc: datetime
    end_utc: datetime
    step: int
    people: tuple[DroppedPerson, ...]
    definition: str = DEFINITIONS["dropped"]


def dropped(session: PulsoSession, params: FunnelParams, step: int, limit: int = 100) -> DroppedResult:
    """The people whose best attempt reached ``step`` (1-based) but not the next step, the newest first."""
    if not 1 <= step < len(params.steps):
        raise ValueError(f"step: from 1 to {len(params.steps) - 1} (the last step has no next one), got {step}")
    start, end = params.date_range.utc_bounds(params.timezone)
    candidates = funnel_sql.read(session, params, start, end)
    attempts = funnel_match.match(candidates.rows, _rules(params, start, end))
    best = funnel_match.best_per_person(attempts)
    stopped = best[attempts.reached[best] == step]
    people = []
    for unit in stopped.tolist():
        row = int(attempts.first[unit])
        contact = int(candidates.contact[row])
        key = str(contact) if contact >= 0 else funnel_sql.ANONYMOUS + str(candidates.anonymous[row])
        people.append((-int(attempts.at[unit, step - 1]), key, contact, candidates.anonymous[row]))
    people.sort()  # the newest first, then by person key
    people = people[:limit]
    details = funnel_sql.contact_details(session, [contact for _, _, contact, _ in people if contact >= 0])
    found = []
    for at_ms, _, contact, anonymous in people:
        name, email = details.get(contact, (None, None))
        reached = datetime.fromtimestamp(-at_ms / 1000, UTC)
        if contact >= 0:
            found.append(DroppedPerson(contact, None, name, email, reached))
        else:
            found.append(DroppedPerson(None, str(anonymous), None, None, reached))
    return DroppedResult(params, start, end, step, tuple(found))


def _edges(window: timedelta) -> tuple[int, ...]:
    seconds = int(window.total_seconds())
    return (*(edge for edge in HISTOGRAM_EDGES if edge < seconds), seconds)


def _series(
    params: FunnelParams,
    value: str | None,
    other: bool,
    attempts: funnel_match.Attempts,
    units: np.ndarray,
    edges: tuple[int, ...],
) -> FunnelSeries:
    """One group's funnel from its units (indices into ``attempts``)."""
    n = len(params.steps)
    reached = attempts.reached[units]
    at = attempts.at[units]
    counts = [int((reached >= k).sum()) for k in range(1, n + 1)]
    first = counts[0]
    steps = []
    for k in range(1, n + 1):
        count = counts[k - 1]
        previous = counts[k - 2] if k > 1 else 0
        median = None
        if k > 1:
            through = reached >= k
            median = percentile((at[through, k - 1] - at[through, k - 2]) / 1000, "median")
        steps.append(
            StepStats(
                step=k,
                name=params.steps[k - 1].label,
                count=count,
                conversion_from_first=count / first if first else None,
                conversion_from_previous=(count / previous if previous else None) if k > 1 else None,
                dropped=previous - count if k > 1 else 0,
                drop_off_rate=((previous - count) / previous if previous else None) if k > 1 else None,
                median_seconds_from_previous=median,
            )
        )
    converted = reached == n
    seconds = (at[converted, n - 1] - at[converted, 0]) / 1000
    bins = np.searchsorted(np.array(edges[1:-1], dtype=np.float64), seconds, side="right")
    filled = np.bincount(bins, minlength=len(edges) - 1)
    histogram = tuple(HistogramBin(edges[i], edges[i + 1], int(filled[i])) for i in range(len(edges) - 1))
    timing = TimeToConvert(int(converted.sum()), percentile(seconds, "median"), percentile(seconds, "p90"), histogram)
    return FunnelSeries(value, tuple(steps), timing, other=other)


def percentile(values: np.ndarray, name: str) -> float | None:
    """The percentile ``name`` (median, p90...) of ``values``, interpolated linearly between ranks."""
    return getattr(order_stats(values, only=(name,))[0], name)  # type: ignore[no-any-return]
