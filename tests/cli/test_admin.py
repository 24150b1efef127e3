"""The admin commands, run as a user would, against a real database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pulso.cli import app
from pulso.config import Settings
from pulso.security.passwords import verify_password
from pulso.store import platform_session
from pulso.store.models import User

runner = CliRunner()


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_tenants_create_and_list(any_settings: Settings) -> None:
    assert pulso("admin", "tenants", "create", "--slug", "gym", "--name", "Academia Forte")[0] == 0
    code, out = pulso("admin", "tenants", "create", "--slug", "shop", "--name", "Loja", "--timezone", "America/Manaus")
    assert code == 0
    assert "America/Manaus" in out
    code, out = pulso("admin", "tenants", "list")
    assert code == 0
    assert re.search(r"gym .*Academia Forte", out)
    assert re.search(r"shop .*America/Manaus", out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "Gym!", "--name", "x"], "slug: 'Gym!' must be"),
        (["--slug", "gym", "--name", " "], "name: must not be empty"),
        (["--slug", "gym", "--name", "x", "--timezone", "Mars/Olympus"], "unknown IANA time zone"),
    ],
)
def test_tenants_create_rejects_bad_input(sqlite_settings: Settings, args: list[str], message: str) -> None:
    code, out = pulso("admin", "tenants", "create", *args)
    assert code == 2
    assert message in out
    assert "gym" not in pulso("admin", "tenants", "list")[1]


def test_duplicate_tenant_is_refused(sqlite_settings: Settings) -> None:
    pulso("admin", "tenants", "create", "--slug", "gym", "--name", "Gym")
    code, out = pulso("admin", "tenants", "create", "--slug", "gym", "--name", "Other")
    assert code == 2
    assert "already exists" in out


def test_users_create_generates_a_working_password(any_settings: Settings) -> None:
    pulso("admin", "tenants", "create", "--slug", "gym", "--name", "Gym")
    code, out = pulso("admin", "users", "create", "--tenant", "gym", "--email", "Dono@Gym.com.br", "--role", "admin")
    assert code == 0, out
    password = re.search(r"password: (\S+)", out)
    assert password
    with platform_session() as session:
        user = session.scalars(select(User).where(User.email == "dono@gym.com.br")).one()
        assert user.role == "admin"
        assert user.tenant_id is not None
        assert verify_password(password.group(1), user.password_hash)
        assert not verify_password("wrong-password", user.password_hash)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "gym", "--email", "not-an-email", "--role", "admin"], "is not an e-mail address"),
        (["--tenant", "gym", "--email", "a@b.co", "--role", "boss"], "'boss' is not one of"),
        (["--email", "a@b.co", "--role", "admin"], "every other role needs --tenant"),
        (["--tenant", "gym", "--email", "a@b.co", "--role", "platform_admin"], "belong to no tenant"),
        (["--tenant", "nope", "--email", "a@b.co", "--role", "admin"], "no tenant with slug 'nope'"),
    ],
)
def test_users_create_rejects_bad_input(sqlite_settings: Settings, args: list[str], message: str) -> None:
    pulso("admin", "tenants", "create", "--slug", "gym", "--name", "Gym")
    code, out = pulso("admin", "users", "create", *args)
    assert code == 2
    assert message in out
    with platform_session() as session:
        assert session.scalars(select(User)).all() == []


def test_platform_admin_has_no_tenant(sqlite_settings: Settings) -> None:
    code, out = pulso("admin", "users", "create", "--email", "root@pulso.io", "--role", "platform_admin")
    assert code == 0, out
    with platform_session() as session:
        assert session.scalars(select(User.tenant_id)).one() is None


def test_pipeline_run_cli(sqlite_settings: Settings) -> None:
    pulso("admin", "tenants", "create", "--slug", "gym", "--name", "Gym")
    code, out = pulso("pipeline", "run", "--tenant", "gym")
    assert code == 0
    assert "gold.daily_metrics" in out
    assert "succeeded" in out
    code, out = pulso("pipeline", "runs")
    assert code == 0
    assert re.search(r"gym +│ gold.daily_metrics +│ succeeded", out)
    assert pulso("pipeline", "run", "--since", "yesterday")[0] == 2
