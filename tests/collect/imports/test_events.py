"""Events: Segment-shaped payloads in bronze raw_events, deduplicated on messageId (given or derived)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from pulso.store.models import RawEvent
from tests.collect.imports.helpers import counts, fetch, run, write

EVENTS = (
    "event,user_id,anonymous_id,timestamp,properties.plan,properties.value,utm_source,utm_campaign,message_id\n"
    'Signed Up,u1,,2026-01-31T12:00:00Z,pro,"49,90",google,verao,\n'
    "Signed Up,,anon-1,31/01/2026 10:00,,,,,\n"
    ",u2,,2026-01-31T12:00:00Z,,,,,\n"
    "Purchased,u3,,not-a-date,,,,,\n"
    "Purchased,u1,,2026-02-01T00:00:00-03:00,,,,,m-1\n"
    "Purchased,u1,,2026-02-01T00:00:00-03:00,,,,,m-1\n"
)


def _raw(tenant_id: int) -> list[RawEvent]:
    return [r[0] for r in fetch(tenant_id, select(RawEvent).order_by(RawEvent.id))]


def test_events_go_to_bronze_as_segment_messages(tenant_id: int, tmp_path: Path) -> None:
    summary = run("events", write(tmp_path, "e.csv", EVENTS))
    assert counts(summary) == (6, 3, 0, 1, 2)
    assert [(r.line, r.errors[0].field) for r in summary.first_rejects] == [(4, "event"), (5, "timestamp")]
    raw = _raw(tenant_id)
    assert [(r.source, r.kind, r.batch_id) for r in raw] == [("import", "track", f"import-{summary.job_run_id}")] * 3
    first = raw[0].payload
    assert first["messageId"] == raw[0].message_id
    assert first["messageId"].startswith("import-")
    assert {k: v for k, v in first.items() if k != "messageId"} == {
        "type": "track",
        "event": "Signed Up",
        "userId": "u1",
        "timestamp": "2026-01-31T12:00:00Z",
        "properties": {"plan": "pro", "value": "49,90"},
        "context": {"campaign": {"source": "google", "name": "verao"}, "library": {"name": "pulso-import"}},
    }
    assert raw[1].payload["anonymousId"] == "anon-1"
    assert raw[1].payload["timestamp"] == "2026-01-31T13:00:00Z"  # 10:00 in São Paulo
    assert raw[2].message_id == "m-1"
    assert raw[2].payload["timestamp"] == "2026-02-01T03:00:00Z"


def test_events_reimport_adds_nothing(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", EVENTS)
    run("events", path)
    ids = [r.message_id for r in _raw(tenant_id)]
    assert counts(run("events", path)) == (6, 0, 0, 4, 2)
    assert [r.message_id for r in _raw(tenant_id)] == ids


def test_imported_events_refine_into_silver(tenant_id: int, tmp_path: Path) -> None:
    """The contract with the refinement job: what the import writes, silver.events reads."""
    from pulso.pipeline.silver.events import refine_events
    from pulso.store import tenant_session
    from pulso.store.models import Event

    run("events", write(tmp_path, "e.csv", EVENTS))
    with tenant_session(tenant_id) as session:
        refine_events(session)
    query = select(Event.name, Event.user_id, Event.anonymous_id, Event.utm_source, Event.occurred_at)
    refined = sorted((tuple(r) for r in fetch(tenant_id, query)), key=lambda r: (r[4], str(r[0])))
    assert [(r[0], r[1], r[2], r[3], r[4].isoformat()) for r in refined] == [
        ("Signed Up", "u1", None, "google", "2026-01-31T12:00:00+00:00"),
        ("Signed Up", None, "anon-1", None, "2026-01-31T13:00:00+00:00"),
        ("Purchased", "u1", None, None, "2026-02-01T03:00:00+00:00"),
    ]
