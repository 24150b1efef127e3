"""The overview query on a hand-built week, on SQLite and PostgreSQL.

Tenant time zone America/Sao_Paulo (UTC-3 all year since 2019). Range 2025-03-01..2025-03-07 (7 days ending
"today" 2025-03-07), so the range is [2025-03-01 03:00Z, 2025-03-08 03:00Z) and the previous period is
2025-02-22..2025-02-28 = [2025-02-22 03:00Z, 2025-03-01 03:00Z).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pulso.config import Settings
from pulso.metrics.overview import DateRange, OverviewParams, OverviewQuery, median, today_in
from pulso.store.models import Agent, Contact, Conversation, DailyMetric, Inbox
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant

TZ = "America/Sao_Paulo"
TODAY = date(2025, 3, 7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def add_conversations(
    tenant_id: int, rows: list[tuple[datetime, float | None]], bot_rows: list[tuple[datetime, float]] | None = None
) -> None:
    """Conversations (created, seconds to first reply); ``bot_rows`` are assigned to a bot, which answers."""
    with tenant_session(tenant_id) as session:
        inbox = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        bot = Agent(external_id="bot", name="Sofia", kind="bot")
        session.add_all([inbox, bot])
        session.flush()
        for number, (created, reply_seconds) in enumerate(rows):
            reply = created + timedelta(seconds=reply_seconds) if reply_seconds is not None else None
            session.add(
                Conversation(external_id=str(number), inbox_id=inbox.id, created_at=created, first_reply_at=reply)
            )
        for number, (created, reply_seconds) in enumerate(bot_rows or []):
            session.add(
                Conversation(
                    external_id=f"bot-{number}",
                    inbox_id=inbox.id,
                    assignee_agent_id=bot.id,
                    created_at=created,
                    first_reply_at=created + timedelta(seconds=reply_seconds),
                )
            )


def add_contacts(tenant_id: int, rows: list[tuple[str, datetime | None, datetime | None]]) -> None:
    with tenant_session(tenant_id) as session:
        for stage, became_lead, became_customer in rows:
            session.add(Contact(lifecycle_stage=stage, became_lead_at=became_lead, became_customer_at=became_customer))


@pytest.fixture
def tenants(any_settings: Settings) -> tuple[int, int]:
    """Tenant T with the hand-built week, tenant U with rows inside the same range that must not count."""
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T", timezone=TZ).id
        u = create_tenant(session, slug="u", name="U", timezone=TZ).id

    add_conversations(
        t,
        [
            (utc(2025, 3, 1, 3, 0, 0), 60),  # local 00:00 on the first day: in
            (utc(2025, 3, 3, 15, 0), 200),
            (utc(2025, 3, 4, 12, 0), -30),  # reply stamped before creation: counted, not timed
            (utc(2025, 3, 5, 12, 0), 600),
            (utc(2025, 3, 7, 20, 0), None),  # no reply yet
            (utc(2025, 3, 8, 2, 59, 59), 1800),  # local 23:59:59 on the last day: in
            (utc(2025, 3, 8, 3, 0, 0), 5),  # local midnight after the range: out
            (utc(2025, 3, 1, 2, 59, 59), 100),  # local 23:59:59 on 28 Feb: previous period
            (utc(2025, 2, 25, 12, 0), 300),  # previous period
            (utc(2025, 2, 22, 2, 0), 7),  # local 21 Feb: before the previous period
        ],
        # the bot's instant answers count as conversations but not in the team's first response time
        bot_rows=[(utc(2025, 3, 2, 12, 0), 4), (utc(2025, 3, 6, 12, 0), 4)],
    )
    add_contacts(
        t,
        [
            ("customer", utc(2025, 3, 2, 12, 0), utc(2025, 3, 10, 12, 0)),  # converted after the range: counts
            ("lead", utc(2025, 3, 4, 12, 0), None),
            ("customer", utc(2025, 3, 6, 12, 0), utc(2025, 3, 6, 18, 0)),
            ("lead", utc(2025, 3, 8, 2, 30), None),  # local 23:30 on 7 Mar: in
            ("lead", utc(2025, 3, 8, 3, 30), None),  # local 8 Mar: out
            ("churned", utc(2025, 2, 26, 12, 0), utc(2025, 2, 27, 12, 0)),  # previous, converted
            ("lead", utc(2025, 2, 23, 12, 0), None),  # previous
            ("lead", utc(2025, 2, 28, 12, 0), None),  # previous
            ("visitor", None, None),  # never a lead
        ],
    )
    add_conversations(u, [(utc(2025, 3, 3, 12, 0), 5)] * 3)
    add_contacts(u, [("customer", utc(2025, 3, 3, 12, 0), utc(2025, 3, 3, 13, 0))] * 2)

    with tenant_session(t) as session:
        for day, metric, value in [
            (date(2025, 3, 2), "conversations", 3),
            (date(2025, 3, 2), "leads", 1),
            (date(2025, 3, 5), "conversations", 2),
            (date(2025, 3, 7), "leads", 4),
            (date(2025, 3, 8), "conversations", 99),  # after the range
            (date(2025, 3, 3), "messages", 50),  # not charted
        ]:
            session.add(DailyMetric(day=day, metric=metric, value=value))
    with tenant_session(u) as session:
        session.add(DailyMetric(day=date(2025, 3, 3), metric="conversations", value=77))
    return t, u


def run(tenant_id: int, days: int = 7, today: date = TODAY):  # type: ignore[no-untyped-def]
    params = OverviewParams.last_days(tenant_id, TZ, days, today=today)
    with tenant_session(tenant_id) as session:
        return OverviewQuery(params).run(session)


def test_kpis_match_the_hand_count(tenants: tuple[int, int]) -> None:
    t, _ = tenants
    result = run(t)

    assert result.date_range == DateRange(date(2025, 3, 1), date(2025, 3, 7))
    assert result.previous_range == DateRange(date(2025, 2, 22), date(2025, 2, 28))

    conversations = result.kpi("conversations")
    assert (conversations.value, conversations.previous) == (8, 2)  # 6 answered by people + 2 by the bot
    assert conversations.change == pytest.approx(3.0)

    leads = result.kpi("leads")
    assert (leads.value, leads.previous) == (4, 3)
    assert result.leads_by_stage == {"customer": 2, "lead": 2}

    conversion = result.kpi("lead_conversion")
    assert conversion.value == pytest.approx(2 / 4)
    assert conversion.previous == pytest.approx(1 / 3)
    assert conversion.change == pytest.approx(0.5 - 1 / 3)  # in points, not relative
    assert (conversion.numerator, conversion.denominator) == (2, 4)
    assert conversion.change_is_good is True

    # Answered by people in range: 60, 200, 600, 1800 s (the -30 s clock error and the bot's 4 s left out)
    # -> (200 + 600) / 2. With the bot's replies it would be (60 + 200) / 2 = 130.
    first_response = result.kpi("median_first_response")
    assert first_response.value == pytest.approx(400.0)
    assert first_response.previous == pytest.approx(200.0)  # (100 + 300) / 2
    assert first_response.denominator == 4
    assert first_response.change == pytest.approx(1.0)
    assert first_response.change_is_good is False  # slower answers are bad news

    assert "became_lead_at" in leads.definition
    assert all(k.definition for k in result.kpis)


def test_daily_series_reads_gold_rows_of_the_range_only(tenants: tuple[int, int]) -> None:
    t, _ = tenants
    daily = run(t).daily

    assert daily is not None
    assert daily.days == tuple(date(2025, 3, d) for d in range(1, 8))
    assert daily.values == {
        "conversations": (0.0, 3.0, 0.0, 0.0, 2.0, 0.0, 0.0),
        "leads": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 4.0),
    }


def test_other_tenant_sees_only_its_rows(tenants: tuple[int, int]) -> None:
    _, u = tenants
    result = run(u)
    assert result.kpi("conversations").value == 3
    assert result.kpi("leads").value == 2
    assert result.kpi("lead_conversion").value == pytest.approx(1.0)
    assert result.kpi("median_first_response").value == pytest.approx(5.0)
    assert result.daily is not None
    assert result.daily.values["conversations"] == (0.0, 0.0, 77.0, 0.0, 0.0, 0.0, 0.0)


def test_empty_range_gives_none_not_zero_division(tenants: tuple[int, int]) -> None:
    t, _ = tenants
    result = run(t, today=date(2024, 1, 31))
    assert result.kpi("conversations").value == 0
    assert result.kpi("lead_conversion").value is None
    assert result.kpi("median_first_response").value is None
    assert result.kpi("conversations").change is None  # nothing before either
    assert result.daily is None  # the page then asks for `pulso pipeline run`


def test_query_refuses_another_tenants_session(tenants: tuple[int, int]) -> None:
    t, u = tenants
    params = OverviewParams.last_days(t, TZ, 7, today=TODAY)
    with tenant_session(u) as session, pytest.raises(ValueError, match="session"):
        OverviewQuery(params).run(session)


# ---------------------------------------------------------------- no database


def test_default_range_is_the_last_30_days_ending_today() -> None:
    params = OverviewParams.last_days(1, TZ, today=TODAY)
    assert params.date_range == DateRange(date(2025, 2, 6), date(2025, 3, 7))
    assert params.date_range.days == 30
    assert params.date_range.previous() == DateRange(date(2025, 1, 7), date(2025, 2, 5))


def test_today_is_the_tenants_calendar_day() -> None:
    assert today_in(TZ, now=utc(2025, 3, 8, 2, 0)) == date(2025, 3, 7)
    assert today_in("Asia/Tokyo", now=utc(2025, 3, 7, 16, 0)) == date(2025, 3, 8)


def test_utc_bounds_use_local_midnights() -> None:
    assert DateRange(date(2025, 3, 1), date(2025, 3, 7)).utc_bounds(TZ) == (
        utc(2025, 3, 1, 3, 0),
        utc(2025, 3, 8, 3, 0),
    )


def test_invalid_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="after it ends"):
        DateRange(date(2025, 3, 2), date(2025, 3, 1))
    with pytest.raises(ValueError, match="positive"):
        DateRange.last_days(0, today=TODAY)


def test_median() -> None:
    assert median([]) is None
    assert median([5.0]) == 5.0
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 10.0]) == 2.5
