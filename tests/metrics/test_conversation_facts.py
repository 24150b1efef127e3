"""conversation_facts and compare_with_chatwoot on hand-built timelines; answers worked out in the comments.

All times are UTC. Business-hours cases use America/Sao_Paulo (UTC-3, no DST) or America/New_York.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from pulso.metrics.business_hours import WorkingHours
from pulso.metrics.chatwoot_agreement import ReportingEvent, compare_with_chatwoot
from pulso.metrics.conversation_facts import (
    ConversationTimeline,
    StatusChange,
    TimelineMessage,
    conversation_facts,
)


def at(hour: int, minute: int = 0, second: int = 0, day: int = 5) -> datetime:
    """A moment on 2025-03-<day> (default Wednesday 5 March) in UTC."""
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC)


def contact(moment: datetime) -> TimelineMessage:
    return TimelineMessage(moment, "incoming", "contact")


def human(moment: datetime, *, private: bool = False, campaign: bool = False) -> TimelineMessage:
    return TimelineMessage(moment, "outgoing", "human", private=private, from_campaign_or_automation=campaign)


def bot(moment: datetime) -> TimelineMessage:
    return TimelineMessage(moment, "outgoing", "bot")


def plain_conversation() -> ConversationTimeline:
    return ConversationTimeline(
        created_at=at(10),
        messages=[
            contact(at(10)),
            human(at(10, 5)),  # first response: 10:00 -> 10:05 = 300 s
            contact(at(10, 10)),  # waiting since 10:10
            contact(at(10, 12)),  # still waiting since 10:10
            human(at(10, 20)),  # reply time 10:10 -> 10:20 = 600 s
            human(at(10, 21)),  # nobody waiting: no reply time
            TimelineMessage(at(10, 25), "activity", "system"),  # counted nowhere
            contact(at(10, 30)),
            human(at(10, 31, 30)),  # reply time 90 s
        ],
        status_changes=[StatusChange(at(11), "open", "resolved")],  # resolution 10:00 -> 11:00 = 3600 s
        labels=("billing",),
        csat_score=5,
    )


def test_plain_human_conversation() -> None:
    facts = conversation_facts(plain_conversation())
    assert facts.first_response_seconds == 300
    assert facts.first_response_chatwoot_style_seconds == 300
    assert facts.first_response_business_seconds is None  # no working hours given
    assert [r.seconds for r in facts.reply_times] == [600, 90]
    assert facts.reply_times[0].start == at(10, 10)
    assert facts.resolution_seconds == 3600
    assert [r.seconds for r in facts.resolutions] == [3600]
    assert (facts.messages_in, facts.messages_out, facts.private_notes, facts.bot_messages) == (4, 4, 0, 0)
    assert facts.handled_by == "human_only"
    assert facts.handed_off_at is None
    assert facts.reopen_count == 0
    assert facts.labels == ("billing",)
    assert facts.csat_score == 5


def handoff_conversation() -> ConversationTimeline:
    return ConversationTimeline(
        created_at=at(10),
        messages=[
            contact(at(10)),
            bot(at(10, 0, 5)),  # bot reply clears waiting_since
            contact(at(10, 1)),
            bot(at(10, 1, 10)),
            human(at(10, 7)),  # first response from the hand-off: 10:02 -> 10:07 = 300 s (not 420 from creation)
            contact(at(10, 8)),
            human(at(10, 9)),  # reply time 60 s
        ],
        status_changes=[StatusChange(at(10, 2), "pending", "open", by_bot_handoff=True)],
    )


def test_bot_then_handoff_then_human() -> None:
    facts = conversation_facts(handoff_conversation())
    assert facts.first_response_seconds == 300
    assert facts.first_response_chatwoot_style_seconds == 300
    assert [r.seconds for r in facts.reply_times] == [60]
    assert facts.handled_by == "handed_off"
    assert facts.handed_off_at == at(10, 2)
    # in: 3 contact messages; out: 2 bot + 2 human.
    assert (facts.messages_in, facts.messages_out, facts.bot_messages) == (3, 4, 2)
    assert facts.resolution_seconds is None


def test_bot_only_and_unanswered() -> None:
    bot_only = ConversationTimeline(
        created_at=at(10),
        messages=[contact(at(10)), bot(at(10, 0, 3))],
        status_changes=[StatusChange(at(10, 5), "pending", "resolved")],
    )
    facts = conversation_facts(bot_only)
    assert facts.handled_by == "bot_only"
    assert facts.first_response_seconds is None
    assert facts.first_responses == ()
    assert facts.resolution_seconds == 300  # 10:00 -> 10:05

    unanswered = conversation_facts(ConversationTimeline(created_at=at(10), messages=[contact(at(10))]))
    assert unanswered.handled_by == "unanswered"
    assert (unanswered.messages_in, unanswered.messages_out) == (1, 0)


def reopened_conversation() -> ConversationTimeline:
    return ConversationTimeline(
        created_at=at(10),
        messages=[
            contact(at(10)),
            human(at(10, 2)),  # first response 120 s
            contact(at(12)),  # after the resolve: waiting since 12:00
            human(at(12, 10)),  # second window's first response 600 s; for Chatwoot a reply_time of 600 s
        ],
        status_changes=[
            StatusChange(at(10, 30), "open", "resolved"),  # 1800 s after creation
            StatusChange(at(12), "resolved", "open"),  # reopen
            StatusChange(at(13), "open", "resolved"),  # 3 h = 10800 s after creation
        ],
    )


def test_reopened_conversation_has_a_second_first_response_window() -> None:
    facts = conversation_facts(reopened_conversation())
    assert facts.first_response_seconds == 120
    assert [(r.start, r.seconds) for r in facts.first_responses] == [(at(10), 120), (at(12), 600)]
    assert [r.seconds for r in facts.reply_times] == [600]
    assert facts.reopen_count == 1
    # Every resolve is listed, measured from creation; resolution_seconds is the last one.
    assert [r.seconds for r in facts.resolutions] == [1800, 10800]
    assert facts.resolution_seconds == 10800


def test_first_human_reply_after_a_reopen_starts_at_the_reopen() -> None:
    # Bot resolves, the contact comes back at 12:00, a human answers at 12:03: 180 s from the reopen.
    timeline = ConversationTimeline(
        created_at=at(10),
        messages=[contact(at(10)), bot(at(10, 0, 2)), contact(at(12)), human(at(12, 3))],
        status_changes=[StatusChange(at(10, 1), "pending", "resolved"), StatusChange(at(12), "resolved", "open")],
    )
    facts = conversation_facts(timeline)
    assert facts.first_response_seconds == 180
    assert facts.first_response_chatwoot_style_seconds == 180  # conversation_opened at 12:00
    assert facts.handled_by == "handed_off"


def test_private_note_before_first_reply_is_not_a_reply() -> None:
    timeline = ConversationTimeline(
        created_at=at(10),
        messages=[contact(at(10)), human(at(10, 1), private=True), human(at(10, 4))],  # 10:00 -> 10:04 = 240 s
    )
    facts = conversation_facts(timeline)
    assert facts.first_response_seconds == 240
    assert (facts.private_notes, facts.messages_out) == (1, 1)


def test_campaign_message_is_not_a_reply() -> None:
    timeline = ConversationTimeline(
        created_at=at(10),
        messages=[human(at(10), campaign=True), contact(at(10, 30)), human(at(10, 45))],  # 10:00 -> 10:45 = 2700 s
    )
    facts = conversation_facts(timeline)
    assert facts.first_response_seconds == 2700
    assert facts.messages_out == 2
    assert facts.reply_times == ()  # the 10:45 reply is the first response, not a reply time


def test_business_hours_friday_evening_to_monday_morning() -> None:
    # Sao Paulo Mon-Fri 09-18. Fri 2025-03-07 17:50 local (20:50Z) answered Mon 09:10 (12:10Z):
    # 20 business minutes = 1200 s, wall 63 h 20 min = 228000 s.
    hours = WorkingHours.weekly("America/Sao_Paulo", time(9), time(18))
    timeline = ConversationTimeline(
        created_at=at(20, 50, day=7), messages=[contact(at(20, 50, day=7)), human(at(12, 10, day=10))]
    )
    facts = conversation_facts(timeline, hours)
    assert facts.first_response_seconds == 228000
    assert facts.first_response_business_seconds == 1200
    assert facts.first_response_chatwoot_style_business_seconds == 1200


def test_business_hours_across_dst_change() -> None:
    # New York Mon-Fri 09-18. Fri 2025-03-07 17:00 EST (22:00Z) -> Mon 2025-03-10 10:00 EDT (14:00Z) after the
    # Sunday spring-forward: business 1 h + 1 h = 7200 s; wall 2 d 16 h = 64 h = 230400 s.
    hours = WorkingHours.weekly("America/New_York", time(9), time(18))
    timeline = ConversationTimeline(
        created_at=at(22, day=7),
        messages=[contact(at(22, day=7)), human(at(14, day=10))],
        status_changes=[StatusChange(at(14, 30, day=10), "open", "resolved")],  # business 7200 + 1800 = 9000 s
    )
    facts = conversation_facts(timeline, hours)
    assert (facts.first_response_seconds, facts.first_response_business_seconds) == (230400, 7200)
    assert facts.resolution_business_seconds == 9000


def test_snooze_restarts_chatwoot_clock_but_not_pulsos() -> None:
    # Snoozed 10:05-11:00 before any reply; human at 11:10. Pulso: 10:00 -> 11:10 = 4200 s.
    # Chatwoot: conversation_opened at 11:00 -> 600 s.
    timeline = ConversationTimeline(
        created_at=at(10),
        messages=[contact(at(10)), human(at(11, 10))],
        status_changes=[StatusChange(at(10, 5), "open", "snoozed"), StatusChange(at(11), "snoozed", "open")],
    )
    facts = conversation_facts(timeline)
    assert facts.first_response_seconds == 4200
    assert facts.first_response_chatwoot_style_seconds == 600


def event(name: str, value: float, start: datetime, end: datetime, business: float | None = None) -> ReportingEvent:
    return ReportingEvent(name, value, business, start, end)


def plain_events() -> list[ReportingEvent]:
    return [
        event("first_response", 300, at(10), at(10, 5)),
        event("reply_time", 600, at(10, 10), at(10, 20)),
        event("reply_time", 90, at(10, 30), at(10, 31, 30)),
        event("conversation_resolved", 3600, at(10), at(11)),
    ]


def test_compare_agrees_on_plain_conversation() -> None:
    agreement = compare_with_chatwoot(conversation_facts(plain_conversation()), plain_events())
    assert agreement.all_agree
    assert agreement.get("reply_time").ours == (600.0, 90.0)
    assert "no working hours" in agreement.get("first_response_business").note


def test_compare_flags_resolve_skew_and_missing_reply_time() -> None:
    events = plain_events()
    events[3] = event("conversation_resolved", 3604, at(10), at(11, 0, 4))  # job read updated_at 4 s late
    del events[2]  # Chatwoot has only one reply_time
    agreement = compare_with_chatwoot(conversation_facts(plain_conversation()), events)
    assert not agreement.all_agree
    assert agreement.get("first_response").agrees
    resolved = agreement.get("conversation_resolved")
    assert not resolved.agrees
    assert "skew" in resolved.note
    assert not agreement.get("reply_time").agrees


def test_compare_explains_intentional_first_response_difference() -> None:
    timeline = ConversationTimeline(
        created_at=at(10),
        messages=[contact(at(10)), human(at(11, 10))],
        status_changes=[StatusChange(at(10, 5), "open", "snoozed"), StatusChange(at(11), "snoozed", "open")],
    )
    facts = conversation_facts(timeline)
    first = compare_with_chatwoot(facts, [event("first_response", 600, at(11), at(11, 10))]).get("first_response")
    assert first.agrees  # matches our Chatwoot-style value
    assert "4200s on purpose" in first.note


def test_compare_business_values() -> None:
    hours = WorkingHours.weekly("America/Sao_Paulo", time(9), time(18))
    timeline = ConversationTimeline(
        created_at=at(20, 50, day=7), messages=[contact(at(20, 50, day=7)), human(at(12, 10, day=10))]
    )
    facts = conversation_facts(timeline, hours)
    good = [event("first_response", 228000, at(20, 50, day=7), at(12, 10, day=10), business=1200)]
    assert compare_with_chatwoot(facts, good).all_agree
    disabled = [event("first_response", 228000, at(20, 50, day=7), at(12, 10, day=10), business=0)]
    business = compare_with_chatwoot(facts, disabled).get("first_response_business")
    assert not business.agrees
    assert "disabled" in business.note


def test_reply_before_creation_is_ignored_and_naive_times_refused() -> None:
    # A human message at 09:59 (clock error) does not count; the 10:03 reply gives 180 s.
    timeline = ConversationTimeline(created_at=at(10), messages=[human(at(9, 59)), contact(at(10)), human(at(10, 3))])
    assert conversation_facts(timeline).first_response_seconds == 180
    with pytest.raises(ValueError, match="timezone-aware"):
        conversation_facts(ConversationTimeline(created_at=datetime(2025, 3, 5, 10)))


def test_bot_resolve_then_human_reply_without_reopen() -> None:
    # Bot answers at 10:00:05 and resolves at 10:01; a human writes at 10:21 without reopening.
    # Pulso: the contact waited since creation, 1260 s; Chatwoot starts at the bot resolve: 1200 s.
    timeline = ConversationTimeline(
        created_at=at(10),
        messages=[contact(at(10)), bot(at(10, 0, 5)), human(at(10, 21))],
        status_changes=[StatusChange(at(10, 1), "pending", "resolved")],
    )
    facts = conversation_facts(timeline)
    assert facts.first_response_seconds == 1260
    assert facts.first_response_chatwoot_style_seconds == 1200
