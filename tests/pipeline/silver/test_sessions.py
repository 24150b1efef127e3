"""Visits split at 30 minutes of inactivity, continued across runs, keyed deterministically."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from pulso.config import Settings, get_settings
from pulso.pipeline.silver.sessions import session_key
from pulso.store import tenant_session
from pulso.store.models import Event, WebSession
from tests.pipeline.silver.helpers import add_raw, at, make_tenant, page, refine, segment


def visits(tenant: int) -> list[tuple[datetime, datetime, int, str | None, str | None]]:
    with tenant_session(tenant) as session:
        rows = session.execute(
            select(
                WebSession.started_at,
                WebSession.ended_at,
                WebSession.event_count,
                WebSession.landing_url,
                WebSession.channel,
            ).order_by(WebSession.started_at)
        )
        return [(started, ended, n, url, channel) for started, ended, n, url, channel in rows]


def event_keys(tenant: int) -> dict[str, str | None]:
    with tenant_session(tenant) as session:
        rows = session.execute(select(Event.message_id, Event.session_key))
        return dict(rows.all())


def test_a_gap_longer_than_30_minutes_starts_a_new_visit(any_settings: Settings) -> None:
    tenant = make_tenant()
    landing = "https://acme.com.br/?utm_source=newsletter&utm_medium=email"
    add_raw(
        tenant,
        [
            page("m1", at(0), "a1", url=landing),
            page("m2", at(10), "a1"),
            page("m3", at(39), "a1"),  # 29 minutes after m2: same visit
            page("m4", at(70), "a1", referrer="https://www.google.com/"),  # 31 minutes later: a new visit
            page("m5", at(71), "a1"),
            page("b1", at(5), "b"),  # someone else
            segment("track", "s1", at(6), user="server-side", event="invoice_paid"),  # no anonymous id: no visit
        ],
    )
    stats = refine(tenant)
    assert stats.sessions_created == 3
    assert visits(tenant) == [
        (at(0), at(39), 3, landing, "email"),
        (at(5), at(5), 1, "https://acme.com.br/", "direct"),
        (at(70), at(71), 2, "https://acme.com.br/", "organic_search"),
    ]
    first, second = session_key(tenant, "a1", "m1"), session_key(tenant, "a1", "m4")
    assert event_keys(tenant) == {
        "m1": first,
        "m2": first,
        "m3": first,
        "m4": second,
        "m5": second,
        "b1": session_key(tenant, "b", "b1"),
        "s1": None,
    }


def test_a_visit_continues_across_runs(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, [page("m1", at(0), "a1"), page("m2", at(5), "a1")])
    refine(tenant)
    add_raw(tenant, [page("m3", at(15), "a1")])  # ten minutes after the last run's last event
    assert refine(tenant).sessions_created == 0
    add_raw(tenant, [page("m4", at(-10), "a1", url="https://acme.com.br/blog")])  # a late event just before it
    refine(tenant)
    assert visits(tenant) == [(at(-10), at(15), 4, "https://acme.com.br/blog", "direct")]
    add_raw(tenant, [page("m5", at(50), "a1")])  # 35 minutes after m3: a new visit
    assert refine(tenant).sessions_created == 1
    keys = event_keys(tenant)
    assert keys["m1"] == keys["m2"] == keys["m3"] == keys["m4"] == session_key(tenant, "a1", "m1")
    assert keys["m5"] == session_key(tenant, "a1", "m5")


def test_the_timeout_comes_from_settings(any_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSO_WEB_SESSION_TIMEOUT_MINUTES", "10")
    get_settings.cache_clear()
    tenant = make_tenant()
    add_raw(tenant, [page("m1", at(0), "a1"), page("m2", at(9), "a1"), page("m3", at(20), "a1")])
    assert refine(tenant).sessions_created == 2
    get_settings.cache_clear()


def test_a_late_event_that_closes_the_gap_joins_two_visits(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, [page("m1", at(0), "a1"), page("m2", at(50), "a1")])
    assert refine(tenant).sessions_created == 2
    add_raw(tenant, [page("m3", at(25), "a1")])  # 25 minutes after m1 and before m2: one visit after all
    refine(tenant)
    assert visits(tenant) == [(at(0), at(50), 3, "https://acme.com.br/", "direct")]
    assert set(event_keys(tenant).values()) == {session_key(tenant, "a1", "m1")}
