"""The demo calendar: local days, the multipliers that make weekly seasonality and anomalies, UTC conversion."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from pulso.demo.effects import (
    INSIGHTOS_WEEKDAY_MULTIPLIERS,
    SORRISO_ANOMALY,
    SORRISO_HOLIDAY_MULTIPLIER,
    SORRISO_WEEKDAY_MULTIPLIERS,
    TREND_END,
    TREND_START,
)
from pulso.demo.insightos_journeys import add_months
from pulso.demo.sorriso_texts import PROCEDURE_INFO, fill, slot_text
from pulso.demo.timeline import HISTORY_DAYS, Timeline, sample_seconds_of_day


@pytest.mark.parametrize("multipliers", [SORRISO_WEEKDAY_MULTIPLIERS, INSIGHTOS_WEEKDAY_MULTIPLIERS])
def test_weekday_multipliers_average_one(multipliers: tuple[float, ...]) -> None:
    assert len(multipliers) == 7
    assert sum(multipliers) / 7 == pytest.approx(1.0)


def test_history_ends_the_day_before_end_date_at_local_midnight() -> None:
    timeline = Timeline.build(date(2025, 6, 1), "America/Sao_Paulo")
    assert timeline.n_days == HISTORY_DAYS
    assert timeline.start == date(2024, 12, 1)
    assert timeline.day(HISTORY_DAYS - 1) == date(2025, 5, 31)
    assert datetime.fromtimestamp(timeline.cutoff, UTC) == datetime(2025, 6, 1, 3, tzinfo=UTC)


def test_expected_daily_volume_applies_trend_weekday_holidays_and_the_anomaly() -> None:
    timeline = Timeline.build(date(2025, 6, 1), "America/Sao_Paulo")
    expected = timeline.expected_daily(10.0, SORRISO_WEEKDAY_MULTIPLIERS, SORRISO_HOLIDAY_MULTIPLIER, SORRISO_ANOMALY)
    trend = np.linspace(TREND_START, TREND_END, HISTORY_DAYS)
    christmas = timeline.index_of(date(2024, 12, 25))
    assert expected[christmas] == pytest.approx(10.0 * trend[christmas] * SORRISO_HOLIDAY_MULTIPLIER)
    monday = timeline.index_of(date(2025, 1, 6))
    assert expected[monday] == pytest.approx(10.0 * trend[monday] * SORRISO_WEEKDAY_MULTIPLIERS[0])
    spike = timeline.anomaly_index(SORRISO_ANOMALY)
    assert timeline.day(spike) == date(2025, 4, 24)
    assert expected[spike] == pytest.approx(10.0 * trend[spike] * SORRISO_ANOMALY.multiplier)
    assert int(np.argmax(expected)) == spike


def test_local_times_convert_to_utc_and_back_across_a_dst_change() -> None:
    timeline = Timeline.build(date(2025, 4, 1), "America/New_York")  # DST began on 2025-03-09
    before, after = timeline.index_of(date(2025, 3, 7)), timeline.index_of(date(2025, 3, 11))
    stamps = timeline.to_utc(np.array([before, after]), np.array([9 * 3600, 9 * 3600]))
    zone = ZoneInfo("America/New_York")
    assert [datetime.fromtimestamp(int(s), zone).hour for s in stamps] == [9, 9]
    assert timeline.local_day_index(stamps).tolist() == [before, after]
    assert timeline.day_of(int(stamps[1])) == after
    assert timeline.local_seconds(stamps).tolist() == [9 * 3600, 9 * 3600]


def test_seconds_of_day_follow_the_hour_profile() -> None:
    weights = tuple(1.0 if hour == 14 else 0.0 for hour in range(24))
    seconds = sample_seconds_of_day(np.random.default_rng(1), weights, 500)
    assert set((seconds // 3600).tolist()) == {14}


def test_monthly_billing_keeps_the_local_day_and_time() -> None:
    timeline = Timeline.build(date(2025, 6, 1), "America/Sao_Paulo")
    start = int(datetime(2025, 1, 31, 15, 30, tzinfo=ZoneInfo("America/Sao_Paulo")).timestamp() * 1000)
    due = [datetime.fromtimestamp(add_months(start, k, timeline) / 1000, ZoneInfo("America/Sao_Paulo")) for k in (1, 2)]
    assert [(d.month, d.day, d.hour, d.minute) for d in due] == [(2, 28, 15, 30), (3, 28, 15, 30)]


def test_portuguese_texts_contract_prepositions() -> None:
    assert fill("O valor d{phrase_tail}?", PROCEDURE_INFO["clareamento"]) == "O valor do clareamento?"
    assert fill("O valor d{phrase_tail}?", PROCEDURE_INFO["limpeza"]) == "O valor da limpeza?"
    assert fill("{Product} a partir de R$ {price}", PROCEDURE_INFO["implante"]) == "O implante a partir de R$ 3.900"
    assert slot_text(3, 14, 3, 15, 30) == "quinta, 14/03, às 15h30"
