"""The worker schedules every registered job and runs it for every active tenant."""

from __future__ import annotations

import time

from apscheduler.schedulers.background import BackgroundScheduler

from pulso.config import Settings
from pulso.pipeline.registry import registered_jobs
from pulso.pipeline.runner import recent_runs
from pulso.pipeline.worker import schedule_jobs
from pulso.store import platform_session
from pulso.tenancy.service import create_tenant


def test_worker_runs_jobs_on_schedule(sqlite_settings: Settings) -> None:
    with platform_session() as session:
        create_tenant(session, slug="a", name="A")
        create_tenant(session, slug="b", name="B")
    scheduler = BackgroundScheduler(timezone="UTC")
    names = schedule_jobs(scheduler, interval_override_seconds=0.5)
    assert names == [job.name for job in registered_jobs()]
    scheduler.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(recent_runs(100)) < 4:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    runs = recent_runs(100)
    assert len(runs) >= 4, "the interval trigger fired at least twice for both tenants"
    assert {r.status for r in runs} == {"succeeded"}
    assert {r.tenant_id for r in runs} == {1, 2}
