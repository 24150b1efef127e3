"""Runs jobs for tenants and records every run in ``job_runs`` (status, duration, rows, error)."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from pulso.pipeline.registry import Job, registered_jobs
from pulso.store.models import JobRun, Tenant
from pulso.store.session import platform_session, tenant_session
from pulso.store.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    job: str
    tenant_slug: str
    status: str
    rows: int
    seconds: float
    error: str | None = None


def active_tenants(slug: str | None = None) -> list[tuple[int, str]]:
    with platform_session() as session:
        query = select(Tenant.id, Tenant.slug).where(Tenant.is_active).order_by(Tenant.id)
        if slug is not None:
            query = query.where(Tenant.slug == slug)
        tenants = [(int(i), str(s)) for i, s in session.execute(query).all()]
    if slug is not None and not tenants:
        raise LookupError(f"tenant: no active tenant with slug {slug!r}")
    return tenants


def run_job(job: Job, tenant_id: int, tenant_slug: str, since: date | None = None) -> RunResult:
    """Run one job for one tenant in its own unit of work; the run is recorded whatever happens."""
    params: dict[str, Any] = {"since": since.isoformat() if since else None}
    with platform_session() as session:  # committed now, so a crash mid-job still leaves a 'running' trace
        run = JobRun(tenant_id=tenant_id, job=job.name, status="running", params=params)
        session.add(run)
        session.flush()
        run_id = run.id
    started = time.perf_counter()
    rows, error = 0, None
    try:
        with tenant_session(tenant_id) as session:
            rows = job.run(session, since)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        log.exception("job %s failed for tenant %s", job.name, tenant_slug)
    seconds = time.perf_counter() - started
    status = "failed" if error else "succeeded"
    with platform_session() as session:
        run = session.get_one(JobRun, run_id)
        run.status, run.rows, run.error = status, rows, error
        run.finished_at, run.duration_seconds = utcnow(), seconds
    return RunResult(job.name, tenant_slug, status, rows, seconds, error.splitlines()[0] if error else None)


def run_pipeline(
    tenant_slug: str | None = None, since: date | None = None, job_names: list[str] | None = None
) -> list[RunResult]:
    """Every registered job (or the named ones), for every active tenant (or one), in stage order."""
    jobs = [j for j in registered_jobs() if not job_names or j.name in job_names]
    unknown = set(job_names or []) - {j.name for j in jobs}
    if unknown:
        raise LookupError(f"job: unknown {', '.join(sorted(unknown))}")
    return [run_job(job, tenant_id, slug, since) for tenant_id, slug in active_tenants(tenant_slug) for job in jobs]


def recent_runs(limit: int = 20) -> list[JobRun]:
    with platform_session() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(limit)))
