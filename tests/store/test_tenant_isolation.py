"""Tenants are kept apart, for every tenant table, by both walls.

PostgreSQL tests use raw SQL with no tenant filter, so only row-level security can keep them honest: switch RLS
off on a table and they fail. SQLite tests use ORM queries with no tenant filter, which the tenant session scopes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from pulso.config import Settings
from pulso.store import CrossTenantWriteError, platform_session, tenant_session
from pulso.store.engine import admin_engine, app_engine, role_problems
from pulso.store.models import Base, Tenant, tenant_tables
from pulso.store.rls import PLATFORM_PREDICATE, TENANT_PREDICATE
from pulso.store.types import utcnow
from tests.store.rows import row_for_table

TENANT_TABLES = [t.name for t in tenant_tables()]
MAPPERS = {m.local_table.name: m.class_ for m in Base.registry.mappers}


def test_every_tenant_table_is_mapped() -> None:
    assert set(TENANT_TABLES) <= set(MAPPERS), "a tenant table without a mapped class escapes app-level scoping"
    assert len(TENANT_TABLES) >= 20


def _two_tenants() -> tuple[int, int]:
    with platform_session() as session:
        a = Tenant(slug="tenant-a", name="A")
        b = Tenant(slug="tenant-b", name="B")
        session.add_all([a, b])
        session.flush()
        return a.id, b.id


def _seed_row(table_name: str, tenant_id: int) -> None:
    """One row of ``table_name`` (and the parents it needs) for ``tenant_id``, written in its own session."""
    with tenant_session(tenant_id) as session:
        row_for_table(session, table_name, tenant_id)


# ---------------------------------------------------------------- PostgreSQL: the database wall


@pytest.mark.postgres
def test_application_role_cannot_bypass_rls(pg_settings: Settings) -> None:
    assert role_problems(app_engine()) == []
    assert role_problems(admin_engine()), "the owner connection is expected to be privileged"


@pytest.mark.postgres
@pytest.mark.parametrize("table_name", TENANT_TABLES)
def test_rls_enabled_forced_with_policy(pg_settings: Settings, table_name: str) -> None:
    with admin_engine().connect() as conn:
        enabled, forced = conn.execute(
            text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = :t"), {"t": table_name}
        ).one()
        policies = dict(
            conn.execute(text("SELECT policyname, qual FROM pg_policies WHERE tablename = :t"), {"t": table_name}).all()
        )
    assert (enabled, forced) == (True, True)
    assert set(policies) == {"tenant_isolation", "platform_access"}
    assert "app.tenant_id" in policies["tenant_isolation"]
    assert "app.platform" in policies["platform_access"]
    assert "tenant_id" in TENANT_PREDICATE and "app.platform" in PLATFORM_PREDICATE


@pytest.mark.postgres
@pytest.mark.parametrize("table_name", TENANT_TABLES)
def test_pg_unfiltered_query_sees_only_own_rows(pg_settings: Settings, table_name: str) -> None:
    a, b = _two_tenants()
    _seed_row(table_name, a)
    _seed_row(table_name, b)
    with tenant_session(a) as session:
        seen = session.execute(text(f"SELECT DISTINCT tenant_id FROM {table_name}")).scalars().all()
    assert seen == [a]
    with platform_session() as session:
        everyone = set(session.execute(text(f"SELECT DISTINCT tenant_id FROM {table_name}")).scalars())
    assert {a, b} <= everyone


@pytest.mark.postgres
@pytest.mark.parametrize("table_name", TENANT_TABLES)
def test_pg_no_tenant_set_sees_zero_rows(pg_settings: Settings, table_name: str) -> None:
    a, _ = _two_tenants()
    _seed_row(table_name, a)
    with app_engine().connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table_name}")).scalar_one() == 0


@pytest.mark.postgres
@pytest.mark.parametrize("table_name", TENANT_TABLES)
def test_pg_writing_other_tenants_row_is_refused(pg_settings: Settings, table_name: str) -> None:
    a, b = _two_tenants()
    _seed_row(table_name, a)
    _seed_row(table_name, b)
    with platform_session() as session:
        row = _row_as_dict(session, table_name, b)
    columns = ", ".join(row)
    values = ", ".join(f":{k}" for k in row)
    # raw SQL throughout: the application wall is not involved, only the database's
    with pytest.raises(DBAPIError, match="row-level security"), tenant_session(a) as session:
        session.execute(text(f"INSERT INTO {table_name} ({columns}) VALUES ({values})"), row)
    with pytest.raises(DBAPIError, match="row-level security"), tenant_session(a) as session:
        session.execute(text(f"UPDATE {table_name} SET tenant_id = :b"), {"b": b})
    with tenant_session(a) as session:
        session.execute(text(f"DELETE FROM {table_name}"))
    with platform_session() as session:
        counts = dict(session.execute(text(f"SELECT tenant_id, count(*) FROM {table_name} GROUP BY tenant_id")).all())
    assert counts.get(b, 0) >= 1, "tenant A deleted tenant B's rows"


def _row_as_dict(session: Any, table_name: str, tenant_id: int) -> dict[str, Any]:
    """A copy of one of the tenant's rows without its primary key and unique values, ready to insert again."""
    table = Base.metadata.tables[table_name]
    row = session.execute(select(table).where(table.c.tenant_id == tenant_id).limit(1)).mappings().one()
    data = {k: v for k, v in row.items() if not table.c[k].primary_key}
    for column in table.c:
        if isinstance(column.type, sa.String) and column.name in data and data[column.name] is not None:
            data[column.name] = f"{data[column.name]}-copy"[: column.type.length or None]
    for column in table.c:
        if isinstance(column.type, sa.JSON) and column.name in data:
            data[column.name] = json.dumps(data[column.name])
    return data


