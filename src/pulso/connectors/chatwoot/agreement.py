"""How often Pulso's conversation facts agree with Chatwoot's own ``reporting_events``, per metric.

For every conversation with rows in ``source_reporting_events``, the facts are recomputed from silver (the same
timelines the ``gold.conversation_facts`` job uses) and compared with
:func:`pulso.metrics.chatwoot_agreement.compare_with_chatwoot`. A metric counts as compared for a conversation
when either side has a value and the comparison did not decline (business hours unknown to Pulso); the notes
that explain deliberate differences are gathered with the number of conversations they concern.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from pulso.metrics.chatwoot_agreement import MetricAgreement, ReportingEvent, compare_with_chatwoot
from pulso.pipeline.gold.conversation_facts import CHUNK_SIZE, load_conversation_inputs
from pulso.store.models import SourceReportingEvent
from pulso.store.session import PulsoSession

METRICS = (
    "first_response",
    "first_response_business",
    "reply_time",
    "reply_time_business",
    "conversation_resolved",
    "conversation_resolved_business",
)
NOT_COMPARED_PREFIX = "not compared"
_SECONDS = re.compile(r"\b\d+s\b")


@dataclass(frozen=True)
class MetricReport:
    metric: str
    compared: int
    agreeing: int
    notes: tuple[tuple[str, int], ...] = ()  # (note, conversations), most frequent first
    disagreeing_conversation_ids: tuple[int, ...] = ()

    @property
    def percentage(self) -> float | None:
        return 100.0 * self.agreeing / self.compared if self.compared else None


@dataclass(frozen=True)
class AgreementReport:
    conversations: int
    metrics: tuple[MetricReport, ...]

    def get(self, metric: str) -> MetricReport:
        for candidate in self.metrics:
            if candidate.metric == metric:
                return candidate
        raise KeyError(metric)

    def to_markdown(self) -> str:
        """A table per metric (compared, agreeing, %) and the notes below it, for the README."""
        lines = [
            f"Agreement with Chatwoot's reporting_events ({self.conversations} conversations)",
            "",
            "| Metric | Compared | Agreeing | Agreement |",
            "|---|---:|---:|---:|",
        ]
        for metric in self.metrics:
            share = "n/a" if metric.percentage is None else f"{metric.percentage:.1f}%"
            lines.append(f"| {metric.metric} | {metric.compared} | {metric.agreeing} | {share} |")
        notes = [(metric.metric, note, count) for metric in self.metrics for note, count in metric.notes]
        if notes:
            lines += ["", "Notes:", ""]
            lines += [f"- `{metric}` ({count} conv.): {note}" for metric, note, count in notes]
        return "\n".join(lines) + "\n"


def _is_compared(metric: MetricAgreement) -> bool:
    if metric.note.startswith(NOT_COMPARED_PREFIX):
        return False
    return bool(metric.ours or metric.chatwoot)


def _notes(note: str) -> list[str]:
    """One note per reason, with per-conversation seconds generalised so equal reasons group together."""
    return [_SECONDS.sub("Ns", part.strip()) for part in note.split("; ") if part.strip()]


def _events(session: PulsoSession, conversation_ids: list[int]) -> dict[int, list[ReportingEvent]]:
    events: dict[int, list[ReportingEvent]] = defaultdict(list)
    rows = session.execute(
        select(
            SourceReportingEvent.conversation_id,
            SourceReportingEvent.name,
            SourceReportingEvent.value,
            SourceReportingEvent.value_in_business_hours,
            SourceReportingEvent.event_start_time,
            SourceReportingEvent.event_end_time,
            SourceReportingEvent.created_at,
        ).where(SourceReportingEvent.conversation_id.in_(conversation_ids))
    ).all()
    for row in rows:
        end: datetime = row.event_end_time or row.created_at
        events[row.conversation_id].append(
            ReportingEvent(
                name=row.name,
                value=float(row.value or 0.0),
                value_in_business_hours=row.value_in_business_hours,
                event_start_time=row.event_start_time or end,
                event_end_time=end,
            )
        )
    return events


def agreement_report(session: PulsoSession) -> AgreementReport:
    """Compare Pulso's facts with Chatwoot's reporting events for every conversation that has some."""
    conversation_ids = sorted(
        int(conversation_id)
        for conversation_id in session.scalars(select(SourceReportingEvent.conversation_id).distinct())
        if conversation_id is not None
    )
    compared: Counter[str] = Counter()
    agreeing: Counter[str] = Counter()
    notes: dict[str, Counter[str]] = defaultdict(Counter)
    disagreeing: dict[str, list[int]] = defaultdict(list)
    for start in range(0, len(conversation_ids), CHUNK_SIZE):
        chunk = conversation_ids[start : start + CHUNK_SIZE]
        events = _events(session, chunk)
        for conversation in load_conversation_inputs(session, chunk):
            agreement = compare_with_chatwoot(conversation.facts(), events[conversation.conversation_id])
            for metric in agreement.metrics:
                if not _is_compared(metric):
                    continue
                compared[metric.metric] += 1
                if metric.agrees:
                    agreeing[metric.metric] += 1
                else:
                    disagreeing[metric.metric].append(conversation.conversation_id)
                notes[metric.metric].update(set(_notes(metric.note)))
    return AgreementReport(
        conversations=len(conversation_ids),
        metrics=tuple(
            MetricReport(
                metric=name,
                compared=compared[name],
                agreeing=agreeing[name],
                notes=tuple(notes[name].most_common()),
                disagreeing_conversation_ids=tuple(disagreeing[name]),
            )
            for name in METRICS
        ),
    )
