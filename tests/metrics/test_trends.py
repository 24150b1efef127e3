"""Product trends and the seasonal index on hand-built orders, on SQLite and PostgreSQL.

Time zone America/Sao_Paulo (UTC-3). Completed orders (all at 15:00Z unless said), per local month:

- Limpeza (200): March 2024 2 (03-10, 03-20); January 2025 2; February 3; March 1.
- Implante (4000): March 2023 1; 2024-03-01 02:00Z (local 02-29: February 2024); 2024-04-01 02:00Z (local 03-31:
  March 2024); February 2025 1; March 2025 2.
- Clareamento (1000): 2025-03-01 02:00Z (local 02-28: February); March 2025 1 (and a cancelled one, not counted).
- Kit (50, kind purchase, every other order is a booking): March 2025 1.

Trends, range 2025-02-10..03-20 by month -> widened to February and March, January as the previous period.
Revenue: Limpeza 400 -> 600 (+0.5) -> 200 (-2/3), last change -400; Implante 0 -> 4000 (None) -> 8000 (+1.0), +4000;
Clareamento 0 -> 1000 -> 1000 (0.0), 0; Kit 0 -> 0 -> 50, +50. Growing: Implante, Kit; declining: Limpeza.
Seasonal index of March 2025 (orders). previous_years, K = 2 (March 2024, March 2023): Limpeza 1 / ((2 + 0) / 2) =
100; Implante 2 / ((1 + 1) / 2) = 200; Clareamento and Kit: baseline 0 -> None; all 5 / ((3 + 1) / 2) = 250.
previous_periods, K = 3 (Feb, Jan 2025, Dec 2024): Limpeza 1 / (5/3) = 60, Implante 2 / (1/3) = 600, Clareamento
1 / (1/3) = 300. Implante's orders belong to an Instagram contact, the rest to a WhatsApp one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pulso.config import Settings
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.metrics.trends import SeasonalParams, TrendsParams, TrendsResult, product_trends, seasonal_index
from pulso.store.models import Contact, Order
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


ORDERS = [
    ("Limpeza", 200, utc(2024, 3, 10, 15)), ("Limpeza", 200, utc(2024, 3, 20, 15)),
    ("Limpeza", 200, utc(2025, 1, 10, 15)), ("Limpeza", 200, utc(2025, 1, 20, 15)),
    ("Limpeza", 200, utc(2025, 2, 5, 15)), ("Limpeza", 200, utc(2025, 2, 12, 15)),
    ("Limpeza", 200, utc(2025, 2, 19, 15)),
    ("Limpeza", 200, utc(2025, 3, 5, 15)),
    ("Implante", 4000, utc(2023, 3, 15, 15)), ("Implante", 4000, utc(2024, 3, 1, 2)),
    ("Implante", 4000, utc(2024, 4, 1, 2)), ("Implante", 4000, utc(2025, 2, 14, 15)),
    ("Implante", 4000, utc(2025, 3, 6, 15)), ("Implante", 4000, utc(2025, 3, 20, 15)),
    ("Clareamento", 1000, utc(2025, 3, 1, 2)), ("Clareamento", 1000, utc(2025, 3, 10, 15)),
]  # fmt: skip


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        wa = Contact(name="wa", first_touch_channel="whatsapp")
        ig = Contact(name="ig", first_touch_channel="instagram")
        session.add_all([wa, ig])
        session.flush()
        rows = [(p, a, at, "completed", "booking") for p, a, at in ORDERS]
        rows += [
            ("Clareamento", 1000, utc(2025, 3, 11, 15), "cancelled", "booking"),
            ("Kit", 50, utc(2025, 3, 12, 15), "completed", "purchase"),
        ]
        for number, (product, amount, at, status, kind) in enumerate(rows):
            session.add(
                Order(
                    external_id=f"o{number}", contact_id=(ig if product == "Implante" else wa).id, kind=kind,
                    product=product, amount=Decimal(amount), status=status, ordered_at=at,
                )
            )  # fmt: skip
        return {"wa": wa.id, "ig": ig.id}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def trends(tenant_id: int, **options: object) -> TrendsResult:
    params = TrendsParams(DateRange(date(2025, 2, 10), date(2025, 3, 20)), TZ, **options)  # type: ignore[arg-type]
    with tenant_session(tenant_id) as session:
        return product_trends(session, params)


def test_monthly_revenue_trends(tenant: tuple[int, dict[str, int]]) -> None:
    result = trends(tenant[0])
    assert result.periods == [date(2025, 2, 1), date(2025, 3, 1)]
    assert result.params.date_range == DateRange(date(2025, 2, 1), date(2025, 3, 31))
    assert result.start_utc == utc(2025, 2, 1, 3) and result.end_utc == utc(2025, 4, 1, 3)
    table = {p.product: [(t.orders, t.revenue, t.change) for t in p.points] for p in result.products}
    assert table == {
        "Implante": [(1, 4000.0, None), (2, 8000.0, 1.0)],
        "Clareamento": [(1, 1000.0, None), (1, 1000.0, 0.0)],
        "Limpeza": [(3, 600.0, 0.5), (1, 200.0, pytest.approx(-2 / 3))],
        "Kit": [(0, 0.0, None), (1, 50.0, None)],
    }
    assert [p.product for p in result.products] == ["Implante", "Clareamento", "Limpeza", "Kit"]  # by revenue
    assert [(p.product, p.last_change) for p in result.growing] == [("Implante", 4000.0), ("Kit", 50.0)]
    assert [(p.product, p.last_change) for p in result.declining] == [("Limpeza", -400.0)]


def test_order_trends_kinds_and_filters(tenant: tuple[int, dict[str, int]]) -> None:
    by_orders = trends(tenant[0], measure="orders", top=1)
    assert [(p.product, p.last_change) for p in by_orders.growing] == [("Implante", 1)]  # Kit's +1 ties: by name
    assert [(p.product, p.last_change) for p in by_orders.declining] == [("Limpeza", -2)]
    bookings = trends(tenant[0], kinds=("booking",))
    assert "Kit" not in {p.product for p in bookings.products}
    instagram = trends(tenant[0], filters=Filters(channels=("instagram",)))
    assert [p.product for p in instagram.products] == ["Implante"]


def test_seasonal_index_against_previous_years(tenant: tuple[int, dict[str, int]]) -> None:
    params = SeasonalParams(date(2025, 3, 15), TZ, baseline_periods=2)
    with tenant_session(tenant[0]) as session:
        result = seasonal_index(session, params)
    assert [p.first_day for p in result.baseline] == [date(2024, 3, 1), date(2023, 3, 1)]
    assert result.current.start_utc == utc(2025, 3, 1, 3)
    rows = {row.product: (row.current_orders, row.baseline_orders, row.index) for row in result.products}
    assert rows == {
        "Limpeza": (1, 1.0, 100.0),
        "Implante": (2, 1.0, 200.0),
        "Clareamento": (1, 0.0, None),
        "Kit": (1, 0.0, None),
    }
    assert (result.total.current_orders, result.total.baseline_orders, result.total.index) == (5, 2.0, 250.0)
    revenue = SeasonalParams(date(2025, 3, 15), TZ, baseline_periods=2, measure="revenue")
    with tenant_session(tenant[0]) as session:
        implante = {r.product: r for r in seasonal_index(session, revenue).products}["Implante"]
    assert (implante.current_revenue, implante.baseline_revenue, implante.index) == (8000.0, 4000.0, 200.0)


def test_seasonal_index_against_previous_periods(tenant: tuple[int, dict[str, int]]) -> None:
    params = SeasonalParams(date(2025, 3, 15), TZ, baseline="previous_periods", baseline_periods=3)
    with tenant_session(tenant[0]) as session:
        result = seasonal_index(session, params)
    assert [p.first_day for p in result.baseline] == [date(2025, 2, 1), date(2025, 1, 1), date(2024, 12, 1)]
    rows = {row.product: row.index for row in result.products}
    assert rows["Limpeza"] == pytest.approx(60.0) and rows["Implante"] == pytest.approx(600.0)
    assert rows["Clareamento"] == pytest.approx(300.0) and rows["Kit"] is None


def test_weekly_baselines_and_bad_parameters() -> None:
    weeks = SeasonalParams(date(2025, 3, 15), TZ, period="week", baseline_periods=1).periods()
    assert [p.first_day for p in weeks] == [date(2025, 3, 10), date(2024, 3, 11)]  # 52 weeks back, a Monday
    with pytest.raises(ValueError, match="baseline must be one of previous_years, previous_periods"):
        SeasonalParams(date(2025, 3, 15), TZ, baseline="last_year")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="baseline_periods must be between 1 and 52"):
        SeasonalParams(date(2025, 3, 15), TZ, baseline_periods=0)
    with pytest.raises(ValueError, match="period must be one of week, month"):
        TrendsParams(DateRange(date(2025, 3, 1), date(2025, 3, 2)), TZ, period="day")  # type: ignore[arg-type]
