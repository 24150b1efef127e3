"""``pulso import contacts`` then ``pulso train leads|list|activate`` and ``pulso score leads``, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pulso.cli import app
from pulso.config import Settings
from pulso.store import platform_session, tenant_session
from pulso.store.models import LeadScore, ModelVersion
from pulso.tenancy.service import create_tenant
from tests.ml.synthetic import leads

runner = CliRunner()


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def leads_file(sqlite_settings: Settings, tmp_path: Path) -> Path:
    with platform_session() as session:
        create_tenant(session, slug="escola", name="Escola")
    path = tmp_path / "leads.csv"
    leads(n=800, seed=3).to_csv(path, index=False, sep=";")
    return path


def _tenant_id() -> int:
    from pulso.tenancy.service import get_tenant

    with platform_session() as session:
        return int(get_tenant(session, "escola").id)


def test_import_train_list_rollback_and_score(leads_file: Path) -> None:
    code, out = pulso("import", "contacts", str(leads_file), "--tenant", "escola", "--quiet")
    assert code == 2
    assert "has no email, phone or user_id column" in out
    code, out = pulso("import", "contacts", str(leads_file), "--tenant", "escola", "--quiet", "--row-ids")
    assert code == 0, out

    code, out = pulso("train", "leads", "--tenant", "escola", "--target", "Converted", "--exclude", "Noise")
    assert code == 0, out
    assert "random split (stratified, seed 0), not a time split: created_at spans only" in out
    for label in ("ROC AUC", "PR AUC", "Brier score", "top-decile lift", "A (Alto)", "quartile tiers"):
        assert label in out
    assert "saved lead_score v1 and made it active" in out

    code, out = pulso("train", "leads", "--tenant", "escola", "--target", "converted", "--time-column", "First Visit")
    assert code == 0, out
    assert "time split on first_visit: validation = the latest 160 leads" in out
    assert "saved lead_score v2" in out

    code, out = pulso("train", "list", "--tenant", "escola")
    assert code == 0
    lines = [line for line in out.splitlines() if " v1 " in line or " v2 " in line]
    assert "*" not in lines[0] and "random" in lines[0]
    assert "*" in lines[1] and "time" in lines[1]

    code, out = pulso("train", "activate", "--tenant", "escola", "--version", "v1")
    assert code == 0 and "active lead_score model: v1" in out

    code, out = pulso("score", "leads", "--tenant", "escola")
    assert code == 0, out
    assert "scored 800 contacts with lead_score v1 (A " in out
    with tenant_session(_tenant_id()) as session:
        v1 = session.scalar(select(ModelVersion.id).where(ModelVersion.version == "v1"))
        assert session.scalar(select(func.count()).select_from(LeadScore)) == 800
        one = session.scalars(select(LeadScore).limit(1)).one()
        assert one.model_version_id == v1
        assert 0 <= one.score <= 1
        assert one.reasons and {r["direction"] for r in one.reasons} <= {"raises", "lowers"}
        assert all(r["text"].endswith(("(raises)", "(lowers)")) for r in one.reasons)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "leads", "--tenant", "nobody", "--target", "y"], "tenant: no tenant with slug 'nobody'"),
        (["train", "leads", "--tenant", "escola", "--target", "Won"], "--target: no column 'Won'; the tenant's"),
        (
            ["train", "leads", "--tenant", "escola", "--target", "Converted", "--exclude", "Tags"],
            "--exclude: no column 'Tags'",
        ),
        (["train", "activate", "--tenant", "escola", "--version", "v7"], "no lead_score model 'v7'; versions: none"),
        (["score", "leads", "--tenant", "escola"], "no active lead_score model; train one first"),
    ],
)
def test_errors_exit_2_with_one_line(leads_file: Path, args: list[str], message: str) -> None:
    pulso("import", "contacts", str(leads_file), "--tenant", "escola", "--quiet", "--row-ids")
    code, out = pulso(*args)
    assert code == 2
    assert message in " ".join(out.split())


def test_a_tenant_without_contacts_is_told_to_import(leads_file: Path) -> None:
    code, out = pulso("train", "leads", "--tenant", "escola", "--target", "Converted")
    assert code == 2
    assert "the tenant has none; import some first" in out
