"""``pulso worker``: runs every registered job for every active tenant on its schedule (APScheduler)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from pulso.pipeline.registry import Job, registered_jobs
from pulso.pipeline.runner import active_tenants, run_job

log = logging.getLogger(__name__)


def run_for_all_tenants(job: Job) -> None:
    for tenant_id, slug in active_tenants():
        result = run_job(job, tenant_id, slug)
        log.info("%s %s: %s, %d rows in %.2fs", job.name, slug, result.status, result.rows, result.seconds)


def schedule_jobs(scheduler: BaseScheduler, interval_override_seconds: float | None = None) -> list[str]:
    """Add one interval trigger per registered job; returns the job names."""
    names = []
    for job in registered_jobs():
        seconds = interval_override_seconds or job.every_minutes * 60
        scheduler.add_job(
            run_for_all_tenants,
            "interval",
            seconds=seconds,
            args=[job],
            id=job.name,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        names.append(job.name)
    return names


def run_worker() -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    names = schedule_jobs(scheduler)
    log.info("worker scheduling: %s", ", ".join(names))
    scheduler.start()
