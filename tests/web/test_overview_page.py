"""The tenant overview page: the numbers worked out by hand from the seed, tenant walls, admin chooser,
languages, the chart data and the notice when the pipeline has not run."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from .conftest import LoginFn, Seeded

KpiReader = Callable[[str], dict[str, tuple[str, str]]]


def chart_json(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="overview-chart-data">(.*?)</script>', html, re.S)
    assert match, "no chart data on the page"
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_tenant_user_sees_their_numbers_in_pt_br(
    client: TestClient, seeded: Seeded, login: LoginFn, kpis: KpiReader
) -> None:
    login(client, seeded.alfa_email, seeded.password)
    response = client.get("/t/clinica-alfa/")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    # Last 30 days: 5 conversations (replies 120, 200, 300, 600 s; one unanswered) and 4 leads (1 customer);
    # the 30 days before: 2 conversations (600, 1200 s) and 2 leads (1 customer).
    assert kpis(response.text) == {
        "conversations": ("5", "▲ +150,0% vs. 30 dias anteriores"),
        "leads": ("4", "▲ +100,0% vs. 30 dias anteriores"),
        "lead_conversion": ("25,0%", "▼ \u221225,0 p.p. vs. 30 dias anteriores"),
        "median_first_response": ("4 min 10 s", "▼ \u221272,2% vs. 30 dias anteriores"),
    }
    assert "3 ainda em negociação" in response.text
    assert "1 de 4 leads" in response.text
    assert "4 conversas respondidas" in response.text
    # The faster first response is good news (green) although the number went down; conversion fell (red).
    assert re.search(r'data-kpi="median_first_response">.*?delta-good', response.text, re.S)
    assert re.search(r'data-kpi="lead_conversion">.*?delta-bad', response.text, re.S)
    start = (seeded.today - timedelta(days=29)).strftime("%d/%m/%Y")
    assert f"{start} a {seeded.today.strftime('%d/%m/%Y')}" in response.text


def test_chart_reads_daily_metrics_for_the_range(client: TestClient, seeded: Seeded, login: LoginFn) -> None:
    login(client, seeded.alfa_email, seeded.password)
    html = client.get("/t/clinica-alfa/").text

    data = chart_json(html)
    days = data["x"]
    assert isinstance(days, list)
    assert len(days) == 30
    assert days[-1] == seeded.today.isoformat()
    series = {s["key"]: s for s in data["series"]}  # type: ignore[attr-defined]
    assert series["conversations"]["y"] == list(reversed(seeded.alfa_daily_conversations))
    assert data["separators"] == ",."
    assert '<script src="/static/vendor/plotly.min.js' in html
    assert "pulso pipeline run" not in html


def test_period_selector_changes_the_range(client: TestClient, seeded: Seeded, login: LoginFn, kpis: KpiReader) -> None:
    login(client, seeded.alfa_email, seeded.password)
    week = kpis(client.get("/t/clinica-alfa/?days=7").text)
    # Last 7 days: conversations 2, 3, 4, 5 days ago (replies 120, 200, 300 s); the 7 before: 12 days ago (600 s).
    assert week["conversations"] == ("4", "▲ +300,0% vs. 7 dias anteriores")
    assert week["median_first_response"] == ("3 min 20 s", "▼ \u221266,7% vs. 7 dias anteriores")
    assert week["leads"][0] == "3"
    assert kpis(client.get("/t/clinica-alfa/?days=13").text)["conversations"][0] == "5"  # unknown: 30 days


def test_missing_daily_metrics_show_the_pipeline_notice(
    client: TestClient, seeded: Seeded, login: LoginFn, kpis: KpiReader
) -> None:
    login(client, seeded.beta_email, seeded.password)
    html = client.get("/t/loja-beta/").text

    assert 'id="overview-chart"' not in html
    assert "plotly.min.js" not in html
    assert "Ainda não há métricas diárias para este período" in html
    assert "<code>pulso pipeline run</code>" in html
    assert kpis(html) == {
        "conversations": ("9", "sem base de comparação"),
        "leads": ("3", "sem base de comparação"),
        "lead_conversion": ("0,0%", "sem base de comparação"),
        "median_first_response": ("1 min", "sem base de comparação"),
    }


def test_tenant_user_cannot_see_another_tenant(client: TestClient, seeded: Seeded, login: LoginFn) -> None:
    login(client, seeded.alfa_email, seeded.password)
    other = client.get("/t/loja-beta/")
    missing = client.get("/t/no-such-tenant/")

    assert other.status_code == 404
    assert missing.status_code == 404
    # Nothing tells an existing tenant from a made-up one (apart from the path echoed in the language links).
    assert other.text.replace("loja-beta", "?") == missing.text.replace("no-such-tenant", "?")
    assert "Loja Beta" not in other.text
    assert client.get("/admin/tenants").status_code == 404


def test_each_tenant_sees_only_its_own_numbers(
    client: TestClient, seeded: Seeded, login: LoginFn, kpis: KpiReader
) -> None:
    login(client, seeded.beta_email, seeded.password)
    beta = kpis(client.get("/t/loja-beta/").text)
    assert beta["conversations"][0] == "9"
    assert beta["leads"][0] == "3"
    assert client.get("/t/clinica-alfa/").status_code == 404


def test_platform_admin_chooses_among_all_tenants(
    client: TestClient, seeded: Seeded, login: LoginFn, kpis: KpiReader
) -> None:
    response = login(client, seeded.admin_email, seeded.password)
    assert response.headers["location"] == "/admin/tenants"

    chooser = client.get("/admin/tenants").text
    assert 'href="/t/clinica-alfa/"' in chooser
    assert 'href="/t/loja-beta/"' in chooser
    assert "Clínica Alfa" in chooser
    assert "Loja Beta" in chooser

    assert kpis(client.get("/t/clinica-alfa/").text)["conversations"][0] == "5"
    assert kpis(client.get("/t/loja-beta/").text)["conversations"][0] == "9"
    assert "Todos os clientes" in client.get("/t/loja-beta/").text


def test_language_switch_is_remembered(client: TestClient, seeded: Seeded, login: LoginFn, kpis: KpiReader) -> None:
    login(client, seeded.alfa_email, seeded.password)

    english = client.get("/t/clinica-alfa/?lang=en")
    assert "pulso_lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in english.text
    assert kpis(english.text)["lead_conversion"] == ("25.0%", "▼ \u221225.0 pts vs. previous 30 days")
    assert "Lead-to-customer conversion" in english.text

    remembered = client.get("/t/clinica-alfa/")
    assert "Median first response" in remembered.text
    assert chart_json(remembered.text)["separators"] == ".,"

    back = client.get("/t/clinica-alfa/?lang=pt-BR")
    assert "Mediana da 1ª resposta" in back.text
    assert "Mediana da 1ª resposta" in client.get("/t/clinica-alfa/").text


def test_login_page_follows_the_browser_language_until_one_is_chosen(client: TestClient, seeded: Seeded) -> None:
    assert "Entre na sua conta" in client.get("/login").text
    assert "Log in to your account" in client.get("/login", headers={"accept-language": "en-US,en;q=0.9"}).text
    portuguese_first = {"accept-language": "de-DE, pt-BR;q=0.8, en;q=0.5"}
    assert "Entre na sua conta" in client.get("/login", headers=portuguese_first).text
    client.get("/login?lang=pt-BR")
    assert "Entre na sua conta" in client.get("/login", headers={"accept-language": "en"}).text