# ---------------------------------------------------------------- both databases: the application wall


@pytest.mark.parametrize("table_name", TENANT_TABLES)
def test_orm_unfiltered_query_sees_only_own_rows(any_settings: Settings, table_name: str) -> None:
    a, b = _two_tenants()
    _seed_row(table_name, a)
    _seed_row(table_name, b)
    model = MAPPERS[table_name]
    with tenant_session(a) as session:
        tenants_seen = set(session.scalars(select(model.tenant_id)))
        objects = session.scalars(select(model)).all()
    assert tenants_seen == {a}
    assert objects and {o.tenant_id for o in objects} == {a}


@pytest.mark.parametrize("table_name", TENANT_TABLES)
def test_orm_write_for_other_tenant_is_refused(any_settings: Settings, table_name: str) -> None:
    a, b = _two_tenants()
    _seed_row(table_name, b)
    model = MAPPERS[table_name]
    with platform_session() as session:
        row = _row_as_dict(session, table_name, b)
    row = {k: v for k, v in row.items() if not isinstance(Base.metadata.tables[table_name].c[k].type, sa.JSON)}
    with pytest.raises(CrossTenantWriteError), tenant_session(a) as session:
        session.execute(insert(model), [row])
    with pytest.raises(CrossTenantWriteError), tenant_session(a) as session:
        session.execute(insert(model).values(**row))
    with tenant_session(a) as session:
        # B's rows are invisible, so an unfiltered bulk update or delete touches none of them
        session.execute(sa.update(model).values(tenant_id=a).execution_options(synchronize_session=False))
        session.execute(sa.delete(model).execution_options(synchronize_session=False))
    with platform_session() as session:
        still_b = session.scalar(select(sa.func.count()).select_from(model).where(model.tenant_id == b))
    assert still_b == 1


def test_orm_object_of_other_tenant_is_refused(sqlite_settings: Settings) -> None:
    from pulso.store.models import Contact

    a, b = _two_tenants()
    with pytest.raises(CrossTenantWriteError), tenant_session(a) as session:
        session.add(Contact(tenant_id=b, name="intruder"))
    with tenant_session(a) as session:
        session.add(Contact(name="stamped"))
    with pytest.raises(CrossTenantWriteError), tenant_session(a) as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.tenant_id == a
        contact.tenant_id = b
    with platform_session() as session:
        assert session.scalars(select(Contact.tenant_id)).all() == [a]


def test_tenant_session_rejects_bad_ids(sqlite_settings: Settings) -> None:
    for bad in (0, -1, "1", None, True):
        with pytest.raises(ValueError, match="positive integer"), tenant_session(bad):  # type: ignore[arg-type]
            pass


def test_session_rolls_back_on_error(sqlite_settings: Settings) -> None:
    with pytest.raises(RuntimeError), platform_session() as session:
        session.add(Tenant(slug="ghost", name="Ghost", created_at=utcnow()))
        session.flush()
        raise RuntimeError("boom")
    with platform_session() as session:
        assert session.scalar(select(Tenant).where(Tenant.slug == "ghost")) is None


@pytest.mark.parametrize(("child", "parent"), [("messages", "conversations"), ("contact_identities", "contacts")])
def test_a_child_row_cannot_point_at_another_tenants_parent(any_settings: Settings, child: str, parent: str) -> None:
    """Foreign-key checks bypass row-level security; the composite (tenant_id, parent_id) keys make the database
    itself refuse a message or identity of tenant A that names a conversation or contact of tenant B."""
    a, b = _two_tenants()
    with tenant_session(b) as session:
        b_parent = row_for_table(session, parent, b)
    with tenant_session(a) as session:
        a_child = row_for_table(session, child, a)  # with a parent of A's own: accepted
    column = "conversation_id" if parent == "conversations" else "contact_id"
    table = Base.metadata.tables[child]
    with pytest.raises(sa.exc.IntegrityError), tenant_session(a) as session:
        session.execute(sa.update(table).where(table.c.id == a_child).values({column: b_parent}))
    with platform_session() as session:  # deleting B's parent leaves A's child alone; deleting A cascades
        session.execute(sa.delete(Base.metadata.tables[parent]).where(Base.metadata.tables[parent].c.id == b_parent))
        assert session.scalar(select(sa.func.count()).select_from(table).where(table.c.id == a_child)) == 1
        session.execute(sa.delete(Tenant).where(Tenant.id == a))
        assert session.scalar(select(sa.func.count()).select_from(table).where(table.c.id == a_child)) == 0
