"""Writing the demo: resetting the demo tenants and users, bulk inserts, row counts and the progress bar.

Tenant rows are written only through :func:`pulso.store.tenant_session`, with ORM bulk inserts
(``session.execute(insert(Model), rows)``); every row carries its ``tenant_id`` explicitly. ``render_nulls``
writes None as NULL instead of dropping the column, so every row has the same column list and the driver gets
one executemany per batch rather than one per NULL pattern. Parents whose ids children need are inserted with
``RETURNING id`` in parameter order: the database assigns every id (no sequences to advance on PostgreSQL) and
the generator still knows which id belongs to which row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Engine, delete, insert

from pulso.store.models import Base, Source, Tenant, User
from pulso.store.session import PulsoSession, platform_session
from pulso.tenancy.service import create_tenant, create_user

DEMO_PASSWORD = "pulso-demo"  # noqa: S105 (documented demo credential, created only by `pulso demo seed`)
PLATFORM_ADMIN_EMAIL = "super@pulso.demo"


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    timezone: str
    owner_email: str


class ProgressSink(Protocol):
    def start(self, description: str, total: int) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class RowCounts(Counter[str]):
    """Rows written per table name."""

    def add(self, model: type[Base], rows: int) -> None:
        self[model.__tablename__] += rows


def insert_rows(session: PulsoSession, model: type[Base], rows: Sequence[dict[str, Any]], counts: RowCounts) -> None:
    if not rows:
        return
    session.execute(insert(model).execution_options(render_nulls=True), list(rows))
    counts.add(model, len(rows))


def insert_returning_ids(
    session: PulsoSession, model: type[Base], rows: Sequence[dict[str, Any]], counts: RowCounts
) -> list[int]:
    """Insert ``rows`` and give back their database ids in the same order."""
    if not rows:
        return []
    id_column = model.__table__.c.id  # type: ignore[attr-defined]
    statement = insert(model).returning(id_column, sort_by_parameter_order=True).execution_options(render_nulls=True)
    ids = [int(i) for i in session.scalars(statement, list(rows)).all()]
    counts.add(model, len(rows))
    return ids


def write_demo_source(
    session: PulsoSession, tenant_id: int, config: dict[str, Any], created_at: datetime, counts: RowCounts
) -> None:
    """Record where the tenant's data came from (size, seed, end_date), so checks can find the end date."""
    row = {
        "tenant_id": tenant_id,
        "kind": "demo",
        "name": "pulso demo seed",
        "config": config,
        "is_active": False,
        "created_at": created_at,
    }
    insert_rows(session, Source, [row], counts)


def reset_demo(engine: Engine, tenants: Sequence[DemoTenant]) -> None:
    """Delete the demo tenants (every tenant row goes with them: ON DELETE CASCADE) and the demo logins."""
    slugs = [t.slug for t in tenants]
    emails = [t.owner_email for t in tenants] + [PLATFORM_ADMIN_EMAIL]
    with platform_session(engine=engine) as session:
        session.execute(delete(User).where(User.email.in_(emails)))
        session.execute(delete(Tenant).where(Tenant.slug.in_(slugs)))


def create_demo_tenants(engine: Engine, tenants: Sequence[DemoTenant]) -> dict[str, int]:
    """Create the tenants, one admin login each and the platform admin; give back tenant ids by slug."""
    ids: dict[str, int] = {}
    with platform_session(engine=engine) as session:
        for spec in tenants:
            tenant = create_tenant(session, slug=spec.slug, name=spec.name, timezone=spec.timezone)
            create_user(
                session,
                email=spec.owner_email,
                role="admin",
                password=DEMO_PASSWORD,
                tenant=tenant,
                name=f"{spec.name} (demo)",
            )
            ids[spec.slug] = tenant.id
        create_user(
            session,
            email=PLATFORM_ADMIN_EMAIL,
            role="platform_admin",
            password=DEMO_PASSWORD,
            tenant=None,
            name="Pulso",
        )
    return ids


class _Silent:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


class _RichSink:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: Any = None

    def start(self, description: str, total: int) -> None:
        self._task = self._progress.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)


@contextmanager
def progress_sink(enabled: bool) -> Iterator[ProgressSink]:
    """A Rich progress bar (one task per tenant, counting days of history written), or nothing."""
    if not enabled:
        yield _Silent()
        return
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as progress:
        yield _RichSink(progress)
