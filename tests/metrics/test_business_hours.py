"""working_seconds on hand-worked spans; each expected value is worked out in the comment above it.

America/Sao_Paulo is UTC-3 all year (no DST since 2019). America/New_York: EST UTC-5, EDT UTC-4; clocks go
forward on Sunday 2025-03-09 02:00 and back on Sunday 2025-11-02 02:00.
"""

from __future__ import annotations

import time as wall_clock
from datetime import UTC, date, datetime, time, timedelta

import pytest

from pulso.metrics.business_hours import OpeningHours, WorkingHours, WorkingHoursRow, working_seconds

SAO_PAULO = "America/Sao_Paulo"
NEW_YORK = "America/New_York"
NINE_TO_SIX = WorkingHours.weekly(SAO_PAULO, time(9), time(18))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_friday_evening_to_monday_morning_is_twenty_business_minutes() -> None:
    # Fri 2025-03-07 17:50 local (20:50Z) -> Mon 2025-03-10 09:10 local (12:10Z):
    # business 17:50-18:00 + 09:00-09:10 = 20 min = 1200 s; wall 2 d 15 h 20 min = 63 h 20 min = 228000 s.
    start, end = utc(2025, 3, 7, 20, 50), utc(2025, 3, 10, 12, 10)
    assert working_seconds(start, end, NINE_TO_SIX) == 1200
    assert int((end - start).total_seconds()) == 228000


def test_span_across_midnight() -> None:
    # Tue 2025-03-04 17:00 local (20:00Z) -> Wed 10:00 local (13:00Z): 1 h Tuesday + 1 h Wednesday = 7200 s.
    assert working_seconds(utc(2025, 3, 4, 20), utc(2025, 3, 5, 13), NINE_TO_SIX) == 7200


def test_inside_one_opening_counts_seconds() -> None:
    # 10:00:00 -> 10:00:42 local on a Monday: 42 s.
    assert working_seconds(utc(2025, 3, 3, 13), utc(2025, 3, 3, 13, 0, 42), NINE_TO_SIX) == 42


def test_weekend_only_span_is_zero() -> None:
    # Sat 2025-03-08 10:00 local -> Sun 2025-03-09 16:00 local: both days closed.
    assert working_seconds(utc(2025, 3, 8, 13), utc(2025, 3, 9, 19), NINE_TO_SIX) == 0


def test_end_not_after_start_is_zero() -> None:
    moment = utc(2025, 3, 4, 15)
    assert working_seconds(moment, moment, NINE_TO_SIX) == 0
    assert working_seconds(moment, moment - timedelta(hours=3), NINE_TO_SIX) == 0


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds(datetime(2025, 3, 4, 12), utc(2025, 3, 4, 15), NINE_TO_SIX)


def test_four_weeks_and_holidays() -> None:
    # Mon 2025-03-03 00:00 local -> Mon 2025-03-31 00:00 local: 20 weekdays x 9 h = 180 h = 648000 s.
    start, end = utc(2025, 3, 3, 3), utc(2025, 3, 31, 3)
    assert working_seconds(start, end, NINE_TO_SIX) == 648000
    # Carnival Monday and Tuesday closed: 18 x 9 h = 162 h = 583200 s.
    carnival = WorkingHours.weekly(SAO_PAULO, time(9), time(18), holidays={date(2025, 3, 3), date(2025, 3, 4)})
    assert working_seconds(start, end, carnival) == 583200


def test_a_whole_year_is_fast() -> None:
    # 2025 has 261 weekdays (52 weeks + Wednesday 1 January): 261 x 9 h = 8456400 s.
    began = wall_clock.perf_counter()
    assert working_seconds(utc(2025, 1, 1, 3), utc(2026, 1, 1, 3), NINE_TO_SIX) == 8456400
    assert wall_clock.perf_counter() - began < 0.5


