"""The model registry: trained versions in ``model_versions``, one active per kind, rollback by activating another.

A version carries what produced it (parameters, feature list, training window, validation metrics, code version,
sha256 of the training frame) and the pickled model. Loading refuses an artifact whose feature list or data hash
disagrees with its row. Sessions are tenant sessions: every query here sees one tenant's versions only.
"""

from __future__ import annotations

import pickle
import subprocess
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

import pulso
from pulso.errors import InvalidInputError, NotFoundError
from pulso.ml import tracking
from pulso.store.models import ModelVersion
from pulso.store.session import PulsoSession

LEAD_KIND = "lead_score"


@dataclass(frozen=True)
class Artifact:
    """The pickled payload: the model plus the facts it must agree with when loaded."""

    model: Any
    features: list[str]
    data_hash: str


@cache
def code_version() -> str:
    """The package version, plus the git commit when running from a checkout (``0.1.0+g1a2b3c4``)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, fixed arguments
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{pulso.__version__}+g{sha}" if sha else pulso.__version__


def save_version(
    session: PulsoSession,
    model: Any,
    *,
    kind: str = LEAD_KIND,
    params: dict[str, Any],
    features: list[str],
    metrics: dict[str, Any],
    training_start: datetime | None,
    training_end: datetime | None,
    data_hash: str,
    activate: bool = True,
) -> ModelVersion:
    """Store a new version (``v1``, ``v2``, ... per kind) and, by default, make it the active one."""
    count = session.scalar(select(func.count()).select_from(ModelVersion).where(ModelVersion.kind == kind)) or 0
    row = ModelVersion(
        tenant_id=session.tenant_id,
        kind=kind,
        version=f"v{count + 1}",
        params=params,
        features=features,
        metrics=metrics,
        training_start=training_start,
        training_end=training_end,
        code_version=code_version(),
        data_hash=data_hash,
        artifact=pickle.dumps(Artifact(model, features, data_hash), protocol=pickle.HIGHEST_PROTOCOL),
        is_active=False,
    )
    session.add(row)
    session.flush()
    if activate:
        activate_version(session, row.version, kind=kind)
    tracking.log_version(session, row)
    return row


def list_versions(session: PulsoSession, kind: str = LEAD_KIND) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).where(ModelVersion.kind == kind).order_by(ModelVersion.id)))


def activate_version(session: PulsoSession, version: str, *, kind: str = LEAD_KIND) -> ModelVersion:
    """Make ``version`` the one in use (rollback = activating an earlier one)."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == version))
    if row is None:
        known = ", ".join(r.version for r in list_versions(session, kind)) or "none yet"
        raise NotFoundError(f"--version: no {kind} model {version!r}; versions: {known}")
    session.execute(
        update(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.id != row.id).values(is_active=False)
    )
    row.is_active = True
    session.flush()
    return row


def active_version(session: PulsoSession, kind: str = LEAD_KIND) -> ModelVersion:
    row = session.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.is_active))
    if row is None:
        raise NotFoundError(f"no active {kind} model; train one first (pulso train leads)")
    return row


def load_model(row: ModelVersion) -> Any:
    """The model saved in ``row``; refuses an artifact that disagrees with the row it is stored in."""
    if row.artifact is None:
        raise InvalidInputError(f"model {row.kind} {row.version}: no artifact stored")
    artifact = pickle.loads(row.artifact)  # noqa: S301 - written by save_version into the tenant's own row
    if not isinstance(artifact, Artifact):
        raise InvalidInputError(f"model {row.kind} {row.version}: the artifact is not a saved Pulso model")
    if artifact.features != list(row.features) or artifact.data_hash != row.data_hash:
        raise InvalidInputError(
            f"model {row.kind} {row.version}: the artifact's features or data hash differ from the registry row"
        )
    return artifact.model
