"""Realistic synthetic tenants with known, planted effects: ``pulso demo seed``.

Two tenants: Clínica Sorriso (a dental clinic: WhatsApp/Instagram conversations, leads, bookings, CSAT/NPS,
ad spend) and InsightOS (a SaaS: website tracking events, a signup funnel, monthly subscription payments,
ad spend). The planted effects and their true values are in :mod:`pulso.demo.effects` and docs/demo-data.md.

Same ``seed`` + same ``end_date`` + same ``size`` gives the same rows. Re-running replaces the demo tenants
and the demo logins (owner@sorriso.demo, owner@insightos.demo, super@pulso.demo, password ``pulso-demo``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pulso.config import Settings, get_settings
from pulso.demo.insightos import TENANT as INSIGHTOS
from pulso.demo.insightos import seed_insightos
from pulso.demo.sorriso import TENANT as SORRISO
from pulso.demo.sorriso import seed_sorriso
from pulso.demo.timeline import HISTORY_DAYS, Timeline
from pulso.demo.writer import DEMO_PASSWORD, PLATFORM_ADMIN_EMAIL, create_demo_tenants, progress_sink, reset_demo
from pulso.store.engine import app_engine, refresh_statistics

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_TENANTS",
    "PLATFORM_ADMIN_EMAIL",
    "SIZES",
    "DemoSize",
    "DemoSummary",
    "seed_demo",
]

DEMO_TENANTS = (SORRISO, INSIGHTOS)


@dataclass(frozen=True)
class DemoSize:
    """How much history to generate. Volumes are expected values on an average day (before trend/seasonality)."""

    name: str
    sorriso_leads_per_day: float
    insightos_visitors_per_day: float
    chunk_days: int  # days of history generated and written per transaction (bounds memory)

    def describe(self, seed: int, end_date: date) -> dict[str, object]:
        """What a seeded tenant records about how it was generated (its 'demo' source config)."""
        return {"size": self.name, "seed": seed, "end_date": end_date.isoformat(), "history_days": HISTORY_DAYS}


SIZES: dict[str, DemoSize] = {
    "small": DemoSize("small", sorriso_leads_per_day=12.0, insightos_visitors_per_day=45.0, chunk_days=31),
    "medium": DemoSize("medium", sorriso_leads_per_day=120.0, insightos_visitors_per_day=450.0, chunk_days=14),
    "large": DemoSize("large", sorriso_leads_per_day=430.0, insightos_visitors_per_day=950.0, chunk_days=4),
}


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`pulso.demo.seed_demo` wrote: rows per table for each tenant (by slug), and how long it took."""

    size: str
    seed: int
    end_date: date
    tenants: dict[str, dict[str, int]] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(sum(tables.values()) for tables in self.tenants.values())

    def rows(self, table: str) -> int:
        """Rows of ``table`` across the demo tenants."""
        return sum(tables.get(table, 0) for tables in self.tenants.values())


def seed_demo(
    size: str = "small",
    seed: int = 42,
    *,
    end_date: date | None = None,
    settings: Settings | None = None,
    progress: bool = True,
) -> DemoSummary:
    """Replace the demo tenants with ``size`` worth of history ending at ``end_date`` (exclusive; default today).

    ``end_date`` is the first local day without data, so with the default nothing lies in the future.
    """
    if size not in SIZES:
        raise ValueError(f"size: {size!r} is not one of {', '.join(SIZES)}")
    if seed < 0:
        raise ValueError(f"seed: must be a non-negative integer, got {seed}")
    settings = settings or get_settings()
    started = time.perf_counter()
    spec = SIZES[size]
    end = end_date or datetime.now(ZoneInfo(SORRISO.timezone)).date()
    engine = app_engine(settings)
    tenants: dict[str, dict[str, int]] = {}
    with progress_sink(progress) as sink:
        sink.start("Replacing the demo tenants and logins", 1)
        reset_demo(engine, DEMO_TENANTS)
        tenant_ids = create_demo_tenants(engine, DEMO_TENANTS)
        sink.advance()
        sorriso = seed_sorriso(
            engine, tenant_ids[SORRISO.slug], Timeline.build(end, SORRISO.timezone), spec, seed, sink
        )
        tenants[SORRISO.slug] = {"users": 1, **dict(sorted(sorriso.items()))}
        insightos = seed_insightos(
            engine, tenant_ids[INSIGHTOS.slug], Timeline.build(end, INSIGHTOS.timezone), spec, seed, sink
        )
        tenants[INSIGHTOS.slug] = {"users": 1, **dict(sorted(insightos.items()))}
    refresh_statistics(settings)
    return DemoSummary(
        size=size, seed=seed, end_date=end, tenants=tenants, elapsed_seconds=time.perf_counter() - started
    )
