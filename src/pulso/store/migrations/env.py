"""Alembic environment: migrations run on the owner's connection (``PULSO_ADMIN_DATABASE_URL``)."""

from __future__ import annotations

from alembic import context

from pulso.config import get_settings
from pulso.store.engine import engine_for
from pulso.store.models import Base

config = context.config
url = config.attributes.get("url") or get_settings().resolved_admin_database_url
engine = engine_for(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
