"""Gold job ``gold.churn_risk``: daily, score every current customer's churn risk and P(alive) (``churn_scores``).

It retrains the churn model first when the tenant has no active one or the active one is a week old
(:func:`pulso.ml.churn.service.refresh`). A tenant with too few customers or outcomes to train is skipped, and the
log says why; a due retraining that is not possible keeps the previous model. Every run appends a snapshot, so
each customer's score history is kept; ``since`` is ignored (scores are as of now).
"""

from __future__ import annotations

import logging
from datetime import date

from pulso.pipeline.registry import Job, register
from pulso.store.session import PulsoSession

log = logging.getLogger(__name__)


def run_churn_risk(session: PulsoSession, since: date | None) -> int:
    """Retrain when due, score; returns the churn_scores rows written (0 when skipped)."""
    from pulso.ml.churn.service import refresh  # the models load only when the job runs

    outcome = refresh(session)
    if outcome.skipped is not None:
        log.info("gold.churn_risk skipped for tenant %s: %s", session.tenant_id, outcome.skipped)
        return 0
    if outcome.trained is not None:
        version = outcome.trained.version
        log.info("gold.churn_risk trained churn %s for tenant %s", version.version, session.tenant_id)
    if outcome.note:
        log.warning("gold.churn_risk for tenant %s: %s", session.tenant_id, outcome.note)
    return outcome.run.scored if outcome.run is not None else 0


JOB = register(
    Job(
        name="gold.churn_risk",
        run=run_churn_risk,
        description="Churn risk, P(alive) and reasons per customer (retrains the churn model weekly).",
        every_minutes=24 * 60,
        order=400,
    )
)
