"""Settings: defaults, .env files, the stored session secret and the production guard."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pulso.cli import app
from pulso.config import Settings
from tests.conftest import configure


def test_defaults_use_sqlite_in_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = configure(monkeypatch, data_dir=str(tmp_path / "d"))
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'd' / 'pulso.db').resolve()}"
    assert settings.resolved_admin_database_url == settings.resolved_database_url
    assert settings.env == "development"


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    configure(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PULSO_PORT=9123\nPULSO_DATABASE_URL=sqlite:////tmp/elsewhere.db\n")
    settings = Settings()
    assert settings.port == 9123
    assert settings.resolved_database_url == "sqlite:////tmp/elsewhere.db"


def test_secret_generated_once_and_kept_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = configure(monkeypatch, data_dir=str(tmp_path))
    first = settings.session_secret()
    assert len(first) >= 32
    assert settings.session_secret() == first
    assert Settings(data_dir=tmp_path).session_secret() == first, "a restart keeps the same secret"
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    ("secret", "problem"),
    [(None, "not set"), ("change-me", "default"), ("short", "shorter"), ("x" * 40, None)],
)
def test_production_secret_rules(monkeypatch: pytest.MonkeyPatch, secret: str | None, problem: str | None) -> None:
    env = {"env": "production"} | ({"secret_key": secret} if secret else {})
    problems = configure(monkeypatch, **env).production_problems()
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problem in problems[0]


def test_serve_refuses_production_without_secret(sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, env="production", data_dir=str(sqlite_settings.data_dir))
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "refusing to serve in production" in result.output
    assert "PULSO_SECRET_KEY is not set" in result.output
    assert not (sqlite_settings.data_dir / "secret_key").exists(), "production must not fall back to a generated secret"
