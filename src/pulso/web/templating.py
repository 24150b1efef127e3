"""Rendering pages: one Jinja2 environment, and a ``render`` that gives every template the translator, the
locale, the CSRF token, the user and language-switch links."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from pulso import __version__
from pulso.api.deps import csrf_token
from pulso.security.csrf import CSRF_FIELD
from pulso.security.sessions import AuthenticatedUser
from pulso.web.i18n import LANG_PARAM, SUPPORTED_LOCALES, Locale, translate

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)

LOCALE_LABELS: dict[Locale, str] = {"pt-BR": "PT", "en": "EN"}


def language_links(request: Request, current: Locale) -> list[dict[str, Any]]:
    """One link per language: the same page with ``?lang=`` set (other query parameters kept)."""
    return [
        {
            "code": code,
            "label": LOCALE_LABELS[code],
            "url": request.url.path + "?" + urlencode({**request.query_params, LANG_PARAM: code}),
            "active": code == current,
        }
        for code in SUPPORTED_LOCALES
    ]


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    locale: Locale,
    user: AuthenticatedUser | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    base: dict[str, Any] = {
        "t": partial(translate, locale),
        "locale": locale,
        "html_lang": "pt-BR" if locale == "pt-BR" else "en",
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "user": user,
        "languages": language_links(request, locale),
        "version": __version__,
    }
    response = templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)
    # Pages show tenant data: no caching, so the back button after logout shows nothing.
    response.headers["cache-control"] = "no-store"
    return response
