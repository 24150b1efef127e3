"""Campaign spend: one row per (channel, campaign, day); a re-import replaces the values of that key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_

from pulso.collect.imports import values
from pulso.collect.imports.fields import Field, KindSpec, ParseContext, Record
from pulso.collect.imports.upsert import Counts, Keyed, upsert
from pulso.store.models import Campaign, CampaignSpend
from pulso.store.session import PulsoSession


def _text(max_length: int) -> Any:
    return lambda value, _context: values.text(value, max_length)


def _lower_text(max_length: int) -> Any:
    return lambda value, _context: values.text(value, max_length).lower()


SPEC = KindSpec(
    name="spend",
    fields=(
        Field("day", lambda v, _c: values.day(v), required=True, aliases=("date", "data", "dia")),
        Field("channel", _lower_text(64), required=True, aliases=("canal", "network", "platform")),
        Field("campaign", _text(200), required=True, aliases=("campaign_name", "campanha")),
        Field("cost", lambda v, _c: values.money(v), required=True, aliases=("spend", "amount", "custo", "valor")),
        Field("currency", lambda v, _c: values.currency(v), aliases=("moeda",), help="default: the tenant's"),
        Field("impressions", lambda v, _c: values.count(v), aliases=("impressoes", "impressões")),
        Field("clicks", lambda v, _c: values.count(v), aliases=("cliques",)),
        Field("utm_source", _text(100), help="stored on the campaign"),
        Field("utm_medium", _text(100), help="stored on the campaign"),
    ),
)


def write(session: PulsoSession, rows: Sequence[tuple[int, Record]], context: ParseContext) -> Counts:
    campaigns: dict[tuple[str, str], dict[str, Any]] = {}
    for _line, record in rows:
        campaign = campaigns.setdefault((record["channel"], record["campaign"]), {})
        campaign.update({"channel": record["channel"], "name": record["campaign"]})
        campaign.update({key: record[key] for key in ("utm_source", "utm_medium") if key in record})
    upsert(session, Campaign, [Campaign.channel, Campaign.name], [Keyed(k, v) for k, v in campaigns.items()])
    campaign_ids = _campaign_ids(session, list(campaigns))
    keyed = []
    for _line, record in rows:
        campaign_id = campaign_ids[(record["channel"], record["campaign"])]
        spend = {
            "campaign_id": campaign_id,
            "day": record["day"],
            "cost": record["cost"],
            "currency": record.get("currency", context.currency),
            "impressions": record.get("impressions"),
            "clicks": record.get("clicks"),
        }
        keyed.append(Keyed((campaign_id, record["day"]), spend))
    return upsert(session, CampaignSpend, [CampaignSpend.campaign_id, CampaignSpend.day], keyed)


def _campaign_ids(session: PulsoSession, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    ids: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), 1000):
        query = select(Campaign.channel, Campaign.name, Campaign.id).where(
            tuple_(Campaign.channel, Campaign.name).in_(keys[start : start + 1000])
        )
        ids.update({(channel, name): int(campaign_id) for channel, name, campaign_id in session.execute(query)})
    return ids
