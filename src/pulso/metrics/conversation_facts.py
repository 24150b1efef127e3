"""Per-conversation facts (response, reply and resolution times, counts, who handled it) as a pure function.

Input is one conversation's timeline: :class:`TimelineMessage` rows, :class:`StatusChange` rows and the creation
time, all aware datetimes. Timestamps are truncated to whole seconds, as Chatwoot does for reporting_events.

Definitions (Pulso)
- **Qualifying human reply**: ``message_type == 'outgoing'``, not private, ``sender == 'human'``, not from a
  campaign or automation rule (Chatwoot's definition, reference §12).
- **Window start**: conversation creation, every bot hand-off (a status change flagged ``by_bot_handoff`` or any
  ``pending -> open``) and every reopen (``resolved -> open``). ``snoozed -> open`` is *not* a start: the contact
  was already waiting through the snooze.
- **first_response_seconds**: from the latest window start at or before the first qualifying human reply to that
  reply. Bot time before a hand-off is therefore excluded.
- **first_responses**: the same, once per reopen period (creation, then each ``resolved -> open``): the first
  qualifying human reply of each period measured from its latest window start. A reopened conversation gets a
  second first-response window here; Chatwoot records only one ``first_response`` per conversation.
- **first_response_chatwoot_style_seconds**: Chatwoot's own rule: start = latest end of a
  ``conversation_bot_handoff`` (first flagged hand-off only) or ``conversation_opened`` (any change *to* open,
  snoozed included) before the first reply; if none, the latest resolve before it while the bot had spoken and no
  human had (approximates ``conversation_bot_resolved``); else creation.
- **reply_times**: Chatwoot's ``reply_time``, replayed: ``waiting_since`` is set at creation, set to an incoming
  contact message's time when blank, and cleared by any human or bot reply and by a resolve. Every qualifying
  human reply after the first one, while ``waiting_since`` is set, yields ``reply - waiting_since``.
- **resolutions_seconds**: ``resolve - created_at`` for *every* resolve (as Chatwoot's ``conversation_resolved``
  rows); **resolution_seconds** is the last one. Kept from creation, as Chatwoot does, so the numbers compare
  and "how long until the customer's issue was closed for good" stays one number; time spent resolved before a
  reopen is counted in it, which is why every resolve is listed too.
- Business variants use :func:`pulso.metrics.business_hours.working_seconds` over the same interval; ``None``
  when no :class:`WorkingHours` is given (Chatwoot stores 0 then).
- Counts: ``messages_in`` = incoming, not private; ``messages_out`` = outgoing or template by a human or bot, not
  private (campaign messages included); ``private_notes`` = private messages; ``bot_messages`` = non-private
  outgoing or template by a bot. Activity messages are counted nowhere.
- **handled_by**: ``unanswered`` (no bot message, no human reply), ``bot_only`` (bot messages, no human reply),
  ``handed_off`` (bot messages or a flagged hand-off, and a human reply), ``human_only`` (human reply, no bot).
  ``handed_off_at`` is the first flagged hand-off, else the first ``pending -> open``.

Where Pulso differs from Chatwoot on purpose
- Snoozing does not restart the first-response clock (Chatwoot's ``conversation_opened`` does).
- A resolve by the bot that was never reopened does not start the clock (Chatwoot's ``conversation_bot_resolved``
  fallback does): until a human answers, the contact is still waiting.
- Reopen-aware: one first response per reopen period (``first_responses``), not one per conversation.
- Computed from the timeline, not at job time: no skew from ``updated_at`` read seconds later, no double rows from
  retried jobs, and business seconds use the hours given now (Chatwoot freezes the hours at insert time and
  stores 0 when working hours are disabled).
- Human replies stamped before creation are ignored as clock errors.
Resolution stays measured from creation, like Chatwoot, so the two can be compared row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pulso.metrics.business_hours import WorkingHours, working_seconds

MessageType = Literal["incoming", "outgoing", "activity", "template"]
Sender = Literal["contact", "human", "bot", "system"]
Status = Literal["open", "resolved", "pending", "snoozed"]
HandledBy = Literal["bot_only", "handed_off", "human_only", "unanswered"]


@dataclass(frozen=True)
class TimelineMessage:
    created_at: datetime
    message_type: MessageType
    sender: Sender
    private: bool = False
    from_campaign_or_automation: bool = False

    @property
    def is_qualifying_human_reply(self) -> bool:
        return (
            self.message_type == "outgoing"
            and not self.private
            and self.sender == "human"
            and not self.from_campaign_or_automation
        )


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    from_status: Status
    to_status: Status
    by_bot_handoff: bool = False

    @property
    def is_handoff(self) -> bool:
        return self.by_bot_handoff or (self.from_status == "pending" and self.to_status == "open")

    @property
    def is_reopen(self) -> bool:
        return self.from_status == "resolved" and self.to_status == "open"


@dataclass(frozen=True)
class ConversationTimeline:
    created_at: datetime
    messages: Sequence[TimelineMessage] = ()
    status_changes: Sequence[StatusChange] = ()
    labels: tuple[str, ...] = ()
    csat_score: int | None = None


@dataclass(frozen=True)
class TimedInterval:
    """One measured interval: start, end, wall seconds and (when hours are known) business seconds."""

    start: datetime
    end: datetime
    seconds: int
    business_seconds: int | None


@dataclass(frozen=True)
class ConversationFacts:
    first_response_seconds: int | None
    first_response_business_seconds: int | None
    first_response_chatwoot_style_seconds: int | None
    first_response_chatwoot_style_business_seconds: int | None
    first_responses: tuple[TimedInterval, ...]
    reply_times: tuple[TimedInterval, ...]
    resolution_seconds: int | None
    resolution_business_seconds: int | None
    resolutions: tuple[TimedInterval, ...]
    messages_in: int
    messages_out: int
    private_notes: int
    bot_messages: int
    handled_by: HandledBy
    handed_off_at: datetime | None
    reopen_count: int
    labels: tuple[str, ...] = field(default_factory=tuple)
    csat_score: int | None = None


def _whole(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"timeline datetimes must be timezone-aware, got naive {moment}")
    return moment.replace(microsecond=0)


def _interval(start: datetime, end: datetime, hours: WorkingHours | None) -> TimedInterval:
    seconds = int((end - start).total_seconds())
    business = working_seconds(start, end, hours) if hours is not None else None
    return TimedInterval(start, end, seconds, business)


def _latest_at_or_before(moments: Sequence[datetime], limit: datetime) -> datetime | None:
    earlier = [moment for moment in moments if moment <= limit]
    return max(earlier) if earlier else None


def _chatwoot_first_response_start(
    created_at: datetime, changes: Sequence[StatusChange], messages: Sequence[TimelineMessage], reply_at: datetime
) -> datetime:
    flagged = [change.at for change in changes if change.by_bot_handoff][:1]  # at most one per conversation
    opened = [change.at for change in changes if change.to_status == "open" and change.from_status != "open"]
    start = _latest_at_or_before(flagged + opened, reply_at)
    if start is not None:
        return start
    bot_resolves = [
        change.at
        for change in changes
        if change.to_status == "resolved"
        and any(m.sender == "bot" and not m.private and m.created_at <= change.at for m in messages)
    ]
    return _latest_at_or_before(bot_resolves, reply_at) or created_at


def _reply_times(
    created_at: datetime, messages: Sequence[TimelineMessage], changes: Sequence[StatusChange]
) -> list[tuple[datetime, datetime]]:
    """Replay Chatwoot's ``waiting_since``; status changes sort before messages at the same second."""
    events: list[tuple[datetime, int, TimelineMessage | StatusChange]] = [(c.at, 0, c) for c in changes]
    events += [(m.created_at, 1, m) for m in messages]
    events.sort(key=lambda event: (event[0], event[1]))
    waiting_since: datetime | None = created_at
    first_reply_seen = False
    pairs: list[tuple[datetime, datetime]] = []
    for at, _, event in events:
        if isinstance(event, StatusChange):
            if event.to_status == "resolved":
                waiting_since = None
            continue
        if event.private:
            continue
        if event.message_type == "incoming" and event.sender == "contact":
            waiting_since = waiting_since or at
        elif event.is_qualifying_human_reply:
            if first_reply_seen and waiting_since is not None:
                pairs.append((waiting_since, at))
            first_reply_seen = True
            waiting_since = None
        elif event.message_type in ("outgoing", "template") and event.sender == "bot":
            waiting_since = None
    return pairs


