"""Support timing and SLA compliance on hand-built facts, on SQLite and PostgreSQL.

Tenant time zone America/Sao_Paulo (UTC-3); range 2025-03-01..07 = [03-01 03:00Z, 03-08 03:00Z).

| conv | inbox | assignee | team | created (local)   | first response (by) | business | replies        | resolved  |
|------|-------|----------|------|-------------------|---------------------|----------|----------------|-----------|
| c1   | wa    | Ana      | t1   | Mon 03-03 09:10   | 60 (Ana)            | 60       | 120, 600       | 3600      |
| c2   | wa    | Ana      | t1   | Mon 03-03 09:40   | 240 (Ana)           | 240      | 30             | open      |
| c3   | ig    | Bruno    | -    | Tue 03-04 14:05   | 900 (Bruno)         | -        | -              | 7200      |
| c4   | ig    | Bruno    | -    | Tue 03-04 14:50   | 420 (Bruno)         | -        | 1000           | 600       |
| c5   | wa    | -        | -    | Sun 03-02 23:30   | -                   | -        | -              | open      |
| c6   | wa    | Ana      | -    | Sat 03-08 00:00   | 5: after the range  |          |                |           |

Worked out: first responses sorted 60, 240, 420, 900 (n = 4): mean 405; median at rank 1.5 -> 240 + 0.5 x 180 =
330; p90 at 2.7 -> 420 + 0.7 x 480 = 756; p95 -> 828; p99 -> 885.6. Replies 30, 120, 600, 1000: mean 437.5,
median 360. Resolutions (resolved only) 600, 3600, 7200: mean 3800, median 3600. c5 is Sunday 23:30 local but
Monday 02:30 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from pulso.config import Settings
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.metrics.support_timing import (
    METRICS,
    SlaThresholds,
    TimingParams,
    heatmap,
    sla_compliance,
    support_timing,
)
from pulso.metrics.timing_columns import timing_columns, whole_table_pays
from pulso.store.engine import app_engine
from pulso.store.models import Agent, Conversation, ConversationFactsRow, Inbox, Team
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant
from tests.metrics.helpers import TZ, copied_columns, seeded_tenant

RANGE = DateRange(date(2025, 3, 1), date(2025, 3, 7))


def local(*args: int) -> datetime:
    return (datetime(*args) + timedelta(hours=3)).replace(tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        wa = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ig = Inbox(external_id="ig", name="Instagram", channel_type="instagram")
        ana = Agent(external_id="ana", name="Ana", kind="human")
        bruno = Agent(external_id="bruno", name="Bruno", kind="human")
        team = Team(external_id="t1", name="Vendas")
        session.add_all([wa, ig, ana, bruno, team])
        session.flush()
        rows: list[tuple[Any, ...]] = [
            ("c1", wa, ana, team, local(2025, 3, 3, 9, 10), 60, ana, 60, [[120, 120], [600, 300]], 3600),
            ("c2", wa, ana, team, local(2025, 3, 3, 9, 40), 240, ana, 240, [[30, 30]], None),
            ("c3", ig, bruno, None, local(2025, 3, 4, 14, 5), 900, bruno, None, [], 7200),
            ("c4", ig, bruno, None, local(2025, 3, 4, 14, 50), 420, bruno, None, [[1000, None]], 600),
            ("c5", wa, None, None, local(2025, 3, 2, 23, 30), None, None, None, [], None),
            ("c6", wa, ana, None, local(2025, 3, 8, 0, 0), 5, ana, 5, [], None),
        ]
        for key, inbox, assignee, team_, created, first, by, business, replies, resolution in rows:
            conversation = Conversation(
                external_id=key,
                inbox_id=inbox.id,
                assignee_agent_id=assignee.id if assignee else None,
                team_id=team_.id if team_ else None,
                status="resolved" if resolution else "open",
                created_at=created,
            )
            session.add(conversation)
            session.flush()
            session.add(
                ConversationFactsRow(
                    conversation_id=conversation.id,
                    created_at=created,
                    **copied_columns(conversation),
                    first_response_seconds=first,
                    first_response_business_seconds=business,
                    first_response_agent_id=by.id if by else None,
                    reply_times=replies,
                    resolution_seconds=resolution,
                    resolutions=1 if resolution else 0,
                    handled_by="human_only" if first else "unanswered",
                )
            )
        return {"ana": ana.id, "bruno": bruno.id, "wa": wa.id, "ig": ig.id, "team": team.id}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def timing(tenant_id: int, **options: Any) -> Any:
    with tenant_session(tenant_id) as session:
        return support_timing(session, TimingParams(RANGE, TZ, **options))


def test_totals_with_hand_worked_percentiles(tenant: tuple[int, dict[str, int]]) -> None:
    result = timing(tenant[0])
    first = result.totals["first_response"]
    assert (first.count, first.mean, first.median) == (4, 405.0, 330.0)
    assert (first.p90, first.p95, first.p99) == pytest.approx((756.0, 828.0, 885.6))
    reply = result.totals["reply"]
    assert (reply.count, reply.mean, reply.median) == (4, 437.5, 360.0)
    resolution = result.totals["resolution"]
    assert (resolution.count, resolution.mean, resolution.median) == (3, 3800.0, 3600.0)
    assert result.rows == {"first_response": [], "reply": [], "resolution": []}
    assert "bot time excluded" in result.definitions["first_response"]


def test_the_global_filters(tenant: tuple[int, dict[str, int]]) -> None:
    # channel instagram: the ig inbox, c3 and c4: first responses 420, 900 -> median 660; reply 1000
    instagram = timing(tenant[0], filters=Filters(channels=("instagram",)))
    assert (instagram.totals["first_response"].count, instagram.totals["first_response"].median) == (2, 660.0)
    assert instagram.totals["reply"].median == 1000.0
    # status open: c2 (240) and c5 (no reply yet); no resolution of an open conversation counts
    still_open = timing(tenant[0], filters=Filters(statuses=("open",)))
    assert (still_open.totals["first_response"].count, still_open.totals["first_response"].median) == (1, 240.0)
    assert still_open.totals["resolution"].count == 0


def test_business_hours_toggle(tenant: tuple[int, dict[str, int]]) -> None:
    result = timing(tenant[0], business_hours=True)
    assert (result.totals["first_response"].count, result.totals["first_response"].median) == (2, 150.0)
    assert (result.totals["reply"].count, result.totals["reply"].median) == (3, 120.0)  # 30, 120, 300
    assert result.totals["resolution"].count == 0 and result.totals["resolution"].median is None


def test_breakdowns(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    by_agent = {s.key: s for s in timing(tenant_id, breakdown="agent").rows["first_response"]}
    assert by_agent[str(ids["ana"])].median == 150.0 and by_agent[str(ids["bruno"])].median == 660.0
    resolution = {s.key: s for s in timing(tenant_id, breakdown="agent").rows["resolution"]}
    assert resolution[str(ids["bruno"])].median == 3900.0 and resolution[str(ids["ana"])].count == 1
    by_team = {s.key: s.count for s in timing(tenant_id, breakdown="team").rows["first_response"]}
    assert by_team == {str(ids["team"]): 2, None: 2}
    by_hour = {s.key: s.median for s in timing(tenant_id, breakdown="hour").rows["first_response"]}
    assert by_hour == {"9": 150.0, "14": 660.0}
    by_weekday = {s.key: s.count for s in timing(tenant_id, breakdown="weekday").rows["reply"]}
    assert by_weekday == {"1": 3, "2": 1}
    only_ig = timing(tenant_id, inbox_ids=(ids["ig"],)).totals["first_response"]
    assert (only_ig.count, only_ig.median) == (2, 660.0)


def test_heatmap_uses_local_weekday_and_hour(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        cells = heatmap(session, TimingParams(RANGE, TZ))
    assert [(c.weekday, c.hour, c.conversations, c.median_first_response) for c in cells] == [
        (1, 9, 2, 150.0),
        (2, 14, 2, 660.0),
        (7, 23, 1, None),  # Sunday 23:30 local, though Monday in UTC
    ]


def test_sla_compliance_and_breaches(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    thresholds = SlaThresholds(first_response=300, next_response=500, resolution=3600)
    with tenant_session(tenant_id) as session:
        result = sla_compliance(session, TimingParams(RANGE, TZ, breakdown="agent"), thresholds)
    first = result.totals["first_response"]
    assert (first.measured, first.breached, first.compliance) == (4, 2, 0.5)
    assert (result.totals["reply"].measured, result.totals["reply"].breached) == (4, 2)
    assert (result.totals["resolution"].measured, result.totals["resolution"].breached) == (3, 1)  # 3600 is within
    agents = {row.key: (row.measured, row.breached) for row in result.rows["first_response"]}
    assert agents == {str(ids["ana"]): (2, 0), str(ids["bruno"]): (2, 2)}
    assert [(b.external_id, b.metric, b.seconds) for b in result.breaches] == [
        ("c3", "resolution", 7200),
        ("c3", "first_response", 900),
        ("c4", "reply", 1000),
        ("c4", "first_response", 420),
        ("c1", "reply", 600),
    ]


def test_sla_without_breaches(tenant: tuple[int, dict[str, int]]) -> None:
    thresholds = SlaThresholds(first_response=900, next_response=1000, resolution=7200)  # "at most": all within
    with tenant_session(tenant[0]) as session:
        result = sla_compliance(session, TimingParams(RANGE, TZ, breakdown="team"), thresholds)
    assert result.breaches == []
    assert {m: (r.measured, r.compliance) for m, r in result.totals.items()} == {
        "first_response": (4, 1.0),
        "reply": (4, 1.0),
        "resolution": (3, 1.0),
    }
    assert [(r.key, r.measured) for r in result.rows["first_response"]] == [(str(tenant[1]["team"]), 2), (None, 2)]


def test_default_sla_is_five_minutes_first_response(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        result = sla_compliance(session, TimingParams(RANGE, TZ), SlaThresholds.from_settings({}))
    assert list(result.totals) == ["first_response"] and result.totals["first_response"].breached == 2


def test_thresholds_from_settings_say_what_is_wrong() -> None:
    assert SlaThresholds.from_settings({"sla": {"first_response": 120, "resolution": 86400}}) == SlaThresholds(
        first_response=120, resolution=86400
    )
    with pytest.raises(ValueError, match=r"settings\.sla: unknown keys frist_response"):
        SlaThresholds.from_settings({"sla": {"frist_response": 60}})
    with pytest.raises(ValueError, match=r"settings\.sla\.resolution: a positive number of seconds"):
        SlaThresholds.from_settings({"sla": {"resolution": "1h"}})
    with pytest.raises(ValueError, match="breakdown must be one of"):
        TimingParams(RANGE, TZ, breakdown="month")  # type: ignore[arg-type]


def test_an_empty_range(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        result = support_timing(session, TimingParams(DateRange(date(2024, 1, 1), date(2024, 1, 2)), TZ))
    assert result.totals["first_response"].count == 0 and result.totals["first_response"].median is None


@pytest.mark.parametrize("scan", [True, False], ids=["whole_table", "index"])
def test_reading_the_whole_table_or_the_index_gives_the_same_columns(
    tenant: tuple[int, dict[str, int]], scan: bool
) -> None:
    """On SQLite a range holding most of the table is read NOT INDEXED; the tenant filter still applies (tenant U
    holds the very same rows). PostgreSQL ignores ``scan``."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    start, end = RANGE.utc_bounds(TZ)
    event.listen(app_engine(), "before_cursor_execute", record)
    with tenant_session(tenant[0]) as session:
        found = timing_columns(
            session,
            start,
            end,
            lambda facts: [],
            join_conversations=False,
            business_hours=False,
            metrics=METRICS,
            keys={"agent": lambda facts, metric: facts.assignee_agent_id},
            scan=scan,
        )
        sqlite = session.get_bind().dialect.name == "sqlite"
    event.remove(app_engine(), "before_cursor_execute", record)
    ana, bruno, nobody = tenant[1]["ana"], tenant[1]["bruno"], -1
    by_value = {m: sorted(zip(found[m].values.tolist(), found[m].keys["agent"].tolist(), strict=True)) for m in METRICS}
    assert by_value["first_response"] == [(60, ana), (240, ana), (420, bruno), (900, bruno)]
    assert by_value["reply"] == [(30, ana), (120, ana), (600, ana), (1000, bruno)]
    assert by_value["resolution"] == [(600, bruno), (3600, ana), (7200, bruno)]
    assert nobody not in found["first_response"].keys["agent"]
    assert any("NOT INDEXED" in sql for sql in statements) == (scan and sqlite)


def test_the_whole_table_is_read_when_the_range_holds_most_of_it(sqlite_settings: Settings) -> None:
    with platform_session() as session:
        only = create_tenant(session, slug="only", name="Only", timezone=TZ).id
    seed(only)  # 6 facts, 5 of them in RANGE
    with tenant_session(only) as session:
        assert whole_table_pays(session, *RANGE.utc_bounds(TZ))
        assert not whole_table_pays(session, *DateRange(date(2025, 3, 3), date(2025, 3, 3)).utc_bounds(TZ))  # 2
