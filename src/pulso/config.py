"""One typed Settings object for the whole application (environment prefix ``PULSO_``)."""

from __future__ import annotations

import secrets
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that must never sign sessions in production: placeholders people copy from docs.
KNOWN_DEFAULT_SECRETS = frozenset({"", "change-me", "changeme", "secret", "pulso", "dev", "development"})
MIN_SECRET_LENGTH = 32
SECRET_FILE_NAME = "secret_key"  # noqa: S105 (a file name, not a secret)


class Settings(BaseSettings):
    """Configuration read from ``PULSO_*`` environment variables and an optional ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="PULSO_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None,
        description="Connection the application uses; on PostgreSQL a role that neither owns tables nor bypasses RLS.",
    )
    admin_database_url: str | None = Field(
        default=None,
        description="Connection for migrations and platform work (table owner). Defaults to database_url.",
    )
    app_db_role: str = "pulso_app"
    secret_key: SecretStr | None = None
    session_max_age_seconds: int = 12 * 3600
    host: str = "127.0.0.1"
    port: int = 8000
    default_timezone: str = "America/Sao_Paulo"

    # collection (the /v1 Segment-compatible API)
    collector_max_event_bytes: int = 32 * 1024
    collector_max_batch_bytes: int = 500 * 1024
    collector_rate_limit_per_second: float = 2000.0  # events per write key, sustained
    collector_rate_limit_burst: int = 20000  # events a key may send at once before the limit applies
    collector_cors_origins: str = "*"  # comma-separated origins allowed to post from browsers
    web_session_timeout_minutes: int = 30  # inactivity that ends a visit

    # the Chatwoot connector (pulso.connectors.chatwoot.sync)
    chatwoot_sync_every_minutes: int = 30
    chatwoot_overlap_minutes: int = 10  # incremental reads start this long before the watermark
    chatwoot_page_size: int = 5000  # rows per page: one transaction, one bronze row, one watermark step
    chatwoot_writers: int = 2  # full reads into PostgreSQL: pages of conversations and messages written at once
    chatwoot_sweep_every_hours: float = 6.0  # reconciliation: hard deletes and changes that keep updated_at
    chatwoot_sweep_window_days: int = 7

    # models (pulso.ml): every saved model version is also logged to MLflow when this is set (pulso.ml.tracking)
    mlflow_tracking_uri: str | None = None

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pulso.db').resolve()}"

    @cached_property
    def resolved_admin_database_url(self) -> str:
        return self.admin_database_url or self.resolved_database_url

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def session_secret(self) -> str:
        """The session-signing secret: configured, or generated once and stored in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.ensure_data_dir() / SECRET_FILE_NAME
        if path.exists():
            return path.read_text().strip()
        value = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(value + "\n")
        return value

    def production_problems(self) -> list[str]:
        """What makes this configuration unsafe to serve in production (empty when fine)."""
        problems: list[str] = []
        if self.env != "production":
            return problems
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if not secret:
            problems.append("PULSO_SECRET_KEY is not set; a production server needs an explicit secret.")
        elif secret.lower() in KNOWN_DEFAULT_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"PULSO_SECRET_KEY is a default or shorter than {MIN_SECRET_LENGTH} characters; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
