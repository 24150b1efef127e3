"""First-touch attribution shared by the revenue and acquisition metrics: which group a contact, an order or a
day of campaign spend belongs to, and how many whole weeks or months passed between two instants, in SQL on
SQLite and PostgreSQL alike.

Contacts belong to their first touch (``first_touch_channel`` or ``first_touch_campaign``); orders to their
contact's first touch. Spend belongs to a campaign (``campaigns`` row, unique per channel and name) and reaches
the contacts through the campaign **name**, which is what a UTM tag carries (``utm_campaign`` ->
``first_touch_campaign``). The campaign's own ``channel`` is the ad network of the spend file (``google_ads``,
``meta_ads``) and rarely the contacts' first-touch channel (``paid_search``, ``paid_social`` from the tracker), so a
campaign's spend goes to the first-touch channel most of the contacts it brought share. A campaign no contact
names is *unmatched*: its spend is reported apart (channel view: under its own channel in the unmatched list),
never dropped. Contacts merged into another (``merged_into_id``) are left out: their history moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, cast, extract, func, literal, or_, select

from pulso.metrics.filters import Filters
from pulso.store.models import Campaign, CampaignSpend, Contact
from pulso.store.session import PulsoSession

Breakdown = Literal["channel", "campaign"]
BREAKDOWNS: tuple[Breakdown, ...] = ("channel", "campaign")
Period = Literal["month", "week"]
PERIODS: tuple[Period, ...] = ("month", "week")

ATTRIBUTION = (
    "First touch: a contact, its orders and its revenue belong to the contact's first_touch_channel or "
    "first_touch_campaign (None: no first touch recorded). Spend reaches contacts through the campaign name "
    "(campaigns.name = first_touch_campaign, the utm_campaign); per channel, a campaign's spend goes to the "
    "first-touch channel most of the contacts it brought share (all time, ties by name). Spend of a campaign no "
    "contact names is unmatched and listed apart; orders without a contact are unattributed revenue. Contacts "
    "merged into another are left out."
)


def live_contacts() -> Any:
    """Contacts that were not merged into another one (a merged contact's history moved to the survivor)."""
    return Contact.merged_into_id.is_(None)


def contact_key(breakdown: str) -> Any:
    """The first-touch column a contact is grouped by; ``none`` groups everyone together."""
    if breakdown == "channel":
        return Contact.first_touch_channel
    if breakdown == "campaign":
        return Contact.first_touch_campaign
    return literal(None)


def in_range(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column >= start, column < end)


def campaign_channels() -> Any:
    """Subquery (name, channel): for each campaign name some contact carries as first touch, the first-touch channel
    most of those contacts share (a known channel before none, then the most contacts, then alphabetical)."""
    channel = Contact.first_touch_channel
    ranked = (
        select(
            Contact.first_touch_campaign.label("name"),
            channel.label("channel"),
            func.row_number()
            .over(
                partition_by=Contact.first_touch_campaign,
                order_by=(case((channel.is_(None), 1), else_=0), func.count().desc(), channel),
            )
            .label("rn"),
        )
        .where(Contact.first_touch_campaign.is_not(None), live_contacts())
        .group_by(Contact.first_touch_campaign, channel)
        .subquery()
    )
    return select(ranked.c.name, ranked.c.channel).where(ranked.c.rn == 1).subquery()


@dataclass(frozen=True)
class CampaignCost:
    """What one campaign cost on the days asked for, and where the attribution put it."""

    channel: str  # campaigns.channel, as the spend import named it
    campaign: str
    cost: Decimal
    matched: bool  # some contact carries the campaign as first touch
    first_touch_channel: str | None  # the channel its contacts came through (None when unmatched)
    day: date | None = None  # set when asked per day

    def key(self, breakdown: str) -> str | None:
        if breakdown == "campaign":
            return self.campaign
        if breakdown == "channel":
            return self.first_touch_channel
        return None


def campaign_costs(
    session: PulsoSession, first_day: date, last_day: date, filters: Filters, *, per_day: bool = False
) -> list[CampaignCost]:
    """Spend per campaign (and per day when asked) between two days, both included. Filters: ``campaigns`` keeps
    those names; ``channels`` keeps campaigns whose contacts came through them (unmatched ones: by their own
    channel). The other filters speak of conversations and do not narrow spend."""
    mapping = campaign_channels()
    conditions = [CampaignSpend.day >= first_day, CampaignSpend.day <= last_day]
    if filters.campaigns:
        conditions.append(Campaign.name.in_(filters.campaigns))
    if filters.channels:
        unmatched_by_own = and_(mapping.c.name.is_(None), Campaign.channel.in_(filters.channels))
        conditions.append(or_(mapping.c.channel.in_(filters.channels), unmatched_by_own))
    groups = [Campaign.id, Campaign.channel, Campaign.name, mapping.c.name, mapping.c.channel]
    day = CampaignSpend.day if per_day else literal(None)
    query = (
        select(Campaign.channel, Campaign.name, mapping.c.name, mapping.c.channel, day, func.sum(CampaignSpend.cost))
        .select_from(CampaignSpend)
        .join(Campaign, Campaign.id == CampaignSpend.campaign_id)
        .outerjoin(mapping, mapping.c.name == Campaign.name)
        .where(*conditions)
        .group_by(*groups, *([CampaignSpend.day] if per_day else []))
        .order_by(Campaign.channel, Campaign.name)
    )
    return [
        CampaignCost(channel, name, Decimal(cost or 0), matched is not None, mapped, _as_date(spent_on))
        for channel, name, matched, mapped, spent_on, cost in session.execute(query).all()
    ]


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def periods_elapsed(session: PulsoSession, later: Any, earlier: Any, period: Period) -> Any:
    """Whole weeks (7 x 24 h) or whole calendar months (UTC) from ``earlier`` to ``later``; 0 when ``later`` is
    before ``earlier``. A month has passed on the same day of month and time of day (31 Jan -> 28 Feb: none)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if period == "week":
        if postgres:
            elapsed: Any = cast(func.floor(extract("epoch", later - earlier) / 604800), Integer)
        else:
            seconds = cast(func.strftime("%s", later), Integer) - cast(func.strftime("%s", earlier), Integer)
            elapsed = seconds / 604800  # integer division of a non-negative number
    else:

        def parts(moment: Any) -> tuple[Any, Any]:
            if postgres:
                utc = func.timezone("UTC", moment)
                month = cast(extract("year", utc), Integer) * 12 + cast(extract("month", utc), Integer)
                return month, func.to_char(utc, "DD HH24:MI:SS.MS")
            month = cast(func.strftime("%Y", moment), Integer) * 12 + cast(func.strftime("%m", moment), Integer)
            return month, func.strftime("%d %H:%M:%f", moment)

        later_month, later_rest = parts(later)
        earlier_month, earlier_rest = parts(earlier)
        elapsed = later_month - earlier_month - case((later_rest < earlier_rest, 1), else_=0)
    return case((later < earlier, 0), else_=elapsed)


def fold(rows: Iterable[Sequence[Any]], width: int) -> dict[Any, list[float]]:
    """Sum the ``width`` numbers after the key of rows that share a key."""
    found: dict[Any, list[float]] = defaultdict(lambda: [0.0] * width)
    for key, *numbers in rows:
        found[key] = [a + float(b or 0) for a, b in zip(found[key], numbers, strict=True)]
    return found


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is zero."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator
