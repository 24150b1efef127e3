"""ASGI middleware for the web app: security headers, the pre-session cookie CSRF tokens bind to before
login, and remembering a ``?lang=`` choice in a cookie."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulso.security import csrf
from pulso.web.i18n import LANG_COOKIE, requested_locale

LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
PRE_SESSION_MAX_AGE = 24 * 3600

# Everything is served from this origin: no CDN, no inline script. Plotly writes inline styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "content-security-policy": CONTENT_SECURITY_POLICY,
}


def cookie_header(name: str, value: str, *, max_age: int, secure: bool) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Lax, Secure in production."""
    response = Response()
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")
    return response.headers["set-cookie"]


class WebMiddleware:
    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        existing = request.cookies.get(csrf.PRE_SESSION_COOKIE)
        is_new = existing is None or not csrf.is_valid_nonce(existing)
        scope["pulso_pre_session"] = csrf.new_nonce() if is_new else existing
        chosen_locale = requested_locale(request)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if is_new and scope.get("pulso_pre_session_used"):
                    headers.append(
                        "set-cookie",
                        cookie_header(
                            csrf.PRE_SESSION_COOKIE,
                            scope["pulso_pre_session"],
                            max_age=PRE_SESSION_MAX_AGE,
                            secure=self.secure_cookies,
                        ),
                    )
                if chosen_locale is not None:
                    headers.append(
                        "set-cookie",
                        cookie_header(
                            LANG_COOKIE, chosen_locale, max_age=LANG_COOKIE_MAX_AGE, secure=self.secure_cookies
                        ),
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StaticGZipMiddleware:
    """Compress static assets only: pages hold CSRF tokens next to echoed input, which compression could leak
    (BREACH), and they are small anyway; plotly.min.js shrinks from 4.6 MB to about 1.4 MB."""

    def __init__(self, app: ASGIApp, *, prefix: str = "/static/") -> None:
        self.app = app
        self.prefix = prefix
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
