"""Active users: DAU, MAU (trailing 30 days) and stickiness (DAU / MAU) per local day of the range.

A query object (STYLE.md point 7): :class:`ActiveUsersParams` in, :class:`ActiveUsersResult` out with the resolved
range and the definitions. Distinct people are counted in SQL on both databases: activity is reduced to distinct
(person, local day) pairs, then joined to a table of the range's days and their 30-day windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, select

from pulso.metrics.activity import ACTIVE_DEFINITION, active_rows
from pulso.metrics.calendar import day_table, local_date, local_midnight
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.session import PulsoSession

MAU_DAYS = 30

DEFINITIONS = {
    "active": ACTIVE_DEFINITION,
    "dau": "Distinct active people on the local day.",
    "mau": f"Distinct active people over the trailing {MAU_DAYS} local days ending on the day (the day included).",
    "stickiness": "DAU / MAU of the day; over the range, mean DAU / mean MAU.",
}


@dataclass(frozen=True)
class ActiveUsersParams:
    date_range: DateRange
    timezone: str
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone


@dataclass(frozen=True)
class ActiveDay:
    day: date
    dau: int
    mau: int

    @property
    def stickiness(self) -> float | None:
        return self.dau / self.mau if self.mau else None


@dataclass(frozen=True)
class ActiveUsersResult:
    params: ActiveUsersParams
    start_utc: datetime
    end_utc: datetime
    days: list[ActiveDay]
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))

    @property
    def mean_dau(self) -> float | None:
        return sum(d.dau for d in self.days) / len(self.days) if self.days else None

    @property
    def mean_mau(self) -> float | None:
        return sum(d.mau for d in self.days) / len(self.days) if self.days else None

    @property
    def stickiness(self) -> float | None:
        dau, mau = self.mean_dau, self.mean_mau
        return dau / mau if dau is not None and mau else None


def active_users(session: PulsoSession, params: ActiveUsersParams) -> ActiveUsersResult:
    days = params.date_range.dates()
    window_first = days[0] - timedelta(days=MAU_DAYS - 1)
    since = local_midnight(window_first, params.timezone)
    start_utc, end_utc = params.date_range.utc_bounds(params.timezone)
    activity = active_rows(params.filters, since, end_utc).subquery("activity")
    day = local_date(session, activity.c.at, params.timezone, since, end_utc).label("day")
    daily = select(activity.c.person, day).distinct().subquery("daily")
    table = day_table([(d, d - timedelta(days=MAU_DAYS - 1)) for d in days], "range_days")
    dau = func.count(distinct(case((daily.c.day == table.c.day, daily.c.person))))
    mau = func.count(distinct(daily.c.person))
    rows = session.execute(
        select(table.c.day, dau, mau)
        .select_from(table)
        .outerjoin(daily, and_(daily.c.day >= table.c.window_first, daily.c.day <= table.c.day))
        .group_by(table.c.day)
        .order_by(table.c.day)
    ).all()
    found = [ActiveDay(d, int(n_day), int(n_month)) for d, n_day, n_month in rows]
    return ActiveUsersResult(params, start_utc, end_utc, found)
