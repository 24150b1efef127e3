"""``pulso train churn`` and ``pulso score churn`` as a user runs them, on the planted churn world (SQLite)."""

from __future__ import annotations

import re
from datetime import timedelta

from typer.testing import CliRunner

from pulso.cli import app
from pulso.config import Settings
from pulso.store.session import platform_session
from pulso.store.types import utcnow
from pulso.tenancy.service import create_tenant
from tests.ml.churn_world import seed_churn_world

runner = CliRunner()


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_train_then_score(sqlite_settings: Settings) -> None:
    with platform_session() as session:
        tenant = create_tenant(session, slug="loja", name="Loja").id
        create_tenant(session, slug="vazia", name="Vazia")
    seed_churn_world(tenant, utcnow() - timedelta(hours=1))

    code, out = pulso("score", "churn", "--tenant", "loja")
    assert (code, out.strip()) == (2, "error: no active churn model; train one first (pulso train churn --tenant SLUG)")
    code, out = pulso("train", "churn", "--tenant", "vazia")
    assert code == 2 and "error: customers: 0 with a purchase before" in out
    code, out = pulso("train", "churn", "--tenant", "loja", "--horizon-days", "0")
    assert code == 2 and "--horizon-days: between 1 and 3660, got 0" in out

    code, out = pulso("train", "churn", "--tenant", "loja")
    assert code == 0, out
    assert "stratified random split (seed 0) of the 160 customers at as_of: validation = 32 customers" in out
    for label in ("ROC AUC", "BG/NBD 1 - P(alive) (baseline)", "PR AUC", "top-decile lift"):
        assert label in out
    assert "churned in 90 days (validation)" in out and "saved churn v1 and made it active" in out

    code, out = pulso("score", "churn", "--tenant", "loja", "--top", "3")
    assert code == 0, out
    assert "scored 160 customers with churn v1" in out
    assert len(re.findall(r"│ Customer \d+ ", out)) == 3 and "No message in the last 30 days (raises)" in out
    code, out = pulso("score", "churn", "--tenant", "loja", "--top", "0")
    assert (code, out.strip()) == (2, "error: --top: between 1 and 1000, got 0")

    # the registry commands take the kind: list, and roll back (here: re-activate) a churn version
    code, out = pulso("train", "list", "--tenant", "loja", "--kind", "churn")
    assert code == 0 and re.search(r"│ \* +│ v1 ", out), out
    code, out = pulso("train", "list", "--tenant", "loja")  # lead_score by default: the churn model is not one
    assert code == 0 and "no lead_score versions yet" in out
    code, out = pulso("train", "activate", "--tenant", "loja", "--kind", "churn", "--version", "v1")
    assert code == 0 and out.startswith("active churn model: v1 (ROC AUC 0."), out
    code, out = pulso("train", "activate", "--tenant", "loja", "--kind", "churn", "--version", "v9")
    assert (code, out.strip()) == (2, "error: --version: no churn model 'v9'; versions: v1")
    code, out = pulso("train", "list", "--tenant", "loja", "--kind", "leads")
    assert (code, out.strip()) == (2, "error: --kind: must be one of lead_score, churn, clv, got 'leads'")
