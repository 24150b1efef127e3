"""Compare a conversation's :class:`ConversationFacts` with Chatwoot's own ``reporting_events`` rows.

Per metric, we agree when every value is within :data:`TOLERANCE_SECONDS` (1 s) of Chatwoot's. Where Pulso
differs from Chatwoot on purpose, the comparison says so in ``note`` instead of leaving a bare mismatch:

- ``first_response`` is checked against our Chatwoot-style value; when Pulso's own value differs, the note says
  why (snoozed -> open and an un-reopened bot resolve restart Chatwoot's clock, not Pulso's).
- ``conversation_resolved`` values are read from ``updated_at`` when Chatwoot's async job runs, so a few seconds
  of skew are known; a disagreement of at most :data:`RESOLVE_SKEW_SECONDS` is flagged as that skew.
- Business-hours values are compared only when both sides have them: Chatwoot stores 0 when working hours are
  disabled and uses the inbox's hours *at insert time*, never re-applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pulso.metrics.conversation_facts import ConversationFacts

TOLERANCE_SECONDS = 1.0
RESOLVE_SKEW_SECONDS = 10.0


@dataclass(frozen=True)
class ReportingEvent:
    """The columns of one Chatwoot ``reporting_events`` row that matter here."""

    name: str
    value: float
    value_in_business_hours: float | None
    event_start_time: datetime
    event_end_time: datetime


@dataclass(frozen=True)
class MetricAgreement:
    metric: str
    ours: tuple[float, ...]
    chatwoot: tuple[float, ...]
    agrees: bool
    note: str = ""


@dataclass(frozen=True)
class Agreement:
    metrics: tuple[MetricAgreement, ...]

    @property
    def all_agree(self) -> bool:
        return all(metric.agrees for metric in self.metrics)

    def get(self, metric: str) -> MetricAgreement:
        for candidate in self.metrics:
            if candidate.metric == metric:
                return candidate
        raise KeyError(metric)


def _close(ours: Sequence[float], theirs: Sequence[float], tolerance: float = TOLERANCE_SECONDS) -> bool:
    return len(ours) == len(theirs) and all(abs(a - b) <= tolerance for a, b in zip(ours, theirs, strict=True))


def _values(events: Sequence[ReportingEvent], name: str, business: bool = False) -> tuple[float, ...]:
    chosen = sorted((e for e in events if e.name == name), key=lambda e: e.event_end_time)
    if business:
        return tuple(e.value_in_business_hours or 0.0 for e in chosen)
    return tuple(e.value for e in chosen)


def _first_response(facts: ConversationFacts, events: Sequence[ReportingEvent]) -> MetricAgreement:
    theirs = _values(events, "first_response")
    cw_style = facts.first_response_chatwoot_style_seconds
    ours = () if cw_style is None else (float(cw_style),)
    agrees = _close(ours, theirs)
    notes = []
    if len(theirs) > 1:
        notes.append("Chatwoot has several first_response rows (a retried job inserts twice)")
    if facts.first_response_seconds is not None and facts.first_response_seconds != cw_style:
        notes.append(
            f"Pulso's own first response is {facts.first_response_seconds}s on purpose: "
            "snoozed -> open restarts Chatwoot's clock but not Pulso's, and a bot resolve that was never reopened "
            "starts Chatwoot's clock but not Pulso's"
        )
    if not agrees and not notes:
        notes.append("unexplained: check the timeline against Chatwoot's messages and status changes")
    return MetricAgreement("first_response", ours, theirs, agrees, "; ".join(notes))


def _business(metric: str, ours: Sequence[int | None], events: Sequence[ReportingEvent], name: str) -> MetricAgreement:
    theirs = _values(events, name, business=True)
    known = tuple(float(value) for value in ours if value is not None)
    if len(known) != len(ours):
        return MetricAgreement(metric, known, theirs, True, "not compared: no working hours given to Pulso")
    if theirs and all(value == 0 for value in theirs) and any(known):
        return MetricAgreement(metric, known, theirs, False, "Chatwoot stores 0 when working hours are disabled")
    agrees = _close(known, theirs)
    note = "" if agrees else "Chatwoot used the inbox's working hours at insert time, and they may have changed since"
    return MetricAgreement(metric, known, theirs, agrees, note)


def compare_with_chatwoot(facts: ConversationFacts, reporting_events: Sequence[ReportingEvent]) -> Agreement:
    """Per metric, whether Pulso's facts match Chatwoot's rows for the same conversation within one second."""
    reply_ours = tuple(float(r.seconds) for r in facts.reply_times)
    reply_theirs = _values(reporting_events, "reply_time")
    reply = MetricAgreement(
        "reply_time",
        reply_ours,
        reply_theirs,
        _close(reply_ours, reply_theirs),
        "" if _close(reply_ours, reply_theirs) else "bot replies clear waiting_since only since Chatwoot 2026-01",
    )
    resolved_ours = tuple(float(r.seconds) for r in facts.resolutions)
    resolved_theirs = _values(reporting_events, "conversation_resolved")
    resolved_agrees = _close(resolved_ours, resolved_theirs)
    resolved_note = ""
    if not resolved_agrees and _close(resolved_ours, resolved_theirs, RESOLVE_SKEW_SECONDS):
        resolved_note = "known skew: Chatwoot reads updated_at when its async job runs, seconds after the resolve"
    elif not resolved_agrees:
        resolved_note = "unexplained: resolve count or times differ"
    first_cw_business = facts.first_response_chatwoot_style_business_seconds
    return Agreement(
        (
            _first_response(facts, reporting_events),
            _business(
                "first_response_business",
                [] if facts.first_response_chatwoot_style_seconds is None else [first_cw_business],
                reporting_events,
                "first_response",
            ),
            reply,
            _business(
                "reply_time_business",
                [r.business_seconds for r in facts.reply_times],
                reporting_events,
                "reply_time",
            ),
            MetricAgreement("conversation_resolved", resolved_ours, resolved_theirs, resolved_agrees, resolved_note),
            _business(
                "conversation_resolved_business",
                [r.business_seconds for r in facts.resolutions],
                reporting_events,
                "conversation_resolved",
            ),
        )
    )
