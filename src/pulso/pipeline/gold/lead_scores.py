"""Gold job ``gold.lead_scores``: the score updater (:mod:`pulso.ml.leads.updater`), hourly.

Scores the tenant's new and changed open leads with the active activity model, retrains it weekly, and trains
the first one once enough leads have finished. ``since`` is ignored: what changed after each lead's latest score
decides what is rescored.
"""

from __future__ import annotations

import logging
from datetime import date

from pulso.pipeline.registry import Job, register
from pulso.store.session import PulsoSession

log = logging.getLogger(__name__)


def run(session: PulsoSession, since: date | None) -> int:
    """The registered job. Returns rows written (scores, plus a newly trained version)."""
    from pulso.ml.leads.updater import update_lead_scores  # scikit-learn and LightGBM load only when it runs

    result = update_lead_scores(session)
    log.info("gold.lead_scores: %d scored %s, trained %s. %s", result.scored, result.why, result.trained, result.note)
    return result.rows


JOB = register(
    Job(
        name="gold.lead_scores",
        run=run,
        description="Score new and changed open leads with the activity lead score; retrain it weekly.",
        every_minutes=60,
        order=330,  # after gold.conversation_facts (310): first response times come from the facts
    )
)
