"""``pulso train leads`` without ``--target`` (the activity lead score) and ``pulso score leads`` with it, as a user
runs them, on the seeded tenant of tests/ml/activity_seed.py (120 leads; with a 30-day horizon, 90 finished)."""

from __future__ import annotations

from functools import partial

import pytest
from typer.testing import CliRunner

from pulso.cli import app
from pulso.config import Settings
from pulso.store.types import utcnow
from tests.metrics.helpers import seeded_tenant
from tests.ml.activity_seed import open_leads, seed_leads

runner = CliRunner()


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def tenant(sqlite_settings: Settings) -> None:
    seeded_tenant(partial(seed_leads, now=utcnow()))


@pytest.mark.usefixtures("tenant")
def test_train_on_activity_then_score_open_leads() -> None:
    code, out = pulso("train", "leads", "--tenant", "t")
    assert code == 2
    assert "error: training data: 30 leads have a known outcome" in " ".join(out.split())  # 90-day horizon

    code, out = pulso("train", "leads", "--tenant", "t", "--horizon-days", "30")
    assert code == 0, out
    assert "trained on the activity of" in out and "leads whose 30-day horizon is over" in out
    for label in ("time split on started_at", "ROC AUC", "A (Alto)", "quartile tiers"):
        assert label in out
    assert "saved lead_score v1 (activity) and made it active" in out

    code, out = pulso("score", "leads", "--tenant", "t")
    assert code == 0, out
    assert f"scored {len(open_leads())} open leads with lead_score v1" in out

    code, out = pulso("train", "list", "--tenant", "t")
    assert code == 0 and "activity" in out


@pytest.mark.usefixtures("tenant")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--window-days", "40", "--horizon-days", "30"), "--window-days: from 1 hour up to the horizon (30 days)"),
        (("--horizon-days", "0"), "--horizon-days: more than 0 and at most 3650, got 0"),
        (("--target", "won", "--window-days", "3"), "--window-days and --horizon-days: only when training on"),
        (("--exclude", "city"), "--exclude and --time-column: only with --target"),
    ],
)
def test_bad_options(args: tuple[str, ...], message: str) -> None:
    code, out = pulso("train", "leads", "--tenant", "t", *args)
    assert code == 2 and message in " ".join(out.split())
