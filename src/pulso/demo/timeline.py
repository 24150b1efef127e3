"""The demo calendar: local days, holidays, trend, weekday and anomaly multipliers, and local -> UTC times.

Times inside the generators are integer seconds since the Unix epoch (UTC) in numpy arrays; they become aware
``datetime`` objects only when rows are built. Patterns (hour of day, weekday) are drawn in the tenant's local
time and converted with the tenant's real UTC offset for each day.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays
import numpy as np
from numpy.typing import NDArray

from pulso.demo.effects import TREND_END, TREND_START, Anomaly

HISTORY_DAYS = 182
# Days past end_date for which local midnights are precomputed (future appointments, trailing follow-ups).
LOOKAHEAD_DAYS = 400
SECONDS_PER_DAY = 86_400

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Timeline:
    """Local days ``start .. end_date - 1`` of one tenant; ``end_date`` itself is the first day without data."""

    end_date: date
    timezone: ZoneInfo
    start: date
    n_days: int
    midnights: IntArray  # UTC epoch seconds of each local midnight from ``start``, history plus lookahead
    weekday: IntArray  # 0 = Monday, for every precomputed day
    is_holiday: BoolArray

    @classmethod
    def build(cls, end_date: date, timezone: str, history_days: int = HISTORY_DAYS) -> Timeline:
        zone = ZoneInfo(timezone)
        start = end_date - timedelta(days=history_days)
        total = history_days + LOOKAHEAD_DAYS
        days = [start + timedelta(days=i) for i in range(total)]
        national = holidays.country_holidays("BR", years=range(start.year, days[-1].year + 1))
        midnights = np.array([int(datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()) for d in days])
        return cls(
            end_date=end_date,
            timezone=zone,
            start=start,
            n_days=history_days,
            midnights=midnights.astype(np.int64),
            weekday=np.array([d.weekday() for d in days], dtype=np.int64),
            is_holiday=np.array([d in national for d in days], dtype=np.bool_),
        )

    @property
    def cutoff(self) -> int:
        """UTC epoch seconds of local midnight at the start of ``end_date``: nothing happens at or after it."""
        return int(self.midnights[self.n_days])

    @property
    def start_utc(self) -> datetime:
        """Local midnight of the first history day, as an aware UTC datetime (a stable creation time)."""
        return utc(int(self.midnights[0]))

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def index_of(self, day: date) -> int:
        return (day - self.start).days

    def anomaly_index(self, anomaly: Anomaly) -> int:
        return self.n_days - anomaly.days_before_end

    def trend(self) -> FloatArray:
        return np.linspace(TREND_START, TREND_END, self.n_days)

    def expected_daily(
        self,
        base: float,
        weekday_multipliers: tuple[float, ...],
        holiday_multiplier: float,
        anomaly: Anomaly | None = None,
    ) -> FloatArray:
        """Expected volume per history day: base x trend x (weekday or holiday multiplier), anomaly overriding."""
        weekday = np.asarray(weekday_multipliers)[self.weekday[: self.n_days]]
        seasonal = np.where(self.is_holiday[: self.n_days], holiday_multiplier, weekday)
        expected = base * self.trend() * seasonal
        if anomaly is not None:
            index = self.anomaly_index(anomaly)
            expected[index] = base * self.trend()[index] * anomaly.multiplier
        return np.asarray(expected, dtype=np.float64)

    def to_utc(self, day_index: IntArray, seconds_of_day: IntArray) -> IntArray:
        """UTC epoch seconds of local ``seconds_of_day`` on local day ``day_index`` (0 = ``start``)."""
        clipped = np.clip(day_index, 0, len(self.midnights) - 1)
        return np.asarray(self.midnights[clipped] + seconds_of_day, dtype=np.int64)

    def local_day_index(self, timestamps: IntArray) -> IntArray:
        """The local day index of UTC epoch seconds (the inverse of :meth:`to_utc` for the day part)."""
        return np.asarray(np.searchsorted(self.midnights, timestamps, side="right") - 1, dtype=np.int64)

    def at(self, day_index: int, seconds_of_day: int) -> int:
        """Scalar :meth:`to_utc`."""
        return int(self.midnights[min(max(day_index, 0), len(self.midnights) - 1)]) + seconds_of_day

    def day_of(self, timestamp: int) -> int:
        """Scalar :meth:`local_day_index`."""
        return bisect_right(self._midnight_list, timestamp) - 1

    @cached_property
    def _midnight_list(self) -> list[int]:
        return [int(m) for m in self.midnights]

    def local_seconds(self, timestamps: IntArray) -> IntArray:
        days = self.local_day_index(timestamps)
        return np.asarray(timestamps - self.midnights[np.clip(days, 0, None)], dtype=np.int64)


def sample_seconds_of_day(rng: np.random.Generator, hour_weights: tuple[float, ...], size: int) -> IntArray:
    """Local seconds of day: the hour drawn from ``hour_weights`` (24 values), the second uniform in the hour."""
    weights = np.asarray(hour_weights, dtype=np.float64)
    hours = rng.choice(24, size=size, p=weights / weights.sum())
    return np.asarray(hours * 3600 + rng.integers(0, 3600, size=size), dtype=np.int64)


def daily_counts(rng: np.random.Generator, expected: FloatArray) -> IntArray:
    return np.asarray(rng.poisson(expected), dtype=np.int64)


def chunks(n_days: int, chunk_days: int) -> list[range]:
    """Consecutive day ranges, each generated and written in one transaction."""
    return [range(start, min(start + chunk_days, n_days)) for start in range(0, n_days, chunk_days)]


def utc(seconds: int | np.integer) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def utc_ms(milliseconds: int | np.integer) -> datetime:
    value = int(milliseconds)
    return datetime.fromtimestamp(value // 1000, UTC).replace(microsecond=(value % 1000) * 1000)
