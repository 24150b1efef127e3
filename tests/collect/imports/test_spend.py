"""Campaign spend: campaigns created once, one row per (channel, campaign, day), re-import replaces."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from pulso.store.models import Campaign, CampaignSpend
from tests.collect.imports.helpers import counts, fetch, run, write

SPEND = (
    "Data,Canal,Campanha,Custo,Impressões,Cliques,utm_source\n"
    '01/02/2026,Google,Verão,"1.500,00",10000,300,google\n'
    '02/02/2026,google,Verão,"0,00",,,\n'
    "02/02/2026,Meta,Verão,250.75,5000,80,facebook\n"
    "03/02/2026,meta,Outono,-10,,,\n"
    "2026-02-04,,Outono,10,,,\n"
    "2026-02-05,meta,Outono,1.234,,,\n"
)


def _spend(tenant_id: int) -> list[tuple[object, ...]]:
    query = (
        select(Campaign.channel, Campaign.name, CampaignSpend.day, CampaignSpend.cost, CampaignSpend.impressions)
        .join(Campaign, Campaign.id == CampaignSpend.campaign_id)
        .order_by(Campaign.channel, CampaignSpend.day)
    )
    return [tuple(r) for r in fetch(tenant_id, query)]


def test_spend_import(tenant_id: int, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    assert counts(run("spend", write(tmp_path, "spend.csv", SPEND), rejects_path=rejects)) == (6, 3, 0, 0, 3)
    assert _spend(tenant_id) == [
        ("google", "Verão", date(2026, 2, 1), Decimal("1500.00"), 10000),
        ("google", "Verão", date(2026, 2, 2), Decimal("0.00"), None),
        ("meta", "Verão", date(2026, 2, 2), Decimal("250.75"), 5000),
    ]
    campaigns = fetch(tenant_id, select(Campaign.channel, Campaign.name, Campaign.utm_source).order_by(Campaign.id))
    assert [tuple(c) for c in campaigns] == [("google", "Verão", "google"), ("meta", "Verão", "facebook")]
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[1:] == [
        "5,cost,cost: '-10' is negative,03/02/2026,meta,Outono,-10,,,",
        "6,channel,channel: missing required field,2026-02-04,,Outono,10,,,",
        "7,cost,\"cost: '1.234' is ambiguous (thousands or decimals?); write 1234 or 1234,00\","
        "2026-02-05,meta,Outono,1.234,,,",
    ]


def test_spend_reimport_replaces_the_day(tenant_id: int, tmp_path: Path) -> None:
    run("spend", write(tmp_path, "spend.csv", SPEND))
    assert counts(run("spend", write(tmp_path, "spend.csv", SPEND))) == (6, 0, 0, 3, 3)
    corrected = SPEND.replace('"0,00"', '"12,00"') + "01/02/2026,google,Verão,1600,10000,300,\n"
    # line 3 changes; the new last line is the same key as line 2 and replaces it (a re-import does not sum)
    assert counts(run("spend", write(tmp_path, "v2.csv", corrected))) == (7, 0, 2, 2, 3)
    assert [row[3] for row in _spend(tenant_id)] == [Decimal("1600.00"), Decimal("12.00"), Decimal("250.75")]
