"""The agreement report with Chatwoot's reporting_events, on the hand-built story of the gold job's test.

Added here: conversation 5, snoozed before its first reply (created Mon 2026-03-09 12:00Z = 09:00 local, contact
writes at once, snoozed 12:10Z, back to open 13:00Z, A1 replies 13:15Z). Pulso's first response is 75 min (snoozing
does not restart its clock); Chatwoot's is 15 min, from the snoozed -> open change, and so is our Chatwoot-style one.

Chatwoot's rows, and what agrees:
- bot: first_response 600 (600), reply_time 300 (300), conversation_resolved 10800 (7200): all agree.
- reopened: first_response 1200 (1200), reply_time 52200 (1800), conversation_resolved 3600 (3600) and 86405
  (32400): the second resolve is 5 s off (Chatwoot read updated_at late), so conversation_resolved disagrees.
- imported (no working hours in Pulso, 0 in Chatwoot): first_response 2730, reply_time 600, resolved 7200 agree;
  the business variants are not compared.
- snoozed: first_response 900 (900) agrees, with the note that Pulso's own value differs on purpose.
- private only: no rows, not in the report. Tenant B's rows are never read.

Per metric: first_response 4/4, first_response_business 3/3 (bot, reopened, snoozed), reply_time 3/3,
reply_time_business 2/2, conversation_resolved 2/3 (66.7 %), conversation_resolved_business 2/2.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from typer.testing import CliRunner

from pulso.cli import app
from pulso.config import Settings
from pulso.connectors.chatwoot.agreement import agreement_report
from pulso.store.models import Conversation, Inbox, SourceReportingEvent
from pulso.store.session import tenant_session
from tests.pipeline.test_conversation_facts_job import Story, _Writer, build_story, utc

Row = tuple[int, str, float, float, datetime, datetime]


def _add_events(tenant: int, rows: list[Row]) -> None:
    with tenant_session(tenant) as session:
        for number, (conversation, name, value, business, start, end) in enumerate(rows):
            session.add(
                SourceReportingEvent(
                    external_id=f"re{number}",
                    conversation_id=conversation,
                    name=name,
                    value=value,
                    value_in_business_hours=business,
                    event_start_time=start,
                    event_end_time=end,
                    created_at=end,
                )
            )


@pytest.fixture
def story(any_settings: Settings) -> Story:
    story = build_story()
    with tenant_session(story.tenant) as session:
        inbox_id = session.get_one(Conversation, story.bot).inbox_id
        w = _Writer(session)
        w.count = 200
        snoozed = w.conversation(session.get_one(Inbox, inbox_id), utc(2026, 3, 9, 12), utc(2026, 3, 10))
        w.message(snoozed, utc(2026, 3, 9, 12, 0), "contact")
        w.status(snoozed, utc(2026, 3, 9, 12, 10), "open", "snoozed")
        w.status(snoozed, utc(2026, 3, 9, 13, 0), "snoozed", "open")
        w.message(snoozed, utc(2026, 3, 9, 13, 15), "agent", agent_id=story.a1)
    bot, reopened, imported = story.bot, story.reopened, story.imported
    _add_events(
        story.tenant,
        [
            (bot, "conversation_bot_handoff", 5400, 1800, utc(2026, 3, 2, 11), utc(2026, 3, 2, 12, 30)),
            (bot, "first_response", 600, 600, utc(2026, 3, 2, 12, 30), utc(2026, 3, 2, 12, 40)),
            (bot, "reply_time", 300, 300, utc(2026, 3, 2, 13), utc(2026, 3, 2, 13, 5)),
            (bot, "conversation_resolved", 10800, 7200, utc(2026, 3, 2, 11), utc(2026, 3, 2, 14)),
            (reopened, "first_response", 1200, 1200, utc(2026, 3, 3, 13), utc(2026, 3, 3, 13, 20)),
            (reopened, "conversation_resolved", 3600, 3600, utc(2026, 3, 3, 13), utc(2026, 3, 3, 14)),
            (reopened, "conversation_opened", 28800, 0, utc(2026, 3, 3, 14), utc(2026, 3, 3, 22)),
            (reopened, "reply_time", 52200, 1800, utc(2026, 3, 3, 22), utc(2026, 3, 4, 12, 30)),
            (reopened, "conversation_resolved", 86405, 32400, utc(2026, 3, 3, 13), utc(2026, 3, 4, 13, 0, 5)),
            (imported, "first_response", 2730, 0, utc(2026, 3, 6, 15), utc(2026, 3, 6, 15, 45, 30)),
            (imported, "reply_time", 600, 0, utc(2026, 3, 6, 16), utc(2026, 3, 6, 16, 10)),
            (imported, "conversation_resolved", 7200, 0, utc(2026, 3, 6, 15), utc(2026, 3, 6, 17)),
            (snoozed, "conversation_opened", 0, 0, utc(2026, 3, 9, 12), utc(2026, 3, 9, 13)),
            (snoozed, "first_response", 900, 900, utc(2026, 3, 9, 13), utc(2026, 3, 9, 13, 15)),
        ],
    )
    # tenant B: a row that would disagree everywhere if it were read
    _add_events(
        story.other,
        [(story.other_conversation, "first_response", 99999, 99999, utc(2026, 3, 2, 11), utc(2026, 3, 2, 11, 1))],
    )
    return story


def test_agreement_per_metric(story: Story) -> None:
    with tenant_session(story.tenant) as session:
        report = agreement_report(session)
    assert report.conversations == 4
    counts = {m.metric: (m.compared, m.agreeing) for m in report.metrics}
    assert counts == {
        "first_response": (4, 4),
        "first_response_business": (3, 3),
        "reply_time": (3, 3),
        "reply_time_business": (2, 2),
        "conversation_resolved": (3, 2),
        "conversation_resolved_business": (2, 2),
    }
    resolved = report.get("conversation_resolved")
    assert resolved.percentage == pytest.approx(200 / 3)
    assert resolved.disagreeing_conversation_ids == (story.reopened,)
    assert [note for note, _ in resolved.notes] == [
        "known skew: Chatwoot reads updated_at when its async job runs, seconds after the resolve"
    ]
    assert report.get("first_response").percentage == 100.0
    # the deliberate difference is explained once, with the per-conversation seconds generalised
    (note, conversations), *rest = report.get("first_response").notes
    assert rest == []
    assert conversations == 1
    assert note.startswith("Pulso's own first response is Ns on purpose: snoozed -> open restarts Chatwoot's clock")

    markdown = report.to_markdown()
    assert "| conversation_resolved | 3 | 2 | 66.7% |" in markdown
    assert "| first_response | 4 | 4 | 100.0% |" in markdown
    assert "- `first_response` (1 conv.): Pulso's own first response is Ns on purpose" in markdown


def test_agreement_command(story: Story) -> None:
    result = CliRunner().invoke(app, ["chatwoot", "agreement", "--tenant", "a"])
    assert result.exit_code == 0, result.output
    assert "| reply_time_business | 2 | 2 | 100.0% |" in result.output
    assert "(4 conversations)" in result.output
    result = CliRunner().invoke(app, ["chatwoot", "agreement", "--tenant", "nobody"])
    assert result.exit_code == 2
    assert "no tenant with slug 'nobody'" in result.output


def test_empty_report(any_settings: Settings) -> None:
    story = build_story()
    with tenant_session(story.tenant) as session:
        report = agreement_report(session)
    assert report.conversations == 0
    assert all(m.compared == 0 and m.percentage is None for m in report.metrics)
    assert "| first_response | 0 | 0 | n/a |" in report.to_markdown()
