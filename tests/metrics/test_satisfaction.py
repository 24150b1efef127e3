"""NPS and CSAT on a hand-built week, on SQLite and PostgreSQL.

Tenant time zone America/Sao_Paulo (UTC-3). Range 2025-03-01 (a Saturday) .. 2025-03-07 = [03-01 03:00Z,
03-08 03:00Z). Answers, worked out by hand:

- NPS, Ana (conversation c1, WhatsApp): 10, 9, 8, 6, 0 -> 2 promoters, 1 passive, 2 detractors: NPS 0.
- NPS, Bruno (c3, Instagram): 10, 10, 7 -> (2 - 0) / 3 = 66.67.
- NPS, no conversation and no agent: 3 -> a detractor. Overall: 4 promoters, 2 passives, 3 detractors of 9 answers,
  (4 - 3) / 9 x 100 = 11.11.
- CSAT, Ana (c2, WhatsApp): 5, 4, 3, 1 -> 2 of 4 rated 4-5: 50; mean 13 / 4 = 3.25. Bruno (c3): 5 -> 100, mean 5.
  Overall 3 of 5 = 60, mean 18 / 5 = 3.6.
- CSAT surveys sent: 5 in c2 (Ana), 1 in c3 (Bruno): response rates 4/5, 1/1, overall 5/6.
- Outside the range: an NPS 10 at 03-01 02:59:59Z (local 28 Feb) and a CSAT 1 at 03-08 03:00Z (local midnight after).
- Tenant U has answers in the same range that must not count.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pulso.config import Settings
from pulso.metrics.overview import DateRange
from pulso.metrics.satisfaction import SatisfactionParams, satisfaction
from pulso.store.models import Agent, Conversation, Feedback, Inbox, Message
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

RANGE = DateRange(date(2025, 3, 1), date(2025, 3, 7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    """The week above for one tenant; returns the ids of its agents and inboxes."""
    with tenant_session(tenant_id) as session:
        wa = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ig = Inbox(external_id="ig", name="Instagram", channel_type="instagram")
        ana = Agent(external_id="ana", name="Ana", kind="human")
        bruno = Agent(external_id="bruno", name="Bruno", kind="human")
        session.add_all([wa, ig, ana, bruno])
        session.flush()
        opened = utc(2025, 3, 1, 10)
        c1, c2, c3 = (
            Conversation(external_id=key, inbox_id=inbox.id, assignee_agent_id=agent.id, created_at=opened)
            for key, inbox, agent in (("c1", wa, ana), ("c2", wa, ana), ("c3", ig, bruno))
        )
        session.add_all([c1, c2, c3])
        session.flush()
        answers = [
            ("nps", c1, ana, 10, utc(2025, 3, 1, 12)),
            ("nps", c1, ana, 9, utc(2025, 3, 2, 12)),
            ("nps", c1, ana, 8, utc(2025, 3, 3, 12)),
            ("nps", c1, ana, 6, utc(2025, 3, 4, 12)),
            ("nps", c1, ana, 0, utc(2025, 3, 5, 12)),
            ("nps", c3, bruno, 10, utc(2025, 3, 3, 13)),
            ("nps", c3, bruno, 10, utc(2025, 3, 4, 13)),
            ("nps", c3, bruno, 7, utc(2025, 3, 6, 13)),
            ("nps", None, None, 3, utc(2025, 3, 7, 13)),
            ("csat", c2, ana, 5, utc(2025, 3, 2, 15)),
            ("csat", c2, ana, 4, utc(2025, 3, 4, 15)),
            ("csat", c2, ana, 3, utc(2025, 3, 5, 15)),
            ("csat", c2, ana, 1, utc(2025, 3, 3, 2, 30)),  # local 2 March, 23:30
            ("csat", c3, bruno, 5, utc(2025, 3, 6, 15)),
            ("nps", c1, ana, 10, utc(2025, 3, 1, 2, 59, 59)),  # local 28 February: out
            ("csat", c2, ana, 1, utc(2025, 3, 8, 3)),  # local midnight after the range: out
        ]
        for number, (kind, conversation, agent, score, at) in enumerate(answers):
            session.add(
                Feedback(
                    external_id=f"f{number}",
                    kind=kind,
                    score=score,
                    answered_at=at,
                    conversation_id=conversation.id if conversation else None,
                    agent_id=agent.id if agent else None,
                )
            )
        surveys = [(c2, utc(2025, 3, 2, 14 + n)) for n in range(5)] + [(c3, utc(2025, 3, 6, 14))]
        for number, (conversation, at) in enumerate(surveys):
            session.add(
                Message(
                    external_id=f"s{number}",
                    conversation_id=conversation.id,
                    direction="outgoing",
                    sender_kind="system",
                    content_type="input_csat",
                    created_at=at,
                )
            )
        return {"ana": ana.id, "bruno": bruno.id, "wa": wa.id, "ig": ig.id}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def run(tenant_id: int, **options: object) -> object:
    with tenant_session(tenant_id) as session:
        return satisfaction(session, SatisfactionParams(RANGE, TZ, **options))  # type: ignore[arg-type]


def test_overall_nps_csat_and_response_rate(tenant: tuple[int, dict[str, int]]) -> None:
    result = run(tenant[0])
    total = result.total  # type: ignore[attr-defined]
    assert (total.promoters, total.passives, total.detractors) == (4, 2, 3)
    assert total.nps == pytest.approx(100 / 9)
    assert (total.csat_answers, total.csat) == (5, 60.0)
    assert total.csat_mean == pytest.approx(3.6)
    assert total.csat_response_rate == pytest.approx(5 / 6)
    assert result.rows == []  # type: ignore[attr-defined]
    assert result.start_utc == utc(2025, 3, 1, 3) and result.end_utc == utc(2025, 3, 8, 3)  # type: ignore[attr-defined]
    assert "promoters" in result.definitions["nps"]  # type: ignore[attr-defined]


def test_per_agent(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    rows = {row.key: row for row in run(tenant_id, breakdown="agent").rows}  # type: ignore[attr-defined]
    ana, bruno, nobody = rows[str(ids["ana"])], rows[str(ids["bruno"])], rows[None]
    assert (ana.nps, ana.csat, ana.csat_mean, ana.csat_response_rate) == (0.0, 50.0, 3.25, 0.8)
    assert bruno.nps == pytest.approx(200 / 3)
    assert (bruno.csat, bruno.csat_response_rate) == (100.0, 1.0)
    assert (nobody.nps, nobody.csat) == (-100.0, None)
    assert list(rows) == [*sorted([str(ids["ana"]), str(ids["bruno"])], key=int), None]


def test_per_inbox_and_inbox_filter(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    rows = {row.key: row for row in run(tenant_id, breakdown="inbox").rows}  # type: ignore[attr-defined]
    assert rows[str(ids["wa"])].nps == 0.0 and rows[str(ids["wa"])].csat == 50.0
    assert rows[str(ids["ig"])].csat == 100.0 and rows[None].detractors == 1
    only_ig = run(tenant_id, inbox_ids=(ids["ig"],)).total  # type: ignore[attr-defined]
    assert only_ig.nps == pytest.approx(200 / 3) and (only_ig.csat, only_ig.surveys_sent) == (100.0, 1)


def test_per_local_day_and_week(tenant: tuple[int, dict[str, int]]) -> None:
    days = {row.key: row for row in run(tenant[0], breakdown="day").rows}  # type: ignore[attr-defined]
    assert sorted(days) == [f"2025-03-0{d}" for d in range(1, 8)]
    assert days["2025-03-02"].csat_answers == 2  # the 5 at 15:00Z and the 1 at 02:30Z on the 3rd (local 23:30)
    assert days["2025-03-02"].surveys_sent == 5 and days["2025-03-03"].csat_answers == 0
    assert (days["2025-03-01"].promoters, days["2025-03-01"].nps_answers) == (1, 1)  # not the one of 28 February
    weeks = {row.key: row for row in run(tenant[0], breakdown="week").rows}  # type: ignore[attr-defined]
    assert sorted(weeks) == ["2025-02-24", "2025-03-03"]  # 1-2 March fall in the ISO week of 24 February
    assert weeks["2025-02-24"].promoters == 2 and weeks["2025-02-24"].csat_answers == 2
    assert weeks["2025-03-03"].nps_answers == 7 and weeks["2025-03-03"].csat_answers == 3


def test_an_empty_range_has_no_scores(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        empty = satisfaction(session, SatisfactionParams(DateRange(date(2024, 1, 1), date(2024, 1, 31)), TZ))
    assert (empty.total.nps, empty.total.csat, empty.total.csat_mean, empty.total.csat_response_rate) == (
        None, None, None, None,
    )  # fmt: skip


def test_bad_parameters_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="breakdown must be one of"):
        SatisfactionParams(RANGE, TZ, breakdown="hour")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="Mars/Olympus"):
        SatisfactionParams(RANGE, "Mars/Olympus")
