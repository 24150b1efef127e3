"""``GET /admin/tenants``: the platform administrator's tenant chooser."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from pulso.api.deps import CurrentUser, PlatformSessionDep
from pulso.api.errors import NotFoundError
from pulso.tenancy.service import list_tenants
from pulso.web.i18n import resolve_locale
from pulso.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/tenants")
def tenants_page(request: Request, user: CurrentUser, session: PlatformSessionDep) -> HTMLResponse:
    if not user.is_platform_admin:
        raise NotFoundError()  # tenant users are not told the page exists
    locale = resolve_locale(request)
    return render(request, "admin_tenants.html", {"tenants": list_tenants(session)}, locale=locale, user=user)
