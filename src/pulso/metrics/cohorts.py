"""Retention: cohorts of people by the period (day, ISO week, month) of a start action, and how many of them do a
return action in each later period N = 0..max_period.

A query object (STYLE.md point 7): :class:`RetentionParams` in, :class:`RetentionResult` out with the resolved
range and the definitions. The two cohort types are PostHog's: ``first_time`` puts each person in the period of
their first-ever start action; ``recurring`` puts a person in every period in which they did the start action.
Periods are local to the tenant's time zone; membership and returns are counted in SQL on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from pulso.metrics.activity import Action, action_rows
from pulso.metrics.calendar import PERIODS, Period, period_start, period_table, spans
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.session import PulsoSession

RetentionType = Literal["first_time", "recurring"]
RETENTION_TYPES: tuple[RetentionType, ...] = ("first_time", "recurring")
MAX_PERIOD = 60

DEFINITIONS = {
    "first_time": "Each person belongs to the cohort of the period of their first-ever start action.",
    "recurring": "A person belongs to the cohort of every period in which they did the start action.",
    "cohorts": (
        "The cohort periods are those holding a day of the range: from the period of its first day to the period of "
        "its last, whole periods in the tenant's time zone (ISO weeks start on Monday)."
    ),
    "retained": (
        "Retained in period N: members of the cohort who did the return action in the N-th period after the cohort's "
        "(N = 0 is the cohort's own period, so with the same start and return action it is the whole cohort). "
        "None where period N begins after observed_until."
    ),
    "average": (
        "Weighted average for period N: retained over cohort size, summed over the cohorts that have reached period N."
    ),
}


@dataclass(frozen=True)
class RetentionParams:
    date_range: DateRange
    timezone: str
    period: Period = "week"
    retention_type: RetentionType = "first_time"
    start_action: Action = field(default_factory=lambda: Action("order"))
    return_action: Action | None = None  # None: the start action
    max_period: int = 8
    observed_until: date | None = None  # the last day with data (today); later periods are not reached yet
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {self.period!r}")
        if self.retention_type not in RETENTION_TYPES:
            raise ValueError(f"retention_type must be one of {', '.join(RETENTION_TYPES)}, got {self.retention_type!r}")
        if not 0 <= self.max_period <= MAX_PERIOD:
            raise ValueError(f"max_period must be between 0 and {MAX_PERIOD}, got {self.max_period}")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    @property
    def returning(self) -> Action:
        return self.return_action or self.start_action


@dataclass(frozen=True)
class Cohort:
    first_day: date  # the cohort period's first local day
    size: int
    retained: tuple[int | None, ...]  # index N = 0..max_period; None: period N not reached yet

    @property
    def rates(self) -> tuple[float | None, ...]:
        return tuple(None if n is None or not self.size else n / self.size for n in self.retained)


@dataclass(frozen=True)
class AverageCell:
    period: int
    cohorts: int  # cohorts that reached the period (and are not empty)
    size: int
    retained: int

    @property
    def rate(self) -> float | None:
        return self.retained / self.size if self.size else None


@dataclass(frozen=True)
class RetentionResult:
    params: RetentionParams
    start_utc: datetime
    end_utc: datetime
    cohorts: list[Cohort]
    average: list[AverageCell]
    definitions: dict[str, str] = field(default_factory=dict)


def retention(session: PulsoSession, params: RetentionParams) -> RetentionResult:
    first = period_start(params.date_range.start, params.period)
    last = period_start(params.date_range.end, params.period)
    cohort_count = _count(first, last, params.period)
    periods = spans(first, cohort_count + params.max_period, params.period, params.timezone)
    table = period_table(periods, "retention_periods")
    cohort_end = periods[cohort_count - 1].end_utc
    window_end = periods[-1].end_utc

    since = None if params.retention_type == "first_time" else periods[0].start_utc  # first-ever: all history
    starts = action_rows(params.start_action, params.filters, cohort_end, since).subquery("starts")
    if params.retention_type == "first_time":
        firsts = select(starts.c.person, func.min(starts.c.at).label("at")).group_by(starts.c.person)
        starts = firsts.subquery("firsts")
    members = (
        select(starts.c.person, table.c.idx.label("cohort"))
        .join(table, and_(starts.c.at >= table.c.start_utc, starts.c.at < table.c.end_utc))
        .where(table.c.idx < cohort_count)
        .distinct()
        .subquery("members")
    )
    returns_from = periods[0].start_utc
    returned = action_rows(params.returning, params.filters, window_end, returns_from).subquery("returned")
    returns = (
        select(returned.c.person, table.c.idx.label("period"))
        .join(table, and_(returned.c.at >= table.c.start_utc, returned.c.at < table.c.end_utc))
        .distinct()
        .subquery("returns")
    )
    sizes: dict[int, int] = dict(
        session.execute(select(members.c.cohort, func.count()).group_by(members.c.cohort)).all()
    )
    offset = (returns.c.period - members.c.cohort).label("n")
    counted = session.execute(
        select(members.c.cohort, offset, func.count())
        .join(
            returns,
            and_(
                returns.c.person == members.c.person,
                returns.c.period >= members.c.cohort,
                returns.c.period <= members.c.cohort + params.max_period,
            ),
        )
        .group_by(members.c.cohort, offset)
    ).all()
    retained = {(int(c), int(n)): int(count) for c, n, count in counted}

    cohorts: list[Cohort] = []
    for index in range(cohort_count):
        row: list[int | None] = []
        for n in range(params.max_period + 1):
            reached = params.observed_until is None or periods[index + n].first_day <= params.observed_until
            row.append(retained.get((index, n), 0) if reached else None)
        cohorts.append(Cohort(periods[index].first_day, int(sizes.get(index, 0)), tuple(row)))
    average = []
    for n in range(params.max_period + 1):
        grown = [c for c in cohorts if c.retained[n] is not None and c.size]
        average.append(AverageCell(n, len(grown), sum(c.size for c in grown), sum(c.retained[n] or 0 for c in grown)))
    definitions = {
        **{k: v for k, v in DEFINITIONS.items() if k not in RETENTION_TYPES},
        "type": DEFINITIONS[params.retention_type],
        "start_action": params.start_action.definition,
        "return_action": params.returning.definition,
    }
    return RetentionResult(params, periods[0].start_utc, cohort_end, cohorts, average, definitions)


def _count(first: date, last: date, period: Period) -> int:
    """How many periods from the one starting on ``first`` to the one starting on ``last``, both included."""
    if period == "day":
        return (last - first).days + 1
    if period == "week":
        return (last - first).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1
