"""gold.conversation_facts on a hand-built story whose numbers were worked out by hand (SQLite and PostgreSQL).

Inbox "wa" is in America/Sao_Paulo (UTC-3 all year) and open Monday-Friday 09:00-18:00 local = 12:00-21:00 UTC.
Inbox "imp" (file imports) has no working hours. 2026-03-02 is a Monday.

1. bot: created Mon 11:00Z (08:00 local); the bot answers twice, hands off at 12:30Z (pending -> open, flagged),
   agent A1 replies at 12:40:00.7Z, the contact writes at 13:00Z, agent A2 answers at 13:05Z, resolved at 14:00Z.
2. reopened: created Tue 13:00Z (10:00 local); an automation message by A1 at 13:10 (not a reply), A2 replies at
   13:20Z, resolved 14:00Z; the contact writes at 22:00Z (19:00 local, closed) and it reopens then; A1 answers Wed
   12:30Z (09:30 local), resolved again Wed 13:00Z.
3. private note only: a contact message, an agent's private note, an activity message, and a status change to
   open whose from_status is unknown (NULL).
4. imported (message_type NULL, direction only): created Fri 15:00Z, A1 replies 15:45:30.9Z, the contact writes
   16:00Z, A2 answers 16:10Z; resolved at 17:00:00Z (sync, from unknown) and seen again by a webhook at 17:00:20Z.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from pulso.config import Settings
from pulso.pipeline.gold.conversation_facts import STREAM, compute_conversation_facts
from pulso.pipeline.registry import get_job
from pulso.store.models import (
    Agent,
    Conversation,
    ConversationFactsRow,
    ConversationStatusChange,
    Feedback,
    Inbox,
    Message,
    Watermark,
)
from pulso.store.session import PulsoSession, platform_session, tenant_session
from pulso.tenancy.service import create_tenant

TZ = "America/Sao_Paulo"
# Chatwoot rows: day_of_week 0 = Sunday ... 6 = Saturday
WEEKDAYS_9_TO_18 = [
    {"day_of_week": 0, "closed_all_day": True},
    *(
        {"day_of_week": day, "open_hour": 9, "open_minutes": 0, "close_hour": 18, "close_minutes": 0}
        for day in range(1, 6)
    ),
    {"day_of_week": 6, "closed_all_day": True},
]
SYNCED_1 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
SYNCED_2 = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
SYNCED_4 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@dataclass(frozen=True)
class Story:
    tenant: int
    other: int
    a1: int
    a2: int
    bot: int
    reopened: int
    private_only: int
    imported: int
    other_conversation: int


class _Writer:
    def __init__(self, session: PulsoSession) -> None:
        self.session = session
        self.count = 0

    def conversation(self, inbox: Inbox, created: datetime, synced: datetime | None, **extra: Any) -> int:
        self.count += 1
        row = Conversation(
            external_id=f"c{self.count}", inbox_id=inbox.id, created_at=created, synced_at=synced, **extra
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def message(self, conversation: int, at: datetime, sender_kind: str, **extra: Any) -> None:
        self.count += 1
        direction = "incoming" if sender_kind == "contact" else "outgoing"
        extra.setdefault("message_type", direction if sender_kind != "system" else "activity")
        self.session.add(
            Message(
                external_id=f"m{self.count}",
                conversation_id=conversation,
                direction=direction,
                sender_kind=sender_kind,
                created_at=at,
                **extra,
            )
        )

    def status(self, conversation: int, at: datetime, from_: str | None, to: str, **extra: Any) -> None:
        extra.setdefault("origin", "reporting_event")
        self.session.add(
            ConversationStatusChange(conversation_id=conversation, at=at, from_status=from_, to_status=to, **extra)
        )


def build_story() -> Story:
    with platform_session() as session:
        tenant = create_tenant(session, slug="a", name="A", timezone=TZ).id
        other = create_tenant(session, slug="b", name="B", timezone=TZ).id
    with tenant_session(tenant) as session:
        wa = Inbox(
            external_id="1", name="WhatsApp", channel_type="whatsapp", timezone=TZ, working_hours=WEEKDAYS_9_TO_18
        )
        imp = Inbox(external_id="imp", name="Import", channel_type="other", timezone=None, working_hours=None)
        a1 = Agent(external_id="a1", name="Ana", kind="human")
        a2 = Agent(external_id="a2", name="Bruno", kind="human")
        sofia = Agent(external_id="bot", name="Sofia", kind="bot")
        session.add_all([wa, imp, a1, a2, sofia])
        session.flush()
        w = _Writer(session)

        bot = w.conversation(wa, utc(2026, 3, 2, 11), SYNCED_1, labels=["vendas"])
        w.message(bot, utc(2026, 3, 2, 11, 0, 0), "contact")
        w.message(bot, utc(2026, 3, 2, 11, 0, 5), "bot", agent_id=sofia.id)
        w.message(bot, utc(2026, 3, 2, 11, 2, 0), "contact")
        w.message(bot, utc(2026, 3, 2, 11, 2, 3), "bot", agent_id=sofia.id)
        w.status(bot, utc(2026, 3, 2, 12, 30), "pending", "open", by_bot_handoff=True)
        w.message(bot, utc(2026, 3, 2, 12, 30), "system")  # activity: counted nowhere
        w.message(bot, utc(2026, 3, 2, 12, 31), "agent", agent_id=a2.id, is_private=True)
        w.message(bot, datetime(2026, 3, 2, 12, 40, 0, 700000, UTC), "agent", agent_id=a1.id)
        w.message(bot, utc(2026, 3, 2, 13, 0), "contact")
        w.message(bot, utc(2026, 3, 2, 13, 5), "agent", agent_id=a2.id)
        w.status(bot, utc(2026, 3, 2, 14, 0), "open", "resolved")

        reopened = w.conversation(wa, utc(2026, 3, 3, 13), SYNCED_2)
        w.message(reopened, utc(2026, 3, 3, 13, 0), "contact")
        w.message(reopened, utc(2026, 3, 3, 13, 10), "agent", agent_id=a1.id, attributes={"automation_rule_id": 3})
        w.message(reopened, utc(2026, 3, 3, 13, 20), "agent", agent_id=a2.id, attributes={"external_echo": True})
        w.status(reopened, utc(2026, 3, 3, 14, 0), "open", "resolved")
        w.message(reopened, utc(2026, 3, 3, 22, 0), "contact")
        w.status(reopened, utc(2026, 3, 3, 22, 0), "resolved", "open")
        w.message(reopened, utc(2026, 3, 4, 12, 30), "agent", agent_id=a1.id)
        w.status(reopened, utc(2026, 3, 4, 13, 0), "open", "resolved")

        private_only = w.conversation(wa, utc(2026, 3, 5, 12), None)  # never stamped: still computed the first time
        w.message(private_only, utc(2026, 3, 5, 12, 0), "contact")
        w.message(private_only, utc(2026, 3, 5, 12, 5), "agent", agent_id=a1.id, is_private=True)
        w.message(private_only, utc(2026, 3, 5, 12, 6), "system")
        w.status(private_only, utc(2026, 3, 5, 12, 10), None, "open", origin="sync")

        imported = w.conversation(imp, utc(2026, 3, 6, 15), SYNCED_4)
        w.message(imported, utc(2026, 3, 6, 15, 0), "contact", message_type=None)
        w.message(imported, datetime(2026, 3, 6, 15, 45, 30, 900000, UTC), "agent", agent_id=a1.id, message_type=None)
        w.message(imported, utc(2026, 3, 6, 16, 0), "contact", message_type=None)
        w.message(imported, utc(2026, 3, 6, 16, 10), "agent", agent_id=a2.id, message_type=None)
        w.status(imported, utc(2026, 3, 6, 17, 0, 0), None, "resolved", origin="sync")
        w.status(imported, utc(2026, 3, 6, 17, 0, 20), "open", "resolved", origin="webhook")  # the same resolve

        session.add_all(
            [
                Feedback(
                    external_id="f1", conversation_id=bot, kind="csat", score=3, answered_at=utc(2026, 3, 2, 14, 10)
                ),
                Feedback(
                    external_id="f2", conversation_id=bot, kind="csat", score=5, answered_at=utc(2026, 3, 2, 14, 20)
                ),
                Feedback(external_id="f3", conversation_id=bot, kind="nps", score=9, answered_at=utc(2026, 3, 2, 15)),
            ]
        )
        ids = (a1.id, a2.id, bot, reopened, private_only, imported)
    with tenant_session(other) as session:
        inbox = Inbox(external_id="1", name="Chat", channel_type="web")
        session.add(inbox)
        session.flush()
        w = _Writer(session)
        other_conversation = w.conversation(inbox, utc(2026, 3, 2, 11), utc(2026, 3, 20))
        w.message(other_conversation, utc(2026, 3, 2, 11), "contact")
        w.message(other_conversation, utc(2026, 3, 2, 11, 1), "agent")
    return Story(tenant, other, *ids, other_conversation=other_conversation)


def facts(tenant: int) -> dict[int, ConversationFactsRow]:
    with tenant_session(tenant) as session:
        return {row.conversation_id: row for row in session.scalars(select(ConversationFactsRow))}


@pytest.fixture
def story(any_settings: Settings) -> Story:
    return build_story()


def test_facts_worked_out_by_hand(story: Story) -> None:
    with tenant_session(story.tenant) as session:
        assert compute_conversation_facts(session) == 4
    rows = facts(story.tenant)
    assert set(rows) == {story.bot, story.reopened, story.private_only, story.imported}

    bot = rows[story.bot]
    assert bot.created_at == utc(2026, 3, 2, 11)
    # from the hand-off (12:30) to A1's reply (12:40:00.7 -> 12:40:00), not from creation (11:00): bot time excluded
    assert (bot.first_response_seconds, bot.first_response_business_seconds) == (600, 600)
    assert bot.first_response_chatwoot_style_seconds == 600  # Chatwoot also starts at the flagged hand-off
    assert bot.first_response_agent_id == story.a1  # not A2, whose private note came first
    assert bot.first_responses == [[600, 600]]
    assert bot.reply_times == [[300, 300]]  # contact 13:00 -> A2 13:05
    # 11:00Z -> 14:00Z is 3 h; open only from 09:00 local (12:00Z): 2 h of business time
    assert (bot.resolution_seconds, bot.resolution_business_seconds, bot.resolutions) == (10800, 7200, 1)
    # in: 3 contact messages; out: 2 bot + 2 human (private note and activity not counted)
    assert (bot.messages_in, bot.messages_out, bot.private_notes, bot.bot_messages) == (3, 4, 1, 2)
    assert (bot.handled_by, bot.handed_off_at, bot.reopen_count) == ("handed_off", utc(2026, 3, 2, 12, 30), 0)
    assert bot.labels == ["vendas"]
    assert bot.csat_score == 5  # the latest CSAT answer; the NPS answer is not a CSAT

    reopened = rows[story.reopened]
    # the automation message at 13:10 is no reply: A2 at 13:20 is, 20 min after creation
    assert (reopened.first_response_seconds, reopened.first_response_business_seconds) == (1200, 1200)
    assert reopened.first_response_agent_id == story.a2
    # second period from the reopen (Tue 22:00Z = 19:00 local) to Wed 12:30Z: 14.5 h, 30 min of it open (09:00-09:30)
    assert reopened.first_responses == [[1200, 1200], [52200, 1800]]
    assert reopened.reply_times == [[52200, 1800]]  # the contact has waited since 22:00
    # both resolves from creation (Tue 10:00 local): 1 h; then 24 h = Tue 10-18 (8 h) + Wed 09-10 (1 h) open
    assert (reopened.resolution_seconds, reopened.resolution_business_seconds) == (86400, 32400)
    assert (reopened.resolutions, reopened.reopen_count) == (2, 1)
    # out: the automation message counts as sent, like Chatwoot's outgoing count
    assert (reopened.messages_in, reopened.messages_out, reopened.private_notes, reopened.bot_messages) == (2, 3, 0, 0)
    assert (reopened.handled_by, reopened.handed_off_at) == ("human_only", None)

    private_only = rows[story.private_only]
    assert private_only.first_response_seconds is None
    assert private_only.first_response_agent_id is None
    assert (private_only.first_responses, private_only.reply_times) == ([], [])
    assert (private_only.resolution_seconds, private_only.resolutions) == (None, 0)
    assert (private_only.messages_in, private_only.messages_out, private_only.private_notes) == (1, 0, 1)
    # the unknown-origin change to open is no hand-off
    assert (private_only.handled_by, private_only.handed_off_at) == ("unanswered", None)

    imported = rows[story.imported]
    # direction only: incoming/outgoing by an agent is a human reply; 15:45:30.9 -> 15:45:30, 45.5 min
    assert (imported.first_response_seconds, imported.first_response_business_seconds) == (2730, None)
    assert imported.first_response_agent_id == story.a1
    assert imported.first_responses == [[2730, None]]
    assert imported.reply_times == [[600, None]]
    # the resolve seen twice (sync 17:00:00, webhook 17:00:20) is one resolve, at the earliest time
    assert (imported.resolution_seconds, imported.resolution_business_seconds, imported.resolutions) == (
        7200,
        None,
        1,
    )
    assert (imported.messages_in, imported.messages_out, imported.handled_by) == (2, 2, "human_only")

    with tenant_session(story.tenant) as session:
        mark = session.scalar(select(Watermark).where(Watermark.stream == STREAM))
        assert mark is not None
        assert datetime.fromisoformat(mark.value) == SYNCED_4


def test_incremental_runs(story: Story) -> None:
    job = get_job("gold.conversation_facts")
    assert (job.order, job.every_minutes) == (310, 30)
    with tenant_session(story.tenant) as session:
        assert job.run(session, None) == 4
    with tenant_session(story.tenant) as session:
        assert job.run(session, None) == 0  # nothing changed: the newest is recomputed, identical, not written
    first_computed = {cid: row.computed_at for cid, row in facts(story.tenant).items()}

    with tenant_session(story.tenant) as session:
        w = _Writer(session)
        w.count = 100
        # the bot conversation changes but its synced_at does not: the job must not look at it
        w.message(story.bot, utc(2026, 3, 2, 13, 30), "agent", agent_id=story.a1, is_private=True)
        # the reopened one gets a new reply and is stamped: only it is recomputed
        w.message(story.reopened, utc(2026, 3, 4, 12, 50), "contact")
        w.message(story.reopened, utc(2026, 3, 4, 12, 55), "agent", agent_id=story.a2)
        session.get_one(Conversation, story.reopened).synced_at = utc(2026, 3, 11)
    with tenant_session(story.tenant) as session:
        assert compute_conversation_facts(session) == 1
    rows = facts(story.tenant)
    assert rows[story.reopened].reply_times == [[52200, 1800], [300, 300]]  # 12:50 -> 12:55 (09:50 local)
    assert rows[story.reopened].computed_at > first_computed[story.reopened]
    assert rows[story.bot].private_notes == 1  # not recomputed
    for unchanged in (story.bot, story.private_only, story.imported):
        assert rows[unchanged].computed_at == first_computed[unchanged]
    with tenant_session(story.tenant) as session:
        mark = session.scalar(select(Watermark).where(Watermark.stream == STREAM))
        assert mark is not None and datetime.fromisoformat(mark.value) == utc(2026, 3, 11)
        assert compute_conversation_facts(session) == 0

    # asked by id, exactly those are recomputed, whatever their synced_at; the watermark stays
    with tenant_session(story.tenant) as session:
        assert compute_conversation_facts(session, [story.bot]) == 1
        assert session.scalar(select(Watermark.value).where(Watermark.stream == STREAM)) == mark.value
    assert facts(story.tenant)[story.bot].private_notes == 2


def test_late_writes_are_picked_up(story: Story) -> None:
    """A write stamped with the watermark's own time, or not stamped at all, is still seen by the next run."""
    with tenant_session(story.tenant) as session:
        assert compute_conversation_facts(session) == 4  # watermark = SYNCED_4
        w = _Writer(session)
        w.count = 100
        # committed after the run but stamped exactly SYNCED_4 (another writer in the same second)
        w.message(story.bot, utc(2026, 3, 2, 13, 30), "agent", agent_id=story.a1, is_private=True)
        session.get_one(Conversation, story.bot).synced_at = SYNCED_4
        # a conversation written without synced_at: it has no facts row yet
        inbox_id = session.get_one(Conversation, story.bot).inbox_id
        late = Conversation(external_id="late", inbox_id=inbox_id, created_at=utc(2026, 3, 9, 12), synced_at=None)
        session.add(late)
        session.flush()
        assert compute_conversation_facts(session) == 2
    rows = facts(story.tenant)
    assert rows[story.bot].private_notes == 2
    assert rows[late.id].handled_by == "unanswered"


def test_other_tenants_are_never_touched(story: Story) -> None:
    with tenant_session(story.tenant) as session:
        assert compute_conversation_facts(session) == 4
        # asking for another tenant's conversation by id finds nothing to compute
        assert compute_conversation_facts(session, [story.other_conversation]) == 0
    with tenant_session(story.other) as session:
        assert session.scalar(select(func.count()).select_from(ConversationFactsRow)) == 0
        assert session.scalar(select(Watermark).where(Watermark.stream == STREAM)) is None
        assert compute_conversation_facts(session) == 1
        row = session.scalars(select(ConversationFactsRow)).one()
        assert (row.conversation_id, row.first_response_seconds, row.handled_by) == (
            story.other_conversation,
            60,
            "human_only",
        )
    with platform_session() as session:
        per_tenant = dict(
            session.execute(
                select(ConversationFactsRow.tenant_id, func.count()).group_by(ConversationFactsRow.tenant_id)
            ).all()
        )
    assert per_tenant == {story.tenant: 4, story.other: 1}
