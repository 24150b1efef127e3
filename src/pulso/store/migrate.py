"""Running migrations from Python (``pulso db upgrade``) and checking the application role."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from pulso.config import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


def upgrade(settings: Settings | None = None, revision: str = "head") -> None:
    settings = settings or get_settings()
    command.upgrade(alembic_config(settings.resolved_admin_database_url), revision)


def downgrade(settings: Settings | None = None, revision: str = "-1") -> None:
    settings = settings or get_settings()
    command.downgrade(alembic_config(settings.resolved_admin_database_url), revision)


def check(settings: Settings | None = None) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    settings = settings or get_settings()
    command.check(alembic_config(settings.resolved_admin_database_url))
