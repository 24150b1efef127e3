"""The one place errors become responses: a page for people, JSON for API clients, a redirect to the login
page when a page needs a login."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from pulso.api.deps import login_url
from pulso.api.errors import DomainError, ForbiddenError, LoginRequiredError, NotFoundError
from pulso.web.i18n import resolve_locale, translate
from pulso.web.templating import render

JSON_PREFIXES = ("/api/", "/healthz")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES)


def render_domain_error(request: Request, exc: DomainError) -> Response:
    if wants_json(request):
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status_code)
    if isinstance(exc, LoginRequiredError):
        return RedirectResponse(login_url(exc.next_path, expired=exc.expired), status_code=303)
    locale = resolve_locale(request)
    context = {"status_code": exc.status_code, "message": translate(locale, exc.message_key)}
    return render(request, "error.html", context, locale=locale, status_code=exc.status_code)


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return render_domain_error(request, exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Framework errors (unknown route, wrong method) rendered like domain errors."""
    assert isinstance(exc, HTTPException)
    error: DomainError
    if exc.status_code == 404:
        error = NotFoundError()
    elif exc.status_code == 403:
        error = ForbiddenError()
    else:
        error = DomainError(str(exc.detail))
        error.status_code = exc.status_code
        error.code = "http_error"
    response = render_domain_error(request, error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """A malformed request: the API gets the 422 details, a page a plain 'invalid request'."""
    assert isinstance(exc, RequestValidationError)
    if wants_json(request):
        return JSONResponse({"error": "invalid_request", "detail": exc.errors()}, status_code=422)
    error = DomainError()
    error.status_code = 422
    return render_domain_error(request, error)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """An unexpected error: a calm page (or JSON) without internals; the traceback goes to the server log."""
    error = DomainError()
    error.status_code = 500
    error.code = "server_error"
    error.message_key = "error.server"
    error.message = "Unexpected error."
    return render_domain_error(request, error)
