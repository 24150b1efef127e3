"""Throughput of silver.events on synthetic bronze: ~10 events per visitor over a few visits, a third of the
visitors identify (some by e-mail and phone). 10,000 events by default; set PULSO_SILVER_BENCH_EVENTS=100000
for the full measurement. Prints a BENCH line (run with -s)."""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pytest

from pulso.config import Settings
from pulso.store.models import Contact, Event, WebSession
from tests.pipeline.silver.helpers import add_raw, at, count, make_tenant, page, refine, segment

TOTAL = int(os.environ.get("PULSO_SILVER_BENCH_EVENTS", "10000"))  # read now: the settings fixture clears PULSO_*
SOURCES = [
    {"source": "google", "medium": "cpc", "name": "brand"},
    {"source": "facebook", "medium": "paid", "name": "promo"},
    {"source": "newsletter", "medium": "email", "name": "weekly"},
]


def synthetic_bronze(total: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    visitor = 0
    while len(rows) < total:
        visitor += 1
        anon, minute = f"anon-{visitor}", rng.uniform(0, 60 * 24 * 30)
        campaign = rng.choice([*SOURCES, None, None])
        for step in range(10):
            minute += rng.choice([1, 2, 5, 45, 600]) if step else 0
            n = len(rows)
            if step == 4 and visitor % 3 == 0:
                traits = {
                    "email": f"P{visitor}@Example.com",
                    "phone": f"(11) 9{visitor % 10000:04d}-{visitor % 9999:04d}",
                }
                rows.append(segment("identify", f"m{n}", at(minute), anon=anon, user=f"u{visitor}", traits=traits))
            elif step == 6 and visitor % 3 == 0:
                rows.append(segment("track", f"m{n}", at(minute), anon=anon, event="user_signed_up"))
            else:
                extra = {"campaign": campaign} if campaign and step == 0 else {}
                rows.append(page(f"m{n}", at(minute), anon, referrer="https://www.google.com/", **extra))
    return rows[:total]


@pytest.mark.slow
def test_throughput(any_settings: Settings) -> None:
    total = TOTAL
    tenant = make_tenant()
    rows = synthetic_bronze(total)
    for start in range(0, len(rows), 20000):
        add_raw(tenant, rows[start : start + 20000])
    started = time.perf_counter()
    stats = refine(tenant)
    seconds = time.perf_counter() - started
    database = any_settings.resolved_database_url.split(":")[0]
    print(
        f"\nBENCH silver_events_per_second_{database} {total / seconds:.0f} events/s ({total} events, {seconds:.1f} s)"
    )
    print(f"     {stats}")
    assert stats.events == total
    assert count(tenant, Event) == total
    assert count(tenant, Contact) == stats.contacts_created
    assert count(tenant, WebSession) == stats.sessions_created
