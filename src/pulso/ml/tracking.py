"""MLflow: every model version the registry saves is also logged to MLflow when ``PULSO_MLFLOW_TRACKING_URI`` is set.

Nothing is needed otherwise: without the setting this module does nothing and never imports mlflow. With it, each
saved version becomes one run in the experiment ``pulso/<tenant slug>/<kind>``, named after the version (``v3``),
with:

- parameters: the version's training parameters, flattened (``scorer.n_estimators``), values cut at 6,000 characters
  (MLflow's limit);
- metrics: every number in the version's metrics, flattened the same way (``candidate_roc_auc.lightgbm``);
- tags: tenant, kind, version, code version, data hash and training window;
- artifacts: ``model/model.pkl`` (the same pickled artifact the registry stores, loadable with
  :func:`pulso.ml.leads.registry.load_model`'s checks), ``model/features.json`` and ``model/metrics.json``.

MLflow is optional (``pip install 'pulso[mlflow]'``, the ``mlflow-skinny`` client). Setting the URI without it is a
configuration error and says so. A tracking server that fails while logging does not undo the training: the version
stays in Pulso's registry, the failure is logged as a warning and :func:`log_version` returns None.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pulso.config import get_settings
from pulso.errors import ConfigurationError
from pulso.store.models import ModelVersion, Tenant
from pulso.store.session import PulsoSession

log = logging.getLogger(__name__)

MAX_PARAM_CHARS = 6000


def tracking_uri() -> str | None:
    return get_settings().mlflow_tracking_uri or None


def flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` -> ``("a.b", 1)``; lists and other values are leaves."""
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{name}.")
        else:
            yield name, value


def numeric_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers among the flattened metrics (booleans and text are left to metrics.json)."""
    found = {}
    for name, value in flatten(metrics):
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(value):
            found[_metric_name(name)] = float(value)
    return found


def text_params(params: Mapping[str, Any]) -> dict[str, str]:
    return {_metric_name(name): _text(value)[:MAX_PARAM_CHARS] for name, value in flatten(params)}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)


def _metric_name(name: str) -> str:
    """MLflow names allow letters, digits, ``_ - . / :`` and spaces; anything else becomes ``_``."""
    return "".join(c if c.isalnum() or c in "_-./: " else "_" for c in name)


def log_version(session: PulsoSession, row: ModelVersion) -> str | None:
    """Log ``row`` as an MLflow run when tracking is configured; returns the run id (None when not logged)."""
    uri = tracking_uri()
    if uri is None:
        return None
    try:
        import mlflow
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise ConfigurationError(
            "PULSO_MLFLOW_TRACKING_URI is set but MLflow is not installed: pip install 'pulso[mlflow]'"
        ) from exc
    slug = session.get_one(Tenant, row.tenant_id).slug
    experiment_name = f"pulso/{slug}/{row.kind}"
    try:
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(experiment_name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(experiment_name)
        run = client.create_run(experiment_id, run_name=row.version, tags=_tags(slug, row))
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[mlflow.entities.Metric(k, v, _millis(row), 0) for k, v in numeric_metrics(row.metrics).items()],
            params=[mlflow.entities.Param(k, v) for k, v in text_params(row.params).items()],
        )
        with tempfile.TemporaryDirectory() as folder:
            model_dir = Path(folder) / "model"
            model_dir.mkdir()
            (model_dir / "model.pkl").write_bytes(row.artifact or b"")
            (model_dir / "features.json").write_text(json.dumps(list(row.features)))
            (model_dir / "metrics.json").write_text(json.dumps(row.metrics, default=str, indent=2, sort_keys=True))
            client.log_artifacts(run_id, str(model_dir), artifact_path="model")
        client.set_terminated(run_id)
    except Exception as exc:  # tracking is secondary: the registry already holds the version
        log.warning("MLflow logging of %s %s for %s failed: %s", row.kind, row.version, slug, exc)
        return None
    return str(run_id)


def _tags(slug: str, row: ModelVersion) -> dict[str, str]:
    tags = {
        "pulso.tenant": slug,
        "pulso.kind": row.kind,
        "pulso.version": row.version,
        "pulso.code_version": row.code_version,
        "pulso.data_hash": row.data_hash,
    }
    if row.training_start is not None:
        tags["pulso.training_start"] = row.training_start.isoformat()
    if row.training_end is not None:
        tags["pulso.training_end"] = row.training_end.isoformat()
    return tags


def _millis(row: ModelVersion) -> int:
    return int(row.created_at.timestamp() * 1000) if row.created_at else 0