def conversation_facts(timeline: ConversationTimeline, hours: WorkingHours | None = None) -> ConversationFacts:
    """Compute :class:`ConversationFacts` for one conversation (definitions in the module docstring)."""
    created_at = _whole(timeline.created_at)
    messages = sorted(
        (
            TimelineMessage(_whole(m.created_at), m.message_type, m.sender, m.private, m.from_campaign_or_automation)
            for m in timeline.messages
        ),
        key=lambda m: m.created_at,
    )
    changes = sorted(
        (StatusChange(_whole(c.at), c.from_status, c.to_status, c.by_bot_handoff) for c in timeline.status_changes),
        key=lambda c: c.at,
    )
    # Replies stamped before creation are clock errors (as in the overview metric) and never a response.
    human_replies = [m.created_at for m in messages if m.is_qualifying_human_reply and m.created_at >= created_at]
    starts = [created_at] + [c.at for c in changes if c.is_handoff or c.is_reopen]
    reopens = [c.at for c in changes if c.is_reopen]
    period_bounds = [created_at, *reopens]

    first_responses: list[TimedInterval] = []
    for index, period_start in enumerate(period_bounds):
        period_end = period_bounds[index + 1] if index + 1 < len(period_bounds) else None
        in_period = [r for r in human_replies if r >= period_start and (period_end is None or r < period_end)]
        if in_period:
            start = _latest_at_or_before(starts, in_period[0]) or created_at
            first_responses.append(_interval(start, in_period[0], hours))

    first = None
    chatwoot_first = None
    if human_replies:
        first_reply = human_replies[0]
        first = _interval(_latest_at_or_before(starts, first_reply) or created_at, first_reply, hours)
        chatwoot_start = _chatwoot_first_response_start(created_at, changes, messages, first_reply)
        chatwoot_first = _interval(chatwoot_start, first_reply, hours)

    resolutions = [_interval(created_at, c.at, hours) for c in changes if c.to_status == "resolved"]
    reply_times = [_interval(start, end, hours) for start, end in _reply_times(created_at, messages, changes)]

    public = [m for m in messages if not m.private]
    bot_messages = sum(1 for m in public if m.sender == "bot" and m.message_type in ("outgoing", "template"))
    handoffs = [c.at for c in changes if c.by_bot_handoff] or [c.at for c in changes if c.is_handoff]
    handled_by: HandledBy
    if human_replies:
        handled_by = "handed_off" if bot_messages or any(c.by_bot_handoff for c in changes) else "human_only"
    else:
        handled_by = "bot_only" if bot_messages else "unanswered"

    return ConversationFacts(
        first_response_seconds=first.seconds if first else None,
        first_response_business_seconds=first.business_seconds if first else None,
        first_response_chatwoot_style_seconds=chatwoot_first.seconds if chatwoot_first else None,
        first_response_chatwoot_style_business_seconds=chatwoot_first.business_seconds if chatwoot_first else None,
        first_responses=tuple(first_responses),
        reply_times=tuple(reply_times),
        resolution_seconds=resolutions[-1].seconds if resolutions else None,
        resolution_business_seconds=resolutions[-1].business_seconds if resolutions else None,
        resolutions=tuple(resolutions),
        messages_in=sum(1 for m in public if m.message_type == "incoming"),
        messages_out=sum(
            1 for m in public if m.message_type in ("outgoing", "template") and m.sender in ("human", "bot")
        ),
        private_notes=sum(1 for m in messages if m.private),
        bot_messages=bot_messages,
        handled_by=handled_by,
        handed_off_at=handoffs[0] if handoffs else None,
        reopen_count=len(reopens),
        labels=tuple(timeline.labels),
        csat_score=timeline.csat_score,
    )
