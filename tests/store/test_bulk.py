"""pulso.store.bulk: COPY-staged upserts on PostgreSQL, executemany on SQLite, the same results on both."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, select

from pulso.config import Settings
from pulso.store import bulk, platform_session, tenant_session
from pulso.store.models import Agent, Contact, RawEvent, Tenant
from pulso.store.session import CrossTenantWriteError

AGENTS = cast(Table, Agent.__table__)
CONTACTS = cast(Table, Contact.__table__)


def _tenants() -> tuple[int, int]:
    with platform_session() as session:
        a, b = Tenant(slug="a", name="A"), Tenant(slug="b", name="B")
        session.add_all([a, b])
        session.flush()
        return a.id, b.id


def _agent(tenant_id: int, key: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "external_id": key, "name": name, "kind": "human", **extra}


def test_upsert_inserts_updates_and_returns_ids(any_settings: Settings) -> None:
    a, _ = _tenants()
    with tenant_session(a) as session:
        first = bulk.upsert(
            session,
            AGENTS,
            [_agent(a, "x", "Ana"), _agent(a, "y", "Bia")],
            ("tenant_id", "external_id"),
            returning=("id", "external_id"),
        )
        again = bulk.upsert(
            session,
            AGENTS,
            [_agent(a, "x", "Ana Lima"), _agent(a, "z", "Caio"), _agent(a, "z", "Caio Melo")],  # z twice: last wins
            ("tenant_id", "external_id"),
            returning=("id", "external_id"),
            insert_only=("created_at",),
        )
    ids = {key: row_id for row_id, key in first}
    assert {key: row_id for row_id, key in again}["x"] == ids["x"]  # updated in place, same id
    with tenant_session(a) as session:
        agents = {agent.external_id: agent for agent in session.scalars(select(Agent))}
    assert {k: v.name for k, v in agents.items()} == {"x": "Ana Lima", "y": "Bia", "z": "Caio Melo"}
    assert all(agent.is_active and agent.created_at is not None for agent in agents.values())  # Python defaults


def test_do_nothing_keeps_the_stored_row(any_settings: Settings) -> None:
    a, _ = _tenants()
    with tenant_session(a) as session:
        bulk.upsert(session, AGENTS, [_agent(a, "x", "Ana")], ("tenant_id", "external_id"))
        bulk.upsert(session, AGENTS, [_agent(a, "x", "Other")], ("tenant_id", "external_id"), do_nothing=True)
    with tenant_session(a) as session:
        assert session.scalars(select(Agent.name)).all() == ["Ana"]


def test_insert_with_ids_keeps_the_order_and_json_survives(any_settings: Settings) -> None:
    a, _ = _tenants()
    rows = [
        {"tenant_id": a, "name": f"P{n}", "lifecycle_stage": "lead", "attributes": {"n": n, "tags": ["é", None]}}
        for n in range(50)
    ]
    with tenant_session(a) as session:
        ids = bulk.insert_with_ids(session, CONTACTS, rows)
    with tenant_session(a) as session:
        stored = {c.id: c for c in session.scalars(select(Contact))}
    assert [stored[i].name for i in ids] == [f"P{n}" for n in range(50)]
    assert stored[ids[7]].attributes == {"n": 7, "tags": ["é", None]}


def test_rows_of_another_tenant_are_refused_before_writing(any_settings: Settings) -> None:
    a, b = _tenants()
    with pytest.raises(CrossTenantWriteError), tenant_session(a) as session:
        bulk.upsert(session, AGENTS, [_agent(a, "x", "Ana"), _agent(b, "y", "Intruder")], ("tenant_id", "external_id"))
    with platform_session() as session:
        assert session.scalars(select(Agent)).all() == []


def test_timestamps_stay_utc_through_the_stage(any_settings: Settings) -> None:
    a, _ = _tenants()
    moment = datetime(2026, 2, 2, 10, 0, 5, 123456, tzinfo=UTC)
    row = {"tenant_id": a, "source": "s", "kind": "k", "message_id": "m", "payload": {"x": 1}, "received_at": moment}
    with tenant_session(a) as session:
        bulk.upsert(session, cast(Table, RawEvent.__table__), [row], ("tenant_id", "source", "message_id"))
    with tenant_session(a) as session:
        stored = session.scalars(select(RawEvent)).one()
    assert stored.received_at == moment and stored.payload == {"x": 1}


def test_append_adds_new_rows_and_refuses_another_tenants(any_settings: Settings) -> None:
    a, b = _tenants()
    rows = [{"tenant_id": a, "name": f"P{n}", "attributes": {"n": n, "tags": ["é"]}} for n in range(30)]
    with tenant_session(a) as session:
        bulk.append(session, CONTACTS, rows)
        bulk.append(session, CONTACTS, rows[:5])  # appended again: new rows with new ids
    with tenant_session(a) as session:
        stored = session.scalars(select(Contact).order_by(Contact.id)).all()
    assert [c.name for c in stored] == [f"P{n}" for n in range(30)] + [f"P{n}" for n in range(5)]
    assert len({c.id for c in stored}) == 35 and stored[7].attributes == {"n": 7, "tags": ["é"]}
    assert all(c.lifecycle_stage == "visitor" and c.created_at is not None for c in stored)  # Python defaults
    with pytest.raises(CrossTenantWriteError), tenant_session(a) as session:
        bulk.append(session, CONTACTS, [{"tenant_id": b, "name": "Intruder"}])
