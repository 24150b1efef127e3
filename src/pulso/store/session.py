"""The one way to reach tenant data: ``with tenant_session(tenant_id) as session:``.

Two walls keep tenants apart:

1. the application: inside a tenant session every ORM query on a tenant table gets ``tenant_id = :tenant``
   added (``with_loader_criteria``), and new or changed rows of another tenant are refused;
2. PostgreSQL row-level security: each transaction sets ``app.tenant_id`` with ``set_config(..., true)``, so
   even raw SQL that forgets the filter sees only the tenant's rows.

Platform (super-admin) work goes through :func:`platform_session`, which is explicit and unscoped.
The session commits when the block ends without error and rolls back otherwise; services never commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from pulso.store.engine import app_engine
from pulso.store.models.base import TenantScoped

TENANT_KEY = "tenant_id"
PLATFORM_KEY = "platform"


class CrossTenantWriteError(PermissionError):
    """A write that would put or move a row into another tenant."""


class PulsoSession(Session):
    """A Session that knows which tenant it serves (``info['tenant_id']``) or that it is the platform's."""

    @property
    def tenant_id(self) -> int:
        tenant_id = self.info.get(TENANT_KEY)
        if tenant_id is None:
            raise RuntimeError("this is not a tenant session")
        return int(tenant_id)


@contextmanager
def tenant_session(tenant_id: int, *, engine: Engine | None = None) -> Iterator[PulsoSession]:
    """A unit of work that can only see and write ``tenant_id``'s rows."""
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool) or tenant_id <= 0:
        raise ValueError(f"tenant_id must be a positive integer, got {tenant_id!r}")
    with _unit_of_work(engine, {TENANT_KEY: tenant_id}) as session:
        yield session


@contextmanager
def platform_session(*, engine: Engine | None = None) -> Iterator[PulsoSession]:
    """A unit of work for platform administration: sees every tenant. Use only for super-admin work."""
    with _unit_of_work(engine, {PLATFORM_KEY: True}) as session:
        yield session


@contextmanager
def _unit_of_work(engine: Engine | None, info: dict[str, Any]) -> Iterator[PulsoSession]:
    session = PulsoSession(bind=engine or app_engine(), info=info, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@event.listens_for(PulsoSession, "after_begin")
def _set_transaction_scope(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    """Every new transaction tells PostgreSQL whose rows it may touch; the setting dies with the transaction."""
    if connection.dialect.name != "postgresql":
        return
    if TENANT_KEY in session.info:
        connection.execute(
            text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(session.info[TENANT_KEY])}
        )
    elif session.info.get(PLATFORM_KEY):
        connection.execute(text("SELECT set_config('app.platform', 'on', true)"))


@event.listens_for(PulsoSession, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
        )
    if state.is_insert or state.is_update:
        _check_parameters(state.parameters, tenant_id)
        _check_parameters(_inline_values(state), tenant_id)


def _inline_values(state: ORMExecuteState) -> list[Mapping[str, Any]]:
    """Rows written inline with ``.values(...)``, keyed by column name (empty for executemany-style calls)."""
    statement = state.statement
    rows: list[Mapping[str, Any]] = []
    single = getattr(statement, "_values", None) or {}
    multi = getattr(statement, "_multi_values", None) or ()
    for values in [single, *(row for batch in multi for row in batch)]:
        rows.append({str(getattr(k, "key", k)): getattr(v, "value", v) for k, v in dict(values).items()})
    return rows


def _check_parameters(parameters: Any, tenant_id: int) -> None:
    rows: Sequence[Any] = parameters if isinstance(parameters, list | tuple) else [parameters]
    for row in rows:
        if isinstance(row, Mapping) and TENANT_KEY in row and row[TENANT_KEY] != tenant_id:
            raise CrossTenantWriteError(f"row for tenant {row[TENANT_KEY]!r} written from tenant {tenant_id}'s session")


@event.listens_for(PulsoSession, "before_flush")
def _stamp_and_check_tenant(session: Session, _ctx: Any, _instances: Any) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        return
    for obj in session.new:
        if isinstance(obj, TenantScoped) and obj.tenant_id is None:
            obj.tenant_id = tenant_id
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, TenantScoped) and obj.tenant_id != tenant_id:
            name = type(obj).__name__
            raise CrossTenantWriteError(f"{name} of tenant {obj.tenant_id} written from tenant {tenant_id}'s session")
