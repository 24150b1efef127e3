"""Logging in and out through the real pages: cookies, CSRF, expiry, audit log."""

from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pydantic import SecretStr
from sqlalchemy import select

from pulso.security.sessions import SESSION_COOKIE, SESSION_SALT, SessionCodec
from pulso.store.models import AuditLog, User
from pulso.store.session import platform_session

from .conftest import LoginFn, Seeded, csrf_from

GENERIC_ERROR = "E-mail ou senha incorretos."


def audit_actions(email: str) -> list[str]:
    with platform_session() as session:
        return list(session.scalars(select(AuditLog.action).where(AuditLog.actor == email).order_by(AuditLog.id)))


def test_login_sets_a_hardened_session_cookie_and_goes_to_the_tenant(
    client: TestClient, seeded: Seeded, login: LoginFn
) -> None:
    response = login(client, seeded.alfa_email, seeded.password)

    assert response.status_code == 303
    assert response.headers["location"] == "/t/clinica-alfa/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}="))
    attributes = cookie.lower()
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes  # env=test; production adds it (see test below)
    assert f"max-age={seeded.settings.session_max_age_seconds}" in attributes
    assert client.get("/t/clinica-alfa/").status_code == 200
    assert audit_actions(seeded.alfa_email) == ["login"]
    with platform_session() as session:
        user = session.scalars(select(User).where(User.email == seeded.alfa_email)).one()
        assert user.last_login_at is not None


def test_production_cookies_are_secure(seeded: Seeded, login: LoginFn) -> None:
    from pulso.api.app import create_app

    settings = seeded.settings.model_copy(update={"env": "production", "secret_key": SecretStr("x" * 48)})
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        response = login(client, seeded.alfa_email, seeded.password)
    assert response.status_code == 303
    cookies = [c.lower() for c in response.headers.get_list("set-cookie")]
    assert any(c.startswith(SESSION_COOKIE) and "; secure" in c for c in cookies)


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: TestClient, seeded: Seeded, login: LoginFn
) -> None:
    wrong_password = login(client, seeded.alfa_email, "not-the-password")
    unknown_email = login(client, "nobody@alfa.test", seeded.password)

    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert GENERIC_ERROR in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert audit_actions(seeded.alfa_email) == ["login_failed"]
    assert audit_actions("nobody@alfa.test") == ["login_failed"]
    assert client.get("/t/clinica-alfa/", follow_redirects=False).status_code == 303


def test_inactive_user_is_refused_with_the_generic_message(client: TestClient, seeded: Seeded, login: LoginFn) -> None:
    response = login(client, seeded.inactive_email, seeded.password)
    assert response.status_code == 401
    assert GENERIC_ERROR in response.text
    assert audit_actions(seeded.inactive_email) == ["login_failed"]


def test_login_without_csrf_token_is_forbidden(client: TestClient, seeded: Seeded) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": seeded.alfa_email, "password": seeded.password})
    assert response.status_code == 403
    assert "O formulário expirou ou veio de outro site" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert audit_actions(seeded.alfa_email) == []  # refused before the password was even looked at


def test_csrf_token_is_bound_to_its_own_pre_session(app: FastAPI, seeded: Seeded) -> None:
    """A token read by one visitor (an attacker) does not work with another visitor's cookie."""
    with TestClient(app) as attacker, TestClient(app) as victim:
        stolen_token = csrf_from(attacker.get("/login").text)
        victim.get("/login")
        response = victim.post(
            "/login", data={"email": seeded.alfa_email, "password": seeded.password, "csrf_token": stolen_token}
        )
    assert response.status_code == 403


def test_forged_csrf_token_is_forbidden_in_the_visitors_language(client: TestClient, seeded: Seeded) -> None:
    client.get("/login?lang=en")
    response = client.post("/login", data={"email": "a@b.c", "password": "x", "csrf_token": "forged"})
    assert response.status_code == 403
    assert "The form has expired or came from another site." in response.text


def test_expired_session_cookie_sends_back_to_login(client: TestClient, seeded: Seeded) -> None:
    codec = SessionCodec(seeded.settings.session_secret(), seeded.settings.session_max_age_seconds)
    with platform_session() as session:
        user_id = session.scalars(select(User.id).where(User.email == seeded.alfa_email)).one()

    # Issued (iat) longer ago than the maximum age, though freshly signed.
    old, _ = codec.issue(user_id, now=time.time() - seeded.settings.session_max_age_seconds - 5)

    # Signed long ago by itsdangerous's own clock, though the payload claims to be new.
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seeded.settings.session_max_age_seconds - 5

    stale_signature = URLSafeTimedSerializer(
        seeded.settings.session_secret(), salt=SESSION_SALT, signer=PastSigner
    ).dumps({"uid": user_id, "iat": int(time.time()), "sid": "x"})
    fresh, _ = codec.issue(user_id)

    tampered = fresh[:-2] + ("yy" if fresh.endswith("xx") else "xx")  # never the token itself (1 in 4,096 was)
    for token in (old, stale_signature, tampered):
        client.cookies.set(SESSION_COOKIE, token)
        response = client.get("/t/clinica-alfa/", follow_redirects=False)
        assert response.status_code == 303, token
        assert response.headers["location"] == "/login?next=/t/clinica-alfa/&expired=1"
    client.cookies.set(SESSION_COOKIE, fresh)
    assert client.get("/t/clinica-alfa/", follow_redirects=False).status_code == 200


def test_logout_clears_the_session(client: TestClient, seeded: Seeded, login: LoginFn) -> None:
    login(client, seeded.alfa_email, seeded.password)
    page = client.get("/t/clinica-alfa/")

    refused = client.post("/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403  # logout is a form POST too
    assert client.get("/t/clinica-alfa/", follow_redirects=False).status_code == 200

    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?logged_out=1"
    assert client.get("/t/clinica-alfa/", follow_redirects=False).status_code == 303
    assert audit_actions(seeded.alfa_email) == ["login", "logout"]
    assert "Você saiu da sua conta." in client.get("/login?logged_out=1").text


def test_anonymous_pages_redirect_to_login(client: TestClient, seeded: Seeded) -> None:
    for path in ("/t/clinica-alfa/", "/admin/tenants", "/t/does-not-exist/"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_login_returns_to_next_but_never_to_another_site(client: TestClient, seeded: Seeded, login: LoginFn) -> None:
    response = login(client, seeded.alfa_email, seeded.password, next_path="/t/clinica-alfa/?days=7")
    assert response.headers["location"] == "/t/clinica-alfa/?days=7"
    client.cookies.clear()
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = login(client, seeded.alfa_email, seeded.password, next_path=hostile)
        assert response.headers["location"] == "/t/clinica-alfa/", hostile
        client.cookies.clear()


def test_logged_in_user_visiting_login_goes_home(client: TestClient, seeded: Seeded, login: LoginFn) -> None:
    login(client, seeded.admin_email, seeded.password)
    response = client.get("/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/tenants"
