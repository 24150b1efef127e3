"""Funnels on hand-built events, on SQLite and PostgreSQL; tenant U holds the very same rows.

Time zone America/Sao_Paulo (UTC-3); range 2025-03-01..07 = [03-01 03:00Z, 03-08 03:00Z). Steps A = signup,
B = verify, C = buy; other track events: noise, cancel. All times UTC on 2025-03-dd.

| person | channel | A (plan)                          | then                                                       |
|--------|---------|-----------------------------------|------------------------------------------------------------|
| p1     | google  | 02 12:00 (pro)                    | B 12:10, cancel 12:30, C 13:10                             |
| p2     | google  | 03 12:00 (basic)                  | noise 12:05, B 12:30, C 05 12:30                           |
| p3     | meta    | 04 12:00 (pro)                    | B 12:20                                                    |
| p4     | meta    | 05 12:00 (basic)                  | (a *page* event named signup on 06: not a track event)     |
| p5     | -       | 05 12:00 (pro)                    | B 10:00 (before A), C 13:00, B 14:00                       |
| p6     | google  | 01 12:00 (basic), 06 12:00 (pro)  | B 06 12:05, C 06 12:35                                     |
| p7     | anonymous (no contact, anonymous_id anon-7): A 02 15:00 (pro), B 15:01                   |
| p8     | -       | 02-27 12:00 and 08 04:00 (outside the range)  | B 01 12:00, C 01 13:00                         |

Sequential, 14-day window, uniques (best attempt per person):
p1 A->B 600 s ->C 3,600 s (convert 4,200); p2 1,800 / 172,800 (convert 174,600); p3 reaches B (1,200);
p4 only A; p5 A->B(14:00) 7,200, then no C after 14:00; p6's attempts: from 01 12:00, B 06 12:05 (432,300 s)
and C (1,800), convert 434,100; from 06 12:00, convert 2,100: the best is the earlier; p7 reaches B (60).
Counts 7 / 6 / 3.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pulso.config import Settings
from pulso.metrics.filters import Filters
from pulso.metrics.funnels import (
    Exclusion,
    FunnelParams,
    FunnelResult,
    FunnelStep,
    dropped,
    funnel,
)
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Event
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

RANGE = DateRange(date(2025, 3, 1), date(2025, 3, 7))
STEPS = (FunnelStep("signup"), FunnelStep("verify"), FunnelStep("buy"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def march(day: int, hour: int, minute: int = 0) -> datetime:
    return utc(2025, 3, day, hour, minute)


PEOPLE: dict[str, dict[str, Any]] = {
    "p1": {
        "channel": "google",
        "attributes": {"segment": "smb"},
        "lifecycle": (march(2, 11), march(2, 12), march(4, 12)),
        "events": [
            ("signup", march(2, 12), "pro"),
            ("verify", march(2, 12, 10), None),
            ("cancel", march(2, 12, 30), None),
            ("buy", march(2, 13, 10), None),
        ],
    },
    "p2": {
        "channel": "google",
        "attributes": {"segment": "enterprise"},
        "lifecycle": (march(3, 10), march(3, 11), None),
        "events": [
            ("signup", march(3, 12), "basic"),
            ("noise", march(3, 12, 5), None),
            ("verify", march(3, 12, 30), None),
            ("buy", march(5, 12, 30), None),
        ],
    },
    "p3": {
        "channel": "meta",
        "attributes": {"segment": "smb"},
        "lifecycle": (utc(2025, 2, 20, 12), march(4, 10), None),
        "events": [("signup", march(4, 12), "pro"), ("verify", march(4, 12, 20), None)],
    },
    "p4": {
        "channel": "meta",
        "lifecycle": (march(5, 11), None, None),
        "events": [("signup", march(5, 12), "basic")],
    },
    "p5": {
        "channel": None,
        "lifecycle": (march(5, 9), None, None),
        "events": [
            ("verify", march(5, 10), None),
            ("signup", march(5, 12), "pro"),
            ("buy", march(5, 13), None),
            ("verify", march(5, 14), None),
        ],
    },
    "p6": {
        "channel": "google",
        "events": [
            ("signup", march(1, 12), "basic"),
            ("signup", march(6, 12), "pro"),
            ("verify", march(6, 12, 5), None),
            ("buy", march(6, 12, 35), None),
        ],
    },
    "p8": {
        "channel": "google",
        "events": [
            ("signup", utc(2025, 2, 27, 12), "pro"),
            ("verify", march(1, 12), None),
            ("buy", march(1, 13), None),
            ("signup", march(8, 4), "pro"),
        ],
    },
}


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        ids: dict[str, int] = {}
        rows: list[tuple[str, int | None, str, datetime, str | None, str]] = []
        for key, person in PEOPLE.items():
            first_seen, lead, customer = person.get("lifecycle", (None, None, None))
            contact = Contact(
                name=f"Person {key}",
                email=f"{key}@example.com",
                first_touch_channel=person["channel"],
                attributes=person.get("attributes", {}),
                first_seen_at=first_seen,
                became_lead_at=lead,
                became_customer_at=customer,
            )
            session.add(contact)
            session.flush()
            ids[key] = contact.id
            rows += [(f"anon-{key}", contact.id, name, at, plan, "track") for name, at, plan in person["events"]]
        rows += [
            ("anon-7", None, "signup", march(2, 15), "pro", "track"),
            ("anon-7", None, "verify", march(2, 15, 1), None, "track"),
        ]
        rows.append(("anon-p4", ids["p4"], "signup", march(6, 12), "pro", "page"))
        for n, (anonymous_id, contact_id, name, at, plan, kind) in enumerate(rows):
            session.add(
                Event(
                    message_id=f"m{n}",
                    type=kind,
                    name=name,
                    contact_id=contact_id,
                    anonymous_id=anonymous_id,
                    properties={"plan": plan} if plan else {},
                    occurred_at=at,
                    received_at=at,
                )
            )
        return ids


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def run(tenant_id: int, steps: tuple[FunnelStep, ...] = STEPS, **options: Any) -> FunnelResult:
    with tenant_session(tenant_id) as session:
        return funnel(session, FunnelParams(RANGE, TZ, steps, **options))


def counts(result: Any) -> list[int]:
    series = result.total if isinstance(result, FunnelResult) else result
    return [step.count for step in series.steps]


def test_sequential_uniques_counts_conversion_and_times(tenant: tuple[int, dict[str, int]]) -> None:
    result = run(tenant[0])
    assert counts(result) == [7, 6, 3]  # p8 entered outside the range; p4's page event is not a track event
    first, second, third = result.total.steps
    assert (first.conversion_from_first, first.conversion_from_previous, first.dropped) == (1.0, None, 0)
    assert (second.conversion_from_previous, second.dropped, second.drop_off_rate) == (6 / 7, 1, 1 / 7)
    assert (third.conversion_from_first, third.conversion_from_previous, third.dropped) == (3 / 7, 0.5, 3)
    # A -> B: 60, 600, 1,200, 1,800, 7,200, 432,300 -> median (1,200 + 1,800) / 2
    assert second.median_seconds_from_previous == 1500.0
    # B -> C: 1,800, 3,600, 172,800 -> 3,600
    assert third.median_seconds_from_previous == 3600.0
    timing = result.total.time_to_convert
    # 4,200, 174,600, 434,100: median 174,600; P90 at rank 1 + 0.9 * 2 = 2.8: 174,600 + 0.8 * 259,500
    assert (timing.count, timing.median_seconds, timing.p90_seconds) == (3, 174600.0, 382200.0)
    edges = result.histogram_edges_seconds
    assert edges == (0, 60, 300, 900, 3600, 14400, 86400, 259200, 604800, 1209600)
    filled = {(b.start_seconds, b.end_seconds): b.count for b in timing.histogram if b.count}
    assert filled == {(3600, 14400): 1, (86400, 259200): 1, (259200, 604800): 1}
    assert result.start_utc == utc(2025, 3, 1, 3) and result.end_utc == utc(2025, 3, 8, 3)
    assert "anonymous_id" in result.definitions["person"]


def test_totals_count_every_entry(tenant: tuple[int, dict[str, int]]) -> None:
    # p6's second attempt (06 12:00 -> 12:05 -> 12:35) counts too: 8 / 7 / 4
    result = run(tenant[0], count="totals")
    assert counts(result) == [8, 7, 4]
    # 2,100, 4,200, 174,600, 434,100 -> (4,200 + 174,600) / 2
    assert result.total.time_to_convert.median_seconds == 89400.0


def test_strict_order_needs_the_very_next_track_event(tenant: tuple[int, dict[str, int]]) -> None:
    # p1: B then cancel (stops at B); p2: noise after A; p5: C after A; p6: the 01 attempt is followed by another A,
    # the 06 attempt converts (its best); p3 and p7 reach B. 7 / 4 (p1, p3, p6, p7) / 1 (p6)
    result = run(tenant[0], order="strict")
    assert counts(result) == [7, 4, 1]
    assert result.total.time_to_convert.median_seconds == 2100.0


def test_any_order_after_step_one(tenant: tuple[int, dict[str, int]]) -> None:
    # p5 now converts: C 13:00 and B 14:00 after A; B is reached at 14:00 (7,200 s), C with it (0 s)
    result = run(tenant[0], order="any")
    assert counts(result) == [7, 6, 4]
    # convert: 4,200, 7,200, 174,600, 434,100 -> (7,200 + 174,600) / 2
    assert result.total.time_to_convert.median_seconds == 90900.0
    # B -> C: 0 (p5), 1,800 (p6), 3,600 (p1), 172,800 (p2) -> (1,800 + 3,600) / 2
    assert result.total.steps[2].median_seconds_from_previous == 2700.0


def test_whole_conversion_window(tenant: tuple[int, dict[str, int]]) -> None:
    # one day: p2's C (2 days after A) is too late; p6's 01 attempt stops at A, its 06 attempt converts
    result = run(tenant[0], conversion_window=timedelta(days=1))
    assert counts(result) == [7, 6, 2]
    assert result.histogram_edges_seconds == (0, 60, 300, 900, 3600, 14400, 86400)
    # 2,100 and 4,200: the bins [900, 3600) and [3600, 14400)
    assert [b.count for b in result.total.time_to_convert.histogram] == [0, 0, 0, 1, 1, 0]


def test_per_step_window(tenant: tuple[int, dict[str, int]]) -> None:
    # B within an hour of A: p5's B comes 2 h later (stops at A); p6's best attempt is now the 06 one
    result = run(tenant[0], step_windows=(timedelta(hours=1), None))
    assert counts(result) == [7, 5, 3]
    assert result.total.time_to_convert.median_seconds == 4200.0  # 2,100, 4,200, 174,600


def test_exclusions_cut_the_attempt_back(tenant: tuple[int, dict[str, int]]) -> None:
    # p1 cancels at 12:30, between B (12:10) and C (13:10)
    assert counts(run(tenant[0], exclusions=(Exclusion("cancel", 2, 3),))) == [7, 6, 2]
    assert counts(run(tenant[0], exclusions=(Exclusion("cancel", 1, 3),))) == [7, 5, 2]  # back to A
    assert counts(run(tenant[0], exclusions=(Exclusion("cancel", 1, 2),))) == [7, 6, 3]  # after B: no effect


def test_step_properties(tenant: tuple[int, dict[str, int]]) -> None:
    # A[plan=pro]: p1, p3, p5, p6 (06 attempt), p7 -> p1 and p6 convert
    steps = (FunnelStep("signup", (("plan", "pro"),)), *STEPS[1:])
    result = run(tenant[0], steps)
    assert counts(result) == [5, 5, 2]
    assert result.total.steps[0].name == "signup[plan=pro]"


def test_breakdown_by_first_touch_channel_with_other(tenant: tuple[int, dict[str, int]]) -> None:
    result = run(tenant[0], breakdown="first_touch_channel")
    assert counts(result) == [7, 6, 3]
    # google p1, p2, p6; (none) p5 and the anonymous p7; meta p3, p4 (ties sorted by label)
    assert [(s.label, counts(s)) for s in result.breakdown] == [
        ("google", [3, 3, 3]),
        ("(none)", [2, 2, 0]),
        ("meta", [2, 1, 0]),
    ]
    google = result.breakdown[0]
    assert google.time_to_convert.median_seconds == 174600.0  # 4,200, 174,600, 434,100
    limited = run(tenant[0], breakdown="first_touch_channel", breakdown_limit=1)
    assert [(s.label, s.other, counts(s)) for s in limited.breakdown] == [
        ("google", False, [3, 3, 3]),
        ("(other)", True, [4, 3, 0]),
    ]


def test_breakdown_by_event_property_and_contact_attribute(tenant: tuple[int, dict[str, int]]) -> None:
    # the plan of each person's best attempt: pro p1 (C), p3, p5, p7 (B); basic p2 (C), p4 (A), p6's 01 attempt (C)
    by_plan = run(tenant[0], breakdown="property:plan")
    assert {s.label: counts(s) for s in by_plan.breakdown} == {"pro": [4, 4, 1], "basic": [3, 2, 2]}
    by_segment = run(tenant[0], breakdown="attribute:segment")
    assert [(s.label, counts(s)) for s in by_segment.breakdown] == [
        ("(none)", [4, 3, 1]),  # p4, p5, p6, p7
        ("smb", [2, 2, 1]),  # p1, p3
        ("enterprise", [1, 1, 1]),  # p2
    ]


def test_contact_filters(tenant: tuple[int, dict[str, int]]) -> None:
    # first touch google: p1, p2, p6 (the anonymous p7 has no contact to pass the filter)
    assert counts(run(tenant[0], filters=Filters(channels=("google",)))) == [3, 3, 3]
    assert counts(run(tenant[0], filters=Filters(campaigns=("nothing",)))) == [0, 0, 0]


def test_dropped_people(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        params = FunnelParams(RANGE, TZ, STEPS)
        at_b = dropped(session, params, 2).people
        at_a = dropped(session, params, 1).people
        one = dropped(session, params, 2, limit=1).people
    # reached B, not C: p5 (05 14:00), p3 (04 12:20), p7 (02 15:01, anonymous), the newest first
    assert [(p.contact_id, p.anonymous_id, p.reached_at) for p in at_b] == [
        (ids["p5"], None, march(5, 14)),
        (ids["p3"], None, march(4, 12, 20)),
        (None, "anon-7", march(2, 15, 1)),
    ]
    assert (at_b[0].name, at_b[0].email) == ("Person p5", "p5@example.com")
    assert [(p.contact_id, p.reached_at) for p in at_a] == [(ids["p4"], march(5, 12))]
    assert len(one) == 1


def test_lifecycle_funnel(tenant: tuple[int, dict[str, int]]) -> None:
    # first seen in the range: p1, p2, p4, p5 (p3 on 02-20); leads p1, p2 (1 h each); customer p1, 2 days 1 h later
    steps = (FunnelStep("first_seen"), FunnelStep("lead"), FunnelStep("customer"))
    result = run(tenant[0], steps, source="lifecycle")
    assert counts(result) == [4, 2, 1]
    assert result.total.steps[1].median_seconds_from_previous == 3600.0
    assert result.total.time_to_convert.median_seconds == 176400.0
    # leads in the range: p1, p2, p3 (04 10:00); p1 became a customer 2 days later
    leads = run(tenant[0], steps[1:], source="lifecycle", breakdown="first_touch_channel")
    assert counts(leads) == [3, 1] and leads.total.time_to_convert.median_seconds == 172800.0
    assert {s.label: counts(s) for s in leads.breakdown} == {"google": [2, 1], "meta": [1, 0]}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"steps": STEPS[:1]}, "steps: a funnel has 2 to 10 steps, got 1"),
        ({"order": "random"}, "order: must be one of sequential, strict, any, got 'random'"),
        ({"count": "people"}, "count: must be one of uniques, totals, got 'people'"),
        ({"conversion_window": timedelta(seconds=5)}, "window: from 1 minute to 365 days"),
        ({"step_windows": (None,)}, "step_window: one per step after the first (2), got 1"),
        ({"exclusions": (Exclusion("cancel", 2, 2),)}, "exclude: steps must satisfy 1 <= from < to <= 3, got 2:2"),
        ({"breakdown": "colour"}, "breakdown: must be one of"),
        ({"source": "lifecycle"}, "steps: with source=lifecycle, steps are first_seen, lead, customer"),
        ({"order": "any", "steps": (STEPS[0], STEPS[0])}, "steps: order=any needs distinct steps"),
    ],
)
def test_bad_parameters_name_themselves(options: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"steps": STEPS, **options}
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        FunnelParams(RANGE, TZ, **arguments)
