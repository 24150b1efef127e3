"""Business hours as Chatwoot stores them, and the working seconds between two UTC instants.

Chatwoot keeps one ``working_hours`` row per inbox and weekday (``day_of_week`` 0 = Sunday ... 6 = Saturday) with
``closed_all_day``, ``open_all_day`` and local ``open_hour``/``open_minutes``/``close_hour``/``close_minutes`` in the
inbox's ``timezone``; "open all day" is stored (and counted here) as 00:00-23:59, i.e. 23 h 59 min, as Chatwoot's
``value_in_business_hours`` does.

:func:`working_seconds` counts the open time between two instants, day by day in the inbox's local calendar
(O(days), not O(seconds)). Each local opening is turned into a UTC interval through the IANA zone, so a day on
which clocks change counts the real elapsed time (an 00:00-23:59 day is 22 h 59 min or 24 h 59 min long then; a
09:00-18:00 day is untouched because US/EU changes happen at night). A local time that does not exist (spring
gap) is read with the offset in force before the change (``fold=0``), like ``zoneinfo``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OPEN_ALL_DAY = (time(0, 0), time(23, 59))
"""How Chatwoot stores an ``open_all_day`` weekday (the last minute of the day is not counted)."""


@dataclass(frozen=True)
class WorkingHoursRow:
    """One Chatwoot ``working_hours`` row (``day_of_week`` 0 = Sunday ... 6 = Saturday)."""

    day_of_week: int
    closed_all_day: bool = False
    open_all_day: bool = False
    open_hour: int | None = None
    open_minutes: int | None = None
    close_hour: int | None = None
    close_minutes: int | None = None


@dataclass(frozen=True)
class OpeningHours:
    """Local opening and closing time of one weekday; ``close`` is exclusive."""

    open: time
    close: time

    def __post_init__(self) -> None:
        if self.close <= self.open:
            raise ValueError(f"closing time {self.close} is not after opening time {self.open}")


@dataclass(frozen=True)
class WorkingHours:
    """An inbox's weekly opening hours in its IANA time zone, plus optional closed local dates (holidays).

    ``by_weekday`` is indexed like :meth:`datetime.date.weekday` (0 = Monday ... 6 = Sunday); ``None`` = closed.
    """

    time_zone: str
    by_weekday: tuple[OpeningHours | None, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.by_weekday) != 7:
            raise ValueError(f"by_weekday needs 7 entries (Monday..Sunday), got {len(self.by_weekday)}")
        ZoneInfo(self.time_zone)  # fail early on an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def has_open_day(self) -> bool:
        return any(day is not None for day in self.by_weekday)

    @classmethod
    def from_chatwoot_rows(
        cls, rows: Iterable[WorkingHoursRow], time_zone: str, holidays: Iterable[date] = ()
    ) -> WorkingHours:
        """Build from Chatwoot rows; a weekday without a row is closed, ``open_all_day`` wins over the hours."""
        days: list[OpeningHours | None] = [None] * 7
        for row in rows:
            if not 0 <= row.day_of_week <= 6:
                raise ValueError(f"day_of_week must be 0 (Sunday) .. 6 (Saturday), got {row.day_of_week}")
            python_weekday = (row.day_of_week - 1) % 7  # Chatwoot 0 = Sunday -> Python 6
            if row.open_all_day:
                days[python_weekday] = OpeningHours(*OPEN_ALL_DAY)
            elif row.closed_all_day:
                days[python_weekday] = None
            else:
                if row.open_hour is None or row.close_hour is None:
                    raise ValueError(f"day_of_week {row.day_of_week} is neither closed nor has open/close hours")
                days[python_weekday] = OpeningHours(
                    time(row.open_hour, row.open_minutes or 0), time(row.close_hour, row.close_minutes or 0)
                )
        return cls(time_zone=time_zone, by_weekday=tuple(days), holidays=frozenset(holidays))

    @classmethod
    def weekly(
        cls, time_zone: str, open_: time, close: time, weekdays: Iterable[int] = range(5), holidays: Iterable[date] = ()
    ) -> WorkingHours:
        """The same hours on the given Python weekdays (default Monday-Friday), closed otherwise."""
        chosen = set(weekdays)
        days = tuple(OpeningHours(open_, close) if day in chosen else None for day in range(7))
        return cls(time_zone=time_zone, by_weekday=days, holidays=frozenset(holidays))


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment}")


def working_seconds(start_utc: datetime, end_utc: datetime, hours: WorkingHours) -> int:
    """Whole seconds of open time in ``[start_utc, end_utc)``; 0 when ``end_utc <= start_utc``."""
    _require_aware(start_utc, "start_utc")
    _require_aware(end_utc, "end_utc")
    if end_utc <= start_utc or not hours.has_open_day:
        return 0
    zone = hours.zone
    start = start_utc.astimezone(UTC)
    end = end_utc.astimezone(UTC)
    # One local day either side covers instants whose local date differs from the UTC one.
    day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    total = timedelta()
    while day <= last_day:
        opening = hours.by_weekday[day.weekday()]
        if opening is not None and day not in hours.holidays:
            open_at = datetime.combine(day, opening.open, tzinfo=zone).astimezone(UTC)
            close_at = datetime.combine(day, opening.close, tzinfo=zone).astimezone(UTC)
            overlap_start = max(open_at, start)
            overlap_end = min(close_at, end)
            if overlap_end > overlap_start:
                total += overlap_end - overlap_start
        day += timedelta(days=1)
    return int(total.total_seconds())
