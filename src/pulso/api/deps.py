"""FastAPI dependencies with short aliases: ``SettingsDep``, ``PlatformSessionDep``, ``SessionDep`` (the
current tenant's unit of work), ``OptionalUser``, ``CurrentUser``, ``CurrentTenant`` and ``CsrfChecked``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from sqlalchemy import Engine

from pulso.api.errors import CsrfError, LoginRequiredError, NotFoundError
from pulso.config import Settings
from pulso.security import csrf
from pulso.security.sessions import SESSION_COOKIE, AuthenticatedUser, SessionCodec, SessionData, active_user
from pulso.store.engine import app_engine
from pulso.store.session import PulsoSession, platform_session, tenant_session
from pulso.tenancy.service import ValidationError, get_tenant


@dataclass(frozen=True)
class TenantContext:
    """The tenant a page is about (a detached snapshot of the row)."""

    id: int
    slug: str
    name: str
    timezone: str
    locale: str
    currency: str


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def engine_of(request: Request) -> Engine:
    return app_engine(get_settings(request))


def secret_of(request: Request) -> str:
    secret: str = request.app.state.secret
    return secret


def session_codec(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.session_codec
    return codec


def get_platform_session(request: Request) -> Iterator[PulsoSession]:
    with platform_session(engine=engine_of(request)) as session:
        yield session


PlatformSessionDep = Annotated[PulsoSession, Depends(get_platform_session)]


def request_session(request: Request) -> SessionData | None:
    """The valid session cookie of this request (read once, then cached on the request)."""
    if "pulso_session_data" not in request.scope:
        cookie = request.cookies.get(SESSION_COOKIE)
        request.scope["pulso_session_data"] = session_codec(request).read(cookie)
    data: SessionData | None = request.scope["pulso_session_data"]
    return data


def get_optional_user(request: Request) -> AuthenticatedUser | None:
    data = request_session(request)
    if data is None:
        return None
    with platform_session(engine=engine_of(request)) as session:
        return active_user(session, data.user_id)


OptionalUser = Annotated[AuthenticatedUser | None, Depends(get_optional_user)]


def get_current_user(request: Request, user: OptionalUser) -> AuthenticatedUser:
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequiredError(next_path=path, expired=SESSION_COOKIE in request.cookies)
    return user


CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]


def get_current_tenant(slug: str, user: CurrentUser, session: PlatformSessionDep) -> TenantContext:
    """The tenant in the path, if this user may see it; otherwise 404, whether it exists or not."""
    try:
        tenant = get_tenant(session, slug)
    except ValidationError:
        raise NotFoundError() from None
    if not user.can_view_tenant(tenant.id) or not (tenant.is_active or user.is_platform_admin):
        raise NotFoundError()
    return TenantContext(tenant.id, tenant.slug, tenant.name, tenant.timezone, tenant.locale, tenant.currency)


CurrentTenant = Annotated[TenantContext, Depends(get_current_tenant)]


def get_tenant_session(request: Request, tenant: CurrentTenant) -> Iterator[PulsoSession]:
    with tenant_session(tenant.id, engine=engine_of(request)) as session:
        yield session


SessionDep = Annotated[PulsoSession, Depends(get_tenant_session)]


# ---------------------------------------------------------------- CSRF


def csrf_binding(request: Request) -> str:
    """What this request's CSRF token is bound to: the session when logged in, else the pre-session cookie."""
    data = request_session(request)
    if data is not None:
        return csrf.session_binding(data.session_id)
    request.scope["pulso_pre_session_used"] = True  # the middleware then sets the cookie if it is new
    return csrf.pre_session_binding(request.scope["pulso_pre_session"])


def csrf_token(request: Request) -> str:
    """The token a form rendered for this request must carry."""
    return csrf.token_for(secret_of(request), csrf_binding(request))


def check_csrf(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> None:
    if not csrf.token_matches(secret_of(request), csrf_binding(request), csrf_token):
        raise CsrfError()


CsrfChecked = Annotated[None, Depends(check_csrf)]


def safe_next(path: str | None) -> str | None:
    """A same-site path to return to after login, or None (an absolute or protocol-relative URL is refused)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or any(c < " " for c in path):
        return None
    return path


def login_url(next_path: str | None = None, *, expired: bool = False) -> str:
    query = {"next": target} if (target := safe_next(next_path)) not in (None, "/") else {}
    if expired:
        query["expired"] = "1"
    return "/login" + (f"?{urlencode(query, safe='/')}" if query else "")


def home_path(user: AuthenticatedUser) -> str:
    if user.is_platform_admin:
        return "/admin/tenants"
    return f"/t/{user.tenant_slug}/"
