"""The jobs Pulso knows. Later stages register theirs with :func:`register`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pulso.store.session import PulsoSession

# A tenant job reads and writes one tenant's data in the given session, from ``since`` (a local date; None means
# everything) onwards, and returns how many rows it wrote. It must give the same result when run again.
TenantJobFunction = Callable[[PulsoSession, date | None], int]


@dataclass(frozen=True)
class Job:
    name: str
    run: TenantJobFunction
    description: str
    every_minutes: int = 60
    order: int = 100  # jobs run in this order within one pipeline run (bronze < silver < gold)


_jobs: dict[str, Job] = {}


def register(job: Job) -> Job:
    if job.name in _jobs and _jobs[job.name] is not job:
        raise ValueError(f"a job named {job.name!r} is already registered")
    _jobs[job.name] = job
    return job


def registered_jobs() -> list[Job]:
    _load_builtin_jobs()
    return sorted(_jobs.values(), key=lambda job: (job.order, job.name))


def get_job(name: str) -> Job:
    _load_builtin_jobs()
    if name not in _jobs:
        raise KeyError(f"unknown job {name!r}; known: {', '.join(sorted(_jobs))}")
    return _jobs[name]


def _load_builtin_jobs() -> None:
    from pulso.connectors.chatwoot import sync  # noqa: F401  (registers on import)
    from pulso.pipeline.gold import (
        churn_risk,  # noqa: F401  (registers on import)
        conversation_facts,  # noqa: F401  (registers on import)
        customer_value,  # noqa: F401  (registers on import)
        daily_metrics,  # noqa: F401  (registers on import)
        lead_scores,  # noqa: F401  (registers on import)
    )
    from pulso.pipeline.silver import events  # noqa: F401  (registers on import)
