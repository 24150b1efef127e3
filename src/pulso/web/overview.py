"""``GET /t/{slug}/``: the tenant overview page (four KPI cards and the daily chart)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from pulso.api.deps import CurrentTenant, CurrentUser, SessionDep
from pulso.metrics.overview import (
    CHART_METRICS,
    DEFAULT_PERIOD_DAYS,
    PERIOD_CHOICES,
    DailySeries,
    Kpi,
    OverviewParams,
    OverviewQuery,
    OverviewResult,
)
from pulso.web.formatting import format_date, format_duration, format_number, format_percent, format_points
from pulso.web.formatting import format_signed_percent as format_change
from pulso.web.i18n import Locale, resolve_locale, translate
from pulso.web.templating import render

router = APIRouter(include_in_schema=False)

Tone = Literal["good", "bad", "neutral"]


@dataclass(frozen=True)
class KpiCard:
    key: str
    label: str
    value: str
    change: str | None
    tone: Tone
    arrow: str
    note: str | None
    definition: str


def parse_period(days: str | None) -> int:
    """The selector's value; anything else falls back to the default rather than erroring."""
    try:
        value = int(days or "")
    except ValueError:
        return DEFAULT_PERIOD_DAYS
    return value if value in PERIOD_CHOICES else DEFAULT_PERIOD_DAYS


def format_kpi_value(kpi: Kpi, locale: Locale) -> str:
    if kpi.value is None:
        return "—"
    if kpi.unit == "ratio":
        return format_percent(kpi.value, locale)
    if kpi.unit == "seconds":
        return format_duration(kpi.value, locale)
    return format_number(kpi.value, locale)


def kpi_note(kpi: Kpi, result: OverviewResult, locale: Locale) -> str | None:
    if kpi.value is None:
        return translate(locale, "overview.no_data")
    if kpi.key == "leads" and kpi.value:
        return translate(locale, "kpi.leads.open", count=format_number(result.leads_by_stage.get("lead", 0), locale))
    if kpi.key == "lead_conversion" and kpi.denominator:
        return translate(
            locale,
            "kpi.lead_conversion.customers",
            count=format_number(kpi.numerator or 0, locale),
            total=format_number(kpi.denominator, locale),
        )
    if kpi.key == "median_first_response" and kpi.denominator is not None:
        return translate(locale, "kpi.median_first_response.sample", count=format_number(kpi.denominator, locale))
    return None


def kpi_card(kpi: Kpi, result: OverviewResult, locale: Locale) -> KpiCard:
    change = kpi.change
    change_text = None
    if change is not None:
        change_text = format_points(change, locale) if kpi.unit == "ratio" else format_change(change, locale)
    good = kpi.change_is_good
    tone: Tone = "neutral" if good is None else ("good" if good else "bad")
    arrow = "" if change in (None, 0) else ("▲" if (change or 0) > 0 else "▼")
    return KpiCard(
        key=kpi.key,
        label=translate(locale, f"kpi.{kpi.key}"),
        value=format_kpi_value(kpi, locale),
        change=change_text,
        tone=tone,
        arrow=arrow,
        note=kpi_note(kpi, result, locale),
        definition=translate(locale, f"kpi.{kpi.key}.definition"),
    )


def chart_data(daily: DailySeries, locale: Locale) -> dict[str, Any]:
    """What static/js/overview.js needs to draw the chart (read from a JSON script tag, no inline code)."""
    return {
        "x": [day.isoformat() for day in daily.days],
        "series": [
            {"key": metric, "name": translate(locale, f"chart.{metric}"), "y": list(daily.values[metric])}
            for metric in CHART_METRICS
        ],
        "separators": ",." if locale == "pt-BR" else ".,",
        "tickFormat": "%d/%m" if locale == "pt-BR" else "%b %d",
        "hoverFormat": "%d/%m/%Y" if locale == "pt-BR" else "%b %d, %Y",
    }


@router.get("/t/{slug}/")
def overview_page(
    request: Request,
    user: CurrentUser,
    tenant: CurrentTenant,
    session: SessionDep,
    days: str | None = None,
) -> HTMLResponse:
    period = parse_period(days)
    locale = resolve_locale(request, tenant.locale)
    result = OverviewQuery(OverviewParams.last_days(tenant.id, tenant.timezone, period)).run(session)
    date_range = result.date_range
    context = {
        "tenant": tenant,
        "result": result,
        "cards": [kpi_card(kpi, result, locale) for kpi in result.kpis],
        "comparison": translate(locale, "overview.vs_previous", days=date_range.days),
        "range_text": translate(
            locale,
            "overview.range",
            start=format_date(date_range.start, locale),
            end=format_date(date_range.end, locale),
        ),
        "periods": [
            {"days": choice, "label": translate(locale, "overview.days", days=choice), "active": choice == period}
            for choice in PERIOD_CHOICES
        ],
        "chart": chart_data(result.daily, locale) if result.daily else None,
    }
    return render(request, "overview.html", context, locale=locale, user=user)
