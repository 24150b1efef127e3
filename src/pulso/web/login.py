"""Logging in and out: ``GET /`` (to the user's home), ``GET|POST /login``, ``POST /logout``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from pulso.api.deps import (
    CsrfChecked,
    OptionalUser,
    SettingsDep,
    check_csrf,
    engine_of,
    home_path,
    safe_next,
    session_codec,
)
from pulso.security.sessions import SESSION_COOKIE, authenticate, record_logout
from pulso.store.session import platform_session
from pulso.web.i18n import resolve_locale, translate
from pulso.web.templating import render

router = APIRouter(include_in_schema=False)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/")
def root(user: OptionalUser) -> RedirectResponse:
    return RedirectResponse(home_path(user) if user else "/login", status_code=303)


@router.get("/login", response_model=None)
def login_form(
    request: Request,
    user: OptionalUser,
    next_path: Annotated[str | None, Query(alias="next")] = None,
    expired: str | None = None,
    logged_out: str | None = None,
) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next_path) or home_path(user), status_code=303)
    locale = resolve_locale(request)
    notice = None
    if expired:
        notice = translate(locale, "login.expired")
    elif logged_out:
        notice = translate(locale, "login.logged_out")
    context = {"next": safe_next(next_path) or "", "email": "", "error": None, "notice": notice}
    return render(request, "login.html", context, locale=locale)


@router.post("/login", response_model=None)
def login_submit(
    request: Request,
    settings: SettingsDep,
    _csrf: CsrfChecked,
    email: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    with platform_session(engine=engine_of(request)) as session:
        user = authenticate(session, email=email, password=password, ip=client_ip(request))
    if user is None:
        locale = resolve_locale(request)
        context = {"next": safe_next(next_path) or "", "email": email, "error": translate(locale, "login.error")}
        return render(request, "login.html", {**context, "notice": None}, locale=locale, status_code=401)
    token, _ = session_codec(request).issue(user.id)
    response = RedirectResponse(safe_next(next_path) or home_path(user), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.env == "production",
        path="/",
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    settings: SettingsDep,
    user: OptionalUser,
    csrf_token: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Without a valid session there is nothing to protect: just clear the cookie."""
    if user is not None:
        check_csrf(request, csrf_token)
        with platform_session(engine=engine_of(request)) as session:
            record_logout(session, user, ip=client_ip(request))
    response = RedirectResponse("/login?logged_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.env == "production")
    return response
