"""Local calendar periods (day, ISO week, month) for SQL on SQLite and PostgreSQL alike.

Two tools. A *period table* is a small ``VALUES`` CTE of periods with their UTC bounds (each period runs from one
local midnight to another, computed here with zoneinfo), so rows are put in periods by a plain range join on their
UTC timestamps, whatever the database and the daylight-saving rules. :func:`local_date` is a timestamp's local
calendar day as a SQL expression: PostgreSQL converts with ``timezone()``; SQLite, which has no time zones, shifts
by the zone's UTC offset, chosen with a ``CASE`` over the offset changes of the span in question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, case, cast, column, func, literal, type_coerce, values

from pulso.store.session import PulsoSession
from pulso.store.types import UTCDateTime

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")


def period_start(day: date, period: Period) -> date:
    """The first day of the period holding ``day``: itself, its ISO week's Monday, or its month's first day."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def shift(start: date, period: Period, count: int) -> date:
    """The first day of the period ``count`` periods after (or, negative, before) the one starting on ``start``."""
    if period == "day":
        return start + timedelta(days=count)
    if period == "week":
        return start + timedelta(weeks=count)
    months = start.year * 12 + start.month - 1 + count
    return date(months // 12, months % 12 + 1, 1)


def local_midnight(day: date, timezone: str) -> datetime:
    """The UTC instant at which ``day`` begins in ``timezone``."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


@dataclass(frozen=True)
class PeriodSpan:
    index: int
    first_day: date
    start_utc: datetime
    end_utc: datetime


def span(index: int, first_day: date, period: Period, timezone: str) -> PeriodSpan:
    """The period starting on ``first_day``, with its UTC bounds."""
    ends = shift(first_day, period, 1)
    return PeriodSpan(index, first_day, local_midnight(first_day, timezone), local_midnight(ends, timezone))


def spans(first: date, count: int, period: Period, timezone: str) -> list[PeriodSpan]:
    """``count`` consecutive periods from the one starting on ``first``, with their UTC bounds."""
    return [span(index, shift(first, period, index), period, timezone) for index in range(count)]


def period_table(periods: list[PeriodSpan], name: str) -> Any:
    """A CTE ``name(idx, first_day, start_utc, end_utc)``: join rows with ``start_utc <= at < end_utc``."""
    table = values(
        column("idx", Integer), column("first_day", Date), column("start_utc", UTCDateTime),
        column("end_utc", UTCDateTime), name=name,
    )  # fmt: skip
    return table.data([(p.index, p.first_day, p.start_utc, p.end_utc) for p in periods]).cte(name)


def day_table(rows: list[tuple[date, date]], name: str) -> Any:
    """A CTE ``name(day, window_first)`` of local days with the first day of a window ending on each."""
    table = values(column("day", Date), column("window_first", Date), name=name)
    return table.data(rows).cte(name)


def local_date(session: PulsoSession, at: Any, timezone: str, since: datetime, until: datetime) -> Any:
    """The local calendar day of the UTC timestamp ``at`` in ``timezone``, as a SQL date. On SQLite it is exact for
    timestamps in ``[since, until)`` (outside, the nearest offset in force is used)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(timezone, at), Date())
    offsets = offset_changes(timezone, since, until)
    shifts = [f"{minutes:+d} minutes" for _, minutes in offsets]
    modifier: Any = literal(shifts[0])
    if len(offsets) > 1:
        whens = [(at < literal(changed, UTCDateTime), shifts[i]) for i, (changed, _) in enumerate(offsets[1:])]
        modifier = case(*whens, else_=shifts[-1])
    return type_coerce(func.date(at, modifier), Date())


def days_between(session: PulsoSession, later: date, earlier: Any) -> Any:
    """Whole days from the SQL date ``earlier`` to the day ``later``, as a SQL integer."""
    if session.get_bind().dialect.name == "postgresql":
        return literal(later, Date()) - earlier
    return cast(func.julianday(literal(later, Date())) - func.julianday(earlier), Integer)


def offset_changes(timezone: str, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    """The UTC offsets (minutes) in force over ``[since, until)``, each with the UTC instant from which it holds."""
    zone = ZoneInfo(timezone)

    def offset(minute: int) -> int:
        moment = datetime.fromtimestamp(minute * 60, UTC).astimezone(zone)
        return int((moment.utcoffset() or timedelta()).total_seconds() // 60)

    first, last = int(since.timestamp()) // 60, int(until.timestamp()) // 60
    found = [(since, offset(first))]
    day = 24 * 60
    for low in range(first, last, day):
        high = min(low + day, last)
        if offset(high) == found[-1][1]:
            continue
        while high - low > 1:  # offsets change on whole minutes: bisect to the first minute of the new one
            middle = (low + high) // 2
            low, high = (middle, high) if offset(middle) == found[-1][1] else (low, middle)
        found.append((datetime.fromtimestamp(high * 60, UTC), offset(high)))
    return found
