"""The model registry on SQLite and PostgreSQL: versions, activation, rollback, guarded loading, tenants apart."""

from __future__ import annotations

import pickle

import pytest
from sqlalchemy import update

from pulso.config import Settings
from pulso.errors import InvalidInputError, NotFoundError
from pulso.ml.leads import registry
from pulso.store import platform_session, tenant_session
from pulso.store.models import ModelVersion
from pulso.tenancy.service import create_tenant


@pytest.fixture
def tenants(any_settings: Settings) -> tuple[int, int]:
    with platform_session() as session:
        one = create_tenant(session, slug="loja", name="Loja")
        two = create_tenant(session, slug="outra", name="Outra")
        return int(one.id), int(two.id)


def _save(tenant_id: int, model: object, auc: float, data_hash: str = "h") -> str:
    with tenant_session(tenant_id) as session:
        row = registry.save_version(
            session,
            model,
            params={"target": "converted"},
            features=["a", "b"],
            metrics={"roc_auc": auc},
            training_start=None,
            training_end=None,
            data_hash=data_hash,
        )
        return row.version


def _active(tenant_id: int) -> tuple[str, object]:
    with tenant_session(tenant_id) as session:
        row = registry.active_version(session)
        return row.version, registry.load_model(row)


def test_versions_activate_and_roll_back(tenants: tuple[int, int]) -> None:
    one, two = tenants
    assert _save(one, {"model": 1}, 0.8) == "v1"
    assert _save(one, {"model": 2}, 0.7) == "v2"
    assert _active(one) == ("v2", {"model": 2})  # a new version becomes the active one
    with tenant_session(one) as session:
        registry.activate_version(session, "v1")  # rollback
    assert _active(one) == ("v1", {"model": 1})
    with tenant_session(one) as session:
        rows = registry.list_versions(session)
        assert [(r.version, r.is_active, r.metrics["roc_auc"]) for r in rows] == [("v1", True, 0.8), ("v2", False, 0.7)]
        assert rows[0].code_version.startswith("0.")
    # the other tenant has its own numbering and sees none of these
    with tenant_session(two) as session:
        assert registry.list_versions(session) == []
        with pytest.raises(NotFoundError, match="no active lead_score model; train one first"):
            registry.active_version(session)
        with pytest.raises(NotFoundError, match="--version: no lead_score model 'v1'; versions: none yet"):
            registry.activate_version(session, "v1")
    assert _save(two, {"model": 3}, 0.9) == "v1"
    assert _active(one) == ("v1", {"model": 1})


def test_unknown_version_lists_the_known_ones(tenants: tuple[int, int]) -> None:
    one, _two = tenants
    _save(one, {}, 0.5)
    with tenant_session(one) as session, pytest.raises(NotFoundError, match="'v9'; versions: v1"):
        registry.activate_version(session, "v9")


def test_loading_refuses_an_artifact_that_disagrees_with_its_row(tenants: tuple[int, int]) -> None:
    one, _two = tenants
    _save(one, {"model": 1}, 0.8, data_hash="abc")
    with tenant_session(one) as session:
        session.execute(update(ModelVersion).values(data_hash="other"))
    with tenant_session(one) as session, pytest.raises(InvalidInputError, match="data hash differ"):
        registry.load_model(registry.active_version(session))
    with tenant_session(one) as session:
        session.execute(update(ModelVersion).values(artifact=pickle.dumps({"not": "an artifact"})))
    with tenant_session(one) as session, pytest.raises(InvalidInputError, match="not a saved Pulso model"):
        registry.load_model(registry.active_version(session))