def test_spring_forward_day_open_all_day_is_22h59() -> None:
    # New York, open all day every day (00:00-23:59). Sat 2025-03-08 12:00 EST (17:00Z) -> Mon 2025-03-10 12:00 EDT
    # (16:00Z), wall 47 h. Sat 12:00-23:59 = 11 h 59; Sun 00:00 EST -> 23:59 EDT = 22 h 59 (one hour skipped);
    # Mon 00:00-12:00 = 12 h. Total 46 h 58 min = 169080 s.
    always = WorkingHours.weekly(NEW_YORK, time(0), time(23, 59), weekdays=range(7))
    assert working_seconds(utc(2025, 3, 8, 17), utc(2025, 3, 10, 16), always) == 169080


def test_fall_back_weekend_with_office_hours() -> None:
    # New York Mon-Fri 09-18. Fri 2025-10-31 17:00 EDT (21:00Z) -> Mon 2025-11-03 10:00 EST (15:00Z):
    # 1 h Friday + 1 h Monday = 7200 s (Monday 09:00 EST = 14:00Z, so the offset change must be applied).
    office = WorkingHours.weekly(NEW_YORK, time(9), time(18))
    assert working_seconds(utc(2025, 10, 31, 21), utc(2025, 11, 3, 15), office) == 7200
    # Monday 09:00-09:30 EST is 14:00Z-14:30Z: 1800 s; with the summer offset it would wrongly be 0.
    assert working_seconds(utc(2025, 11, 3, 13), utc(2025, 11, 3, 14, 30), office) == 1800


def chatwoot_default_rows() -> list[WorkingHoursRow]:
    # Chatwoot's default: Sun & Sat closed, Mon-Fri 09:00-17:00; here Wednesday is switched to open all day.
    rows = [WorkingHoursRow(0, closed_all_day=True), WorkingHoursRow(6, closed_all_day=True)]
    rows += [WorkingHoursRow(day, open_hour=9, open_minutes=0, close_hour=17, close_minutes=0) for day in (1, 2, 4, 5)]
    rows.append(WorkingHoursRow(3, open_all_day=True, open_hour=9, close_hour=17))
    return rows


def test_from_chatwoot_rows_maps_sunday_zero_and_open_all_day() -> None:
    hours = WorkingHours.from_chatwoot_rows(chatwoot_default_rows(), SAO_PAULO)
    assert hours.by_weekday[6] is None  # Chatwoot 0 = Sunday
    assert hours.by_weekday[5] is None  # Chatwoot 6 = Saturday
    assert hours.by_weekday[0] == OpeningHours(time(9), time(17))  # Chatwoot 1 = Monday
    assert hours.by_weekday[2] == OpeningHours(time(0), time(23, 59))  # Wednesday, open all day
    # Wed 2025-03-05 00:00 -> Thu 00:00 local: 23 h 59 min = 86340 s.
    assert working_seconds(utc(2025, 3, 5, 3), utc(2025, 3, 6, 3), hours) == 86340


def test_missing_weekday_row_is_closed_and_bad_rows_fail() -> None:
    hours = WorkingHours.from_chatwoot_rows([WorkingHoursRow(1, open_hour=9, close_hour=10)], SAO_PAULO)
    assert hours.by_weekday == (OpeningHours(time(9), time(10)), None, None, None, None, None, None)
    with pytest.raises(ValueError, match="day_of_week"):
        WorkingHours.from_chatwoot_rows([WorkingHoursRow(7, closed_all_day=True)], SAO_PAULO)
    with pytest.raises(ValueError, match="not after"):
        WorkingHours.from_chatwoot_rows([WorkingHoursRow(1, open_hour=10, close_hour=9)], SAO_PAULO)


def test_no_open_day_counts_nothing() -> None:
    closed = WorkingHours.from_chatwoot_rows([WorkingHoursRow(d, closed_all_day=True) for d in range(7)], SAO_PAULO)
    assert working_seconds(utc(2025, 3, 3), utc(2025, 4, 3), closed) == 0
