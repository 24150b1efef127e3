"""MLflow logging of saved model versions: nothing without the setting; a full run (params, metrics, tags, the model
artifact) with it; a failing tracking server does not lose the version."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest

from pulso.config import Settings, get_settings
from pulso.ml import tracking
from pulso.ml.leads import registry
from pulso.store import platform_session, tenant_session
from pulso.tenancy.service import create_tenant

mlflow = pytest.importorskip("mlflow", reason="MLflow is the optional extra pulso[mlflow] (make test installs it)")


@pytest.fixture
def tenant_id(sqlite_settings: Settings) -> int:
    with platform_session() as session:
        return int(create_tenant(session, slug="clinica", name="Clínica").id)


def _save(tenant_id: int) -> tuple[str, int]:
    with tenant_session(tenant_id) as session:
        row = registry.save_version(
            session,
            {"weights": [1.0, 2.0]},
            params={"target": "converted", "exclude": ["duration"], "scorer": {"n_estimators": 200}},
            features=["age", "job=admin."],
            metrics={"roc_auc": 0.81, "candidate_roc_auc": {"lightgbm": 0.8, "logistic": 0.78}, "split": "time"},
            training_start=None,
            training_end=None,
            data_hash="abc",
        )
        return row.version, row.id


def _track(monkeypatch: pytest.MonkeyPatch, uri: str) -> None:
    monkeypatch.setenv("PULSO_MLFLOW_TRACKING_URI", uri)
    get_settings.cache_clear()


def test_without_the_setting_nothing_is_logged(tenant_id: int, tmp_path: Path) -> None:
    assert tracking.tracking_uri() is None
    assert _save(tenant_id) == ("v1", 1)
    assert not list(tmp_path.glob("**/mlruns"))


def test_a_saved_version_becomes_an_mlflow_run(tenant_id: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # the file store: no server, no migrations, fast
    uri = (tmp_path / "mlruns").as_uri()
    _track(monkeypatch, uri)
    version, _ = _save(tenant_id)
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("pulso/clinica/lead_score")
    assert experiment is not None
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == version == "v1"
    assert run.info.status == "FINISHED"
    assert run.data.params == {
        "target": "converted",
        "exclude": '["duration"]',
        "scorer.n_estimators": "200",
    }
    assert run.data.metrics == {
        "roc_auc": 0.81,
        "candidate_roc_auc.lightgbm": 0.8,
        "candidate_roc_auc.logistic": 0.78,
    }
    assert run.data.tags["pulso.tenant"] == "clinica"
    assert run.data.tags["pulso.data_hash"] == "abc"
    folder = Path(client.download_artifacts(run.info.run_id, "model", str(tmp_path / "download")))
    artifact = pickle.loads((folder / "model.pkl").read_bytes())
    assert artifact.model == {"weights": [1.0, 2.0]}
    assert json.loads((folder / "features.json").read_text()) == ["age", "job=admin."]
    assert json.loads((folder / "metrics.json").read_text())["split"] == "time"
    # a second version is a second run in the same experiment
    assert _save(tenant_id)[0] == "v2"
    assert sorted(r.info.run_name for r in client.search_runs([experiment.experiment_id])) == ["v1", "v2"]


def test_a_failing_tracking_server_keeps_the_version(
    tenant_id: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    _track(monkeypatch, "http://127.0.0.1:9")  # discard port: nothing listens, the connection is refused
    with caplog.at_level(logging.WARNING, logger="pulso.ml.tracking"):
        _, row_id = _save(tenant_id)
    assert "MLflow logging of lead_score v1 for clinica failed" in caplog.text
    with tenant_session(tenant_id) as session:
        assert registry.active_version(session).id == row_id


def test_flattening_keeps_numbers_and_names_mlflow_accepts() -> None:
    metrics = {"a": {"b": 1, "c": float("nan"), "d": True}, "e (x)": 2.5, "f": "text", "g": [1, 2]}
    assert tracking.numeric_metrics(metrics) == {"a.b": 1.0, "e _x_": 2.5}
    assert tracking.text_params({"p": {"q": [1, 2]}, "r": "x" * 7000}) == {"p.q": "[1, 2]", "r": "x" * 6000}
